"""Start-up of ``neurosim run``: a cpu run imports only what it uses, numba still does linear
algebra, and the PNG drawn by the background worker is the PNG drawn in-process.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap

from neurosim.cli import main
from neurosim.io import load
from neurosim.plotting import plot_result
from neurosim.plotting_worker import PlotWorker

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


def run_fresh(code: str, *args: str) -> None:
    """Run ``code`` in a fresh interpreter (this test process has imported
    everything); it prints ``ok`` when its own assertions hold."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_cpu_run_imports_only_what_it_uses(tmp_path):
    run_fresh(CODE, str(tmp_path / "r.h5"))
    assert (tmp_path / "r.h5").exists()


SMALL_CUBA = ["run", "cuba", "--set", "duration=50ms", "--set", "scale=0.1", "--quiet"]


def test_plot_drawn_by_the_worker_is_the_plot_of_the_result_file(tmp_path):
    out = tmp_path / "cuba.h5"
    assert main([*SMALL_CUBA, "--output", str(out)]) == 0
    assert not multiprocessing.active_children()  # the worker was reaped
    # `neurosim plot` draws in this process from the file written.
    assert main(["plot", str(out), "--output", str(tmp_path / "again.png")]) == 0
    assert out.with_suffix(".png").read_bytes() == (tmp_path / "again.png").read_bytes()


def test_plot_error_in_the_worker_is_one_clear_error(tmp_path, capsys):
    out = tmp_path / "cuba.h5"
    out.with_suffix(".png").mkdir()
    assert main([*SMALL_CUBA, "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "cuba.png: it is a folder" in err
    assert not multiprocessing.active_children()


def test_plot_is_drawn_in_process_when_the_worker_is_gone(tmp_path):
    out = tmp_path / "cuba.h5"
    assert main([*SMALL_CUBA, "--no-plot", "--output", str(out)]) == 0
    with PlotWorker() as worker:
        worker._proc.kill()
        worker._proc.join()
        path = worker.plot(load(out), tmp_path / "late.png")
    plot_result(load(out), tmp_path / "here.png")
    assert path.read_bytes() == (tmp_path / "here.png").read_bytes()


def test_a_config_without_plots_stops_the_worker(tmp_path):
    out = tmp_path / "cuba.h5"
    assert main([*SMALL_CUBA, "--set", "output.plots=false", "--output", str(out)]) == 0
    assert out.exists() and not out.with_suffix(".png").exists()
    assert not multiprocessing.active_children()


LIGHT_CLI = textwrap.dedent("""
    import sys
    import neurosim.cli
    heavy = [m for m in ("numba", "pydantic", "h5py", "matplotlib", "neurosim.driver.simulation")
             if m in sys.modules]
    assert not heavy, heavy
    import neurosim
    assert neurosim.load_config.__module__ == "neurosim.config.loader"
    assert "simulate" in dir(neurosim)
    assert neurosim.io.load.__module__ == "neurosim.io.hdf5"  # subpackages on first use too
    try:
        neurosim.no_such_name
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("no AttributeError")
    print("ok")
""")


def test_the_command_line_module_imports_nothing_heavy():
    # So the PNG worker forks before numba and pydantic load (see neurosim.cli._run).
    run_fresh(LIGHT_CLI)


CONSOLE_GC = textwrap.dedent("""
    import gc, sys
    import neurosim.cli as cli

    during_startup = []
    config_run = cli._run_config
    def spy(*args):
        during_startup.append(gc.isenabled())
        return config_run(*args)
    cli._run_config = spy
    sys.argv = ["neurosim", "run", "cuba", "--set", "duration=5ms", "--set", "scale=0.1",
                "--no-plot", "--quiet", "--output", sys.argv[1]]
    assert cli.console_main() == 0
    assert during_startup == [False]
    assert gc.isenabled() and gc.get_freeze_count() > 0
    print("ok")
""")


def test_the_console_command_collects_garbage_only_once_start_up_is_over(tmp_path):
    run_fresh(CONSOLE_GC, str(tmp_path / "r.h5"))


def test_main_called_from_python_leaves_the_collector_alone(tmp_path):
    import gc

    frozen = gc.get_freeze_count()
    assert main([*SMALL_CUBA, "--no-plot", "--output", str(tmp_path / "r.h5")]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
