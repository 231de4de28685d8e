"""Backends: one interface, looked up by name from a plain registry.

A backend takes a built :class:`~neurosim.network.Network` and advances it a
chunk of steps at a time (:class:`~neurosim.backends.base.Backend`); the
engine driver does everything else (inputs, chunking, recording, results).
"""

from __future__ import annotations

from neurosim.backends.base import Backend, ChunkOutput
from neurosim.errors import ConfigError

_REGISTRY: dict[str, type[Backend]] = {}


def register(name: str):
    """Class decorator adding a backend to the registry under ``name``."""

    def add(cls: type[Backend]) -> type[Backend]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def get_backend(name: str) -> type[Backend]:
    """The backend class registered as ``name`` (a :class:`ConfigError` if none)."""
    if name not in _REGISTRY:
        raise ConfigError(f"backend: unknown backend '{name}' (available: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def available_backends() -> list[str]:
    return sorted(_REGISTRY)


from neurosim.backends import cpu  # noqa: E402,F401  (registers "cpu")
from neurosim.backends import crossbar  # noqa: E402,F401  (registers "crossbar")

__all__ = ["Backend", "ChunkOutput", "available_backends", "get_backend", "register"]
