"""Every subpackage ships in the wheel; built-in configs are package data."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "neurosim").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"


def test_builtin_configs_are_package_data():
    names = {p.name for p in resources.files("neurosim.configs").iterdir()}
    assert {"cuba.yaml", "coba.yaml", "cuba_scaled.yaml"} <= names
