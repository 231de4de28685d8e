"""Start-up of ``neurosim run``: a cpu run imports only what it uses; numba still does linear algebra.

Run in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CODE = textwrap.dedent("""
    import sys
    import numpy as np
    from numba import njit
    from neurosim.backends import available_backends
    from neurosim.cli import main

    assert main(["run", "cuba", "--set", "duration=5ms", "--set", "scale=0.1", "--no-plot",
                 "--quiet", "--output", sys.argv[1]]) == 0
    for module in ("neurosim.backends.crossbar", "neurosim.crossbar", "neurosim.backends.torch_backend",
                   "torch", "neurosim.energy", "matplotlib", "scipy.linalg"):
        assert module not in sys.modules, module
    assert available_backends() == ["cpu", "crossbar", "torch"]

    # numba code compiled afterwards in the same process still gets BLAS and
    # np.convolve; the values are worked out by hand.
    dot = njit(lambda a, b: np.dot(a, b))
    conv = njit(lambda a, b: np.convolve(a, b))
    assert dot(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])) == 32.0
    assert conv(np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])).tolist() == [3.0, 10.0, 13.0, 10.0]
    print("ok")
""")


def test_cpu_run_imports_only_what_it_uses(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "r.h5")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    assert (tmp_path / "r.h5").exists()
