"""The package's layers: a module imports only from its own layer or below.

A newcomer can read the architecture off this table (``../shared/DESIGN.md``
explains each layer); an import that runs back up is a failure here, not a
surprise in review.  Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import neurosim

#: Lowest first; a module belongs to the layer of its longest matching prefix.
LAYERS = [
    ["neurosim.errors", "neurosim.units", "neurosim.seeds", "neurosim.numba_settings",
     "neurosim.numba_cache", "neurosim.result", "neurosim.progress", "neurosim.tasks",
     "neurosim.threads"],
    ["neurosim.config.base", "neurosim.config.values", "neurosim.config.crossbar"],
    ["neurosim.models"],
    ["neurosim.config"],
    ["neurosim.network", "neurosim.data"],
    ["neurosim.engine", "neurosim.crossbar"],
    ["neurosim.backends"],
    # The file primitives (atomic result writes, checkpoint files, output locks,
    # recording spools) sit
    # with the driver that checkpoints through them; the task writers stay above.
    ["neurosim.driver", "neurosim.io.hdf5", "neurosim.io.checkpoint", "neurosim.io.lock",
     "neurosim.io.spool"],
    ["neurosim.io", "neurosim.energy", "neurosim.plotting", "neurosim.plotting_worker",
     "neurosim.reservoir", "neurosim.api"],
    ["neurosim.cli", "neurosim"],
]
ROOT = Path(neurosim.__file__).parent


def layer_of(module: str) -> int:
    best, layer = -1, None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), index
    assert layer is not None, f"{module} is in no layer: add it to LAYERS"
    return layer


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text())


def imported(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "neurosim":
            yield from (f"neurosim.{a.name}" for a in node.names)  # from neurosim import seeds
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("neurosim"):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("neurosim"))


def test_no_import_runs_up_a_layer():
    upward = []
    for name, tree in modules():
        own = layer_of(name)
        for target in imported(tree):
            # The bare package (for __version__) is loaded before any of its modules.
            if target != "neurosim" and layer_of(target) > own:
                upward.append(f"{name} (layer {own}) imports {target} (layer {layer_of(target)})")
    assert not upward, "\n".join(upward)
