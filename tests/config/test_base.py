"""The config modules by job, and the way their imports run (no cycle)."""

import ast
from pathlib import Path

import neurosim.config


def _neurosim_imports(module: str) -> set[str]:
    path = Path(neurosim.config.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text())
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("neurosim")}


def test_base_imports_no_other_config_module():
    assert not any(m.startswith("neurosim.config") for m in _neurosim_imports("base"))


def test_sections_import_only_downwards():
    # values < network < run; the crossbar section stands on the base alone.
    assert _neurosim_imports("values") & {"neurosim.config.network", "neurosim.config.run"} == set()
    assert "neurosim.config.run" not in _neurosim_imports("network")
    assert {m for m in _neurosim_imports("crossbar") if m.startswith("neurosim.config")} \
        == {"neurosim.config.base"}


def test_models_give_the_parameter_classes():
    from neurosim.config import load_config_text
    from neurosim.models import get_model

    cfg = load_config_text("duration: 1 ms\npopulations:\n  a: {size: 1, model: alif}\n")
    fields = get_model("alif").params.model_fields
    assert set(cfg.populations["a"].params) == set(fields)
