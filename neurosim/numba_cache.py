"""numba's on-disk cache, invalidated when any of neurosim's kernel sources changes.

numba keys a cached function on the source of the file that defines it, but
the step loops inline kernels from other files (every model's
``update_block``, the counter-based generator, the prefetch): after editing
a model's kernel, the engine's cached loop would silently keep the old one.
These locators (named in ``NUMBA_CACHE_LOCATOR_CLASSES`` by
:mod:`neurosim.numba_settings`) stamp neurosim's functions with a hash of
every kernel source file instead, so any edit recompiles them; functions of
other packages fall through to numba's own locators.  numba versions without
that setting ignore it and keep their per-file stamps.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from numba.core import caching

_PACKAGE = Path(__file__).resolve().parent
#: Folders whose modules hold or are inlined into compiled kernels.
_KERNEL_FOLDERS = ("backends", "crossbar", "data", "engine", "models", "network", "reservoir")


@functools.lru_cache(maxsize=1)
def kernel_sources_stamp() -> bytes:
    """SHA-256 over the kernel folders' Python sources, in path order."""
    digest = hashlib.sha256()
    for folder in _KERNEL_FOLDERS:
        for path in sorted((_PACKAGE / folder).rglob("*.py")):
            digest.update(str(path.relative_to(_PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.digest()


def _ours(py_file: str) -> bool:
    try:
        Path(py_file).resolve().relative_to(_PACKAGE)
    except ValueError:
        return False
    return True


class _PackageStamp:
    """Mixin: neurosim's functions only, stamped with :func:`kernel_sources_stamp`."""

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _ours(py_file):
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return kernel_sources_stamp()


def _locator(name: str):
    base = getattr(caching, name, None) or getattr(caching, f"_{name}")
    return type(f"Package{name}", (_PackageStamp, base), {})


PackageUserProvidedCacheLocator = _locator("UserProvidedCacheLocator")
PackageInTreeCacheLocator = _locator("InTreeCacheLocator")
PackageUserWideCacheLocator = _locator("UserWideCacheLocator")
