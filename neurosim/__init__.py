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
    "Simulation": "neurosim.driver.simulation",
}

__all__ = [
    "ConfigError", "DataError", "NeurosimError", "OutputError", "ResourceError", "Simulation",
    "build", "dump_config", "load_config", "simulate", "__version__",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:  # a subpackage, as ``neurosim.io`` after ``import neurosim``
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'neurosim' has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
