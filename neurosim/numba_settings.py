"""numba settings that must be in place before numba is imported.

numba reads them from the environment when it is imported; a user's own
setting always wins.  :mod:`neurosim` imports this module first.

- ``NUMBA_DISABLE_INTEL_SVML``: bit-identical results for any thread count
  need the same scalar math in every loop: Intel SVML would give vectorised
  exp a different last bit than the remainder loops, whose extent depends on
  the thread split.
- ``GOMP_SPINCOUNT``: threads meet once per time step.  libgomp's default let
  an idle worker sleep at once here (~0.5 ms to wake on a 2-core VM, longer
  than a step); spinning a bounded while first brings a meeting to ~2 us, and
  the worker still sleeps when the engine is idle, leaving the core to others.
- ``NUMBA_CPU_FEATURES``: on CPUs with AVX-512, LLVM's tuning for Intel
  server cores keeps vector loops at 256 bits (``prefer-256-bit``: older
  cores lowered their clock for 512-bit work).  The neuron updates are
  streaming float loops that gain from full width: 1.3x on a 40k-neuron
  update loop here (an Emerald Rapids core).  Only the vector width changes:
  no fast-math, no new contraction, so results stay bit-identical.
- ``NUMBA_CACHE_LOCATOR_CLASSES``: neurosim's cached kernels are stamped with
  all of its kernel sources, not only their own file (see
  :mod:`neurosim.numba_cache`).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
os.environ.setdefault("GOMP_SPINCOUNT", "100000")
# Names of classes, imported by numba when it first caches a function.
os.environ.setdefault("NUMBA_CACHE_LOCATOR_CLASSES", ",".join(
    [f"neurosim.numba_cache.Package{name}" for name in
     ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    + ["UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator",
       "IPythonCacheLocator", "ZipCacheLocator"]))


def full_width_vector_features() -> str | None:
    """The host's CPU features with 512-bit vector loops preferred, or None
    without AVX-512."""
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    if not features.get("avx512f"):
        return None
    return features.flatten() + ",-prefer-256-bit"


if "NUMBA_CPU_FEATURES" not in os.environ and "NUMBA_CPU_NAME" not in os.environ:
    _features = full_width_vector_features()
    if _features:
        os.environ["NUMBA_CPU_FEATURES"] = _features
