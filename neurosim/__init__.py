"""neurosim: an event-driven spiking neural network engine.

Typical use::

    import neurosim
    cfg = neurosim.load_config("cuba", overrides=["duration=2s"])
    result = neurosim.simulate(cfg)
    print(result.mean_rate("exc"))

The names below load on first use, so ``import neurosim.cli`` stays light
until a command needs numba or pydantic (see :func:`neurosim.cli.console_main`).
"""

import importlib

import neurosim.numba_settings  # noqa: F401  (before numba is imported)
from neurosim.errors import ConfigError, DataError, NeurosimError, OutputError, ResourceError

__version__ = "0.1.0"

_LAZY = {
    "build": "neurosim.api",
    "simulate": "neurosim.api",
    "dump_config": "neurosim.config",
    "load_config": "neurosim.config",
    "Simulation": "neurosim.engine.simulation",
}

__all__ = [
    "ConfigError", "DataError", "NeurosimError", "OutputError", "ResourceError", "Simulation",
    "build", "dump_config", "load_config", "simulate", "__version__",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
