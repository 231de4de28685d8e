"""Backends: one interface, looked up by name from a plain registry.

A backend takes a built :class:`~neurosim.network.Network` and advances it a
chunk of steps at a time (:class:`~neurosim.backends.base.Backend`); the
engine driver does everything else (inputs, chunking, recording, results).
"""

from __future__ import annotations

import importlib

from neurosim.backends.base import Backend, ChunkOutput
from neurosim.errors import ConfigError

_REGISTRY: dict[str, type[Backend]] = {}
#: Every backend's module is imported on first use, so a run imports only the
#: backend it uses: ``import neurosim`` must not import torch (an optional
#: dependency), and a cpu run need not pay for the crossbar emulation's modules
#: (start-up time of ``neurosim run``).  Name -> (module, optional dependency
#: or None, pip extra that installs it).
_LAZY = {
    "cpu": ("neurosim.backends.cpu", None, None),
    "crossbar": ("neurosim.backends.crossbar", None, None),
    "torch": ("neurosim.backends.torch_backend", "torch", "neurosim[torch]"),
}


def register(name: str):
    """Class decorator adding a backend to the registry under ``name``."""

    def add(cls: type[Backend]) -> type[Backend]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def get_backend(name: str) -> type[Backend]:
    """The backend class registered as ``name`` (a :class:`ConfigError` if none)."""
    if name not in _REGISTRY and name in _LAZY:
        module, dependency, extra = _LAZY[name]
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if dependency is None or err.name != dependency:
                raise
            raise ConfigError(f"backend: '{name}' needs {dependency}, which is not installed "
                              f"(pip install '{extra}')") from None
    if name not in _REGISTRY:
        raise ConfigError(f"backend: unknown backend '{name}' "
                          f"(available: {', '.join(available_backends())})")
    return _REGISTRY[name]


def check_backend(cfg) -> None:
    """Check a run config's ``backend`` and ``device`` before any work starts."""
    get_backend(cfg.backend).check_device(cfg.device)


def available_backends() -> list[str]:
    """Names a config may use (optional ones included; using one checks its dependency)."""
    return sorted(set(_REGISTRY) | set(_LAZY))


__all__ = ["Backend", "ChunkOutput", "available_backends", "check_backend", "get_backend",
           "register"]
