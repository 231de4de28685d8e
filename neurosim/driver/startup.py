"""Start-up cost of numba for a short run from the command line.

The first call of any compiled function, even one loaded from numba's cache,
makes numba load its implementation registries.  One of them,
``numba.np.arraymath``, probes at import whether SciPy's BLAS is there
(``numba.np.linalg.ensure_blas``) by importing ``scipy.linalg.cython_blas``,
which imports all of ``scipy.linalg`` and, through SciPy's array-API layer,
``numpy.f2py``: about 0.25 s, a sixth of ``neurosim run cuba``.  No kernel of
neurosim does linear algebra.  The probe's answer is only used by numba's
``np.convolve``/``np.correlate`` (a BLAS dot versus a plain loop); ``np.dot``
and ``np.linalg`` check for SciPy again when they are compiled, so they still
work after this.
"""

from __future__ import annotations

import sys

_PROBED = "scipy.linalg.cython_blas"


def load_numba_registries_without_blas_probe() -> None:
    """Import ``numba.np.arraymath`` with SciPy's BLAS hidden from its probe.

    Meant for processes that only run neurosim's own kernels (the CLI):
    numba code compiled later in the same process gets the loop version of
    ``np.convolve``/``np.correlate`` on floats.  Does nothing if numba's
    registries or SciPy's BLAS are already loaded.
    """
    if "numba.np.arraymath" in sys.modules or _PROBED in sys.modules:
        return
    # A None entry makes ``import scipy.linalg.cython_blas`` raise ImportError
    # at once, without importing scipy.linalg (numba catches the ImportError).
    sys.modules[_PROBED] = None
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules[_PROBED]
