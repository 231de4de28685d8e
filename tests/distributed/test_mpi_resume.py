"""A distributed run SIGKILLed under ``mpirun -n 2`` and resumed on 2 ranks writes
the one-process result; a checkpoint is refused on another number of ranks."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from neurosim.io import load
from neurosim.io.checkpoint import read_checkpoint

pytest.importorskip("mpi4py", reason="distributed runs need mpi4py (pip install mpi4py)")
from test_mpi_runs import MPI_ENV, MPIRUN, NEUROSIM, _assert_same, _run  # noqa: E402

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun (apt-get install openmpi-bin)")

#: 200,000 steps: long enough that the kill lands in the middle of the run.
LONG = ["--set=duration=20s"]
#: Give up on a kill that never lands where it should after this long.
PATIENCE_S = 120


def _checkpoints_written(path) -> int:
    try:
        return int(read_checkpoint(path)["checkpoint.number"])
    except Exception:  # not there yet (or being replaced): not ready
        return 0


def _kill_session(leader: int) -> None:
    """SIGKILL ``mpirun`` and its ranks at once, as a lost node would end them (the
    ranks live in process groups of their own: killing ``mpirun`` alone leaves
    them running)."""
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            if os.getsid(pid) == leader:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _errors(job) -> list[str]:
    return [line for line in job.stderr.splitlines() if line.startswith("error:")]


def test_a_killed_run_resumes_on_the_same_ranks_with_the_one_process_result(tmp_path):
    out, ckpt = tmp_path / "two.h5", tmp_path / "two.ckpt"
    command = [MPIRUN, "-n", "2", *NEUROSIM, "run", "cuba", *LONG, "-q", "--no-plot", "-o",
               str(out), "--distributed", "--checkpoint-every", "1s"]
    job = subprocess.Popen(command, env=MPI_ENV, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + PATIENCE_S
    while _checkpoints_written(ckpt) < 3:
        assert job.poll() is None and time.monotonic() < deadline, "ended before the kill"
        time.sleep(0.05)
    _kill_session(job.pid)
    job.wait()
    number = _checkpoints_written(ckpt)
    assert not out.exists() and number < 20

    # Another number of ranks, or one process, cannot continue it: one error each.
    for ranks, hint in ((3, "mpirun -n 2"), (None, "mpirun -n 2")):
        refused = _run(tmp_path / "two.h5", "cuba", *LONG, "--resume", ranks=ranks)
        assert refused.returncode != 0
        assert len(_errors(refused)) == 1, refused.stderr
        assert "2 rank(s)" in _errors(refused)[0] and hint in _errors(refused)[0]
    # The slot of a checkpoint not yet complete on every rank is never read.
    for stale in tmp_path.glob(f"two.rank*-of-2.{(number + 1) % 2}.ckpt"):
        stale.unlink()

    resumed = subprocess.run(command[:-2] + ["--resume"], capture_output=True, text=True,
                             timeout=240, env=MPI_ENV)
    assert resumed.returncode == 0, resumed.stderr
    assert not list(tmp_path.glob("two*.ckpt"))  # the result is saved: checkpoints gone
    one = _run(tmp_path / "one.h5", "cuba", *LONG)
    assert one.returncode == 0, one.stderr
    _assert_same(tmp_path / "one.h5", out)
    assert load(out).metadata["exchanges"] == 200_000  # counted over both parts of the run
