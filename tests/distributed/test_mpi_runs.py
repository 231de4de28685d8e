"""Distributed runs under ``mpirun -n 2``: the same result file as one process.

Each run is a real MPI job (Open MPI's ``mpirun``); skipped where MPI or
mpi4py is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from neurosim.io import load

pytest.importorskip("mpi4py", reason="distributed runs need mpi4py (pip install mpi4py)")
MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun (apt-get install openmpi-bin)")

NEUROSIM = [sys.executable, "-m", "neurosim.cli"]
# Root in CI containers; more ranks than cores on a 2-core machine.
MPI_ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
DELAY_5 = [f"--set=projections.{p}.delay=0.5ms" for p in ("ee", "ei", "ie", "ii")]


def _run(out, config, *settings, ranks: int | None = None, timeout: int = 240):
    command = [*NEUROSIM, "run", config, *settings, "-q", "--no-plot", "-f", "-o", str(out)]
    if ranks is not None:
        command = [MPIRUN, "-n", str(ranks), *command, "--distributed"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=MPI_ENV)


def _assert_same(one, two, ranks: int = 2) -> None:
    a, b = load(one), load(two)
    assert a.spikes.keys() == b.spikes.keys()
    for name in a.spikes:
        assert a.spikes[name].indices.size > 0
        np.testing.assert_array_equal(a.spikes[name].times, b.spikes[name].times)
        np.testing.assert_array_equal(a.spikes[name].indices, b.spikes[name].indices)
    for name in a.rates:
        np.testing.assert_array_equal(a.rates[name], b.rates[name])
    assert a.counters == b.counters
    assert a.metadata["n_synapses"] == b.metadata["n_synapses"]
    assert a.metadata["delivered_events"] == b.metadata["delivered_events"]
    assert b.metadata["ranks"] == ranks
    for proj, weights in (a.weights or {}).items():
        for key in ("pre", "post", "weight"):
            np.testing.assert_array_equal(weights[key], b.weights[proj][key])


@pytest.mark.parametrize("config, settings", [
    ("cuba", ["--set=duration=0.1s"]),
    ("coba", ["--set=duration=0.05s", *DELAY_5]),
    ("cuba_scaled", ["--set=scale=0.5", "--set=duration=0.1s", *DELAY_5]),
    ("cuba_stdp", ["--set=duration=0.05s"]),  # plastic: the saved weights too
], ids=["cuba", "coba-delay5", "cuba_scaled-delay5", "cuba_stdp"])
def test_two_ranks_give_the_one_process_result(tmp_path, config, settings):
    one = _run(tmp_path / "one.h5", config, *settings)
    two = _run(tmp_path / "two.h5", config, *settings, ranks=2)
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    _assert_same(tmp_path / "one.h5", tmp_path / "two.h5")
    if "delay" in " ".join(settings):
        assert load(tmp_path / "two.h5").metadata["exchange_every_steps"] == 5


def test_three_ranks_give_the_one_process_result(tmp_path):
    # Three ascending lists to merge per step, and neurons not dividing evenly.
    settings = ["--set=scale=0.5", "--set=duration=0.1s", *DELAY_5]
    one = _run(tmp_path / "one.h5", "cuba_scaled", *settings)
    three = _run(tmp_path / "three.h5", "cuba_scaled", *settings, ranks=3)
    assert one.returncode == 0, one.stderr
    assert three.returncode == 0, three.stderr
    _assert_same(tmp_path / "one.h5", tmp_path / "three.h5", ranks=3)


def test_a_failing_rank_stops_every_rank_with_one_error(tmp_path):
    # Rank 1 alone is told it has 1 MB: its build fails; rank 0 must not wait for it.
    out = tmp_path / "r.h5"
    command = [*NEUROSIM, "run", "cuba", "--set=duration=0.05s", "-q", "--no-plot", "-o",
               str(out), "--distributed"]
    job = subprocess.run([MPIRUN, "-n", "1", *command, ":", "-n", "1", "env",
                          "NEUROSIM_MEMORY_LIMIT=1MB", *command],
                         capture_output=True, text=True, timeout=240, env=MPI_ENV)
    assert job.returncode != 0
    errors = [line for line in job.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, job.stderr
    assert "rank 1 of 2" in errors[0] and "memory" in errors[0].lower()
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp*"))


def test_an_exchange_interval_beyond_the_minimum_delay_is_refused(tmp_path):
    job = _run(tmp_path / "r.h5", "cuba", "--set=duration=0.05s",
               "--set=distributed.exchange_every=0.3ms", ranks=2)
    assert job.returncode != 0
    errors = [line for line in job.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, job.stderr
    assert "exchange_every" in errors[0] and "minimum delay of 1 step" in errors[0]
    assert not (tmp_path / "r.h5").exists()


def test_recording_to_disk_is_refused_before_any_work(tmp_path):
    job = _run(tmp_path / "r.h5", "cuba", "--set=duration=0.05s", "--set=record.store=disk",
               ranks=2)
    assert job.returncode == 2
    errors = [line for line in job.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "record.store: disk" in errors[0], job.stderr
    assert not any(tmp_path.iterdir())
