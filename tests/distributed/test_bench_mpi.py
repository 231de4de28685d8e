"""``benchmarks/bench_mpi.py`` runs through at a tiny size: every distributed run's
spikes equal the one-process run's (the script fails otherwise), and its rows
hold the split it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py", reason="distributed runs need mpi4py (pip install mpi4py)")
from test_mpi_runs import MPI_ENV, MPIRUN  # noqa: E402

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun (apt-get install openmpi-bin)")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_mpi.py"


def test_bench_mpi_reports_identical_spikes_and_the_exchange_split(tmp_path):
    out = tmp_path / "mpi.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--scales", "0.5", "--duration", "0.05",
                           "--repeats", "1", "--sizes", "0", "100", "--iterations", "10",
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env=MPI_ENV)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    (row,) = data["scales"]
    assert row["identical_spikes"] and set(row["variants"]) == {"1 process", "mpirun -n 1", "mpirun -n 2"}
    two = row["variants"]["mpirun -n 2"]
    assert two["n_neurons"] == 2000 and two["exchanges"] == 500  # 0.05 s, every 0.1 ms step
    assert two["bytes_received_per_step"] > 16  # two counts of 8 bytes, and spike ids
    assert two["compute_us_per_step"] > 0 and two["exchange_us_per_step"] > 0
    assert [g["ids_per_rank"] for g in data["collectives"]] == [0, 100]
    assert all(g["allgatherv_us"] > 0 and g["alltoallv_us"] > 0 for g in data["collectives"])
