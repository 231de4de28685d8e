"""The config base pieces: no import cycle between the schema and its sections."""

import ast
from pathlib import Path

import neurosim.config


def _neurosim_imports(module: str) -> set[str]:
    path = Path(neurosim.config.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text())
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("neurosim")}


def test_sections_import_the_base_not_the_schema():
    assert not any(m.startswith("neurosim.config") for m in _neurosim_imports("base"))
    assert "neurosim.config.schema" not in _neurosim_imports("crossbar")
    assert "neurosim.config.base" in _neurosim_imports("crossbar")


def test_schema_still_exports_the_base_pieces():
    # Section modules on other branches import these from the schema.
    from neurosim.config import base
    from neurosim.config.schema import (NonNegativeTime, Output, PositiveTime, StrictModel,
                                        problems_error, q)

    assert (StrictModel, problems_error, q) == (base.StrictModel, base.problems_error, base.q)
    assert (NonNegativeTime, PositiveTime) == (base.NonNegativeTime, base.PositiveTime)
    assert Output.model_fields
