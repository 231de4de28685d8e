"""One writer per output, and runs that are killed leave nothing running or half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from neurosim.errors import OutputError
from neurosim.io.lock import lock_path, writer_lock

LONG_RUN = ["cuba_scaled", "--set", "scale=10", "--set", "duration=600 s"]


def start(out, *args: str) -> subprocess.Popen:
    """A ``neurosim run`` (its console entry: signals handled as a user's shell sees them)."""
    code = "import sys; from neurosim.cli import console_main; sys.exit(console_main())"
    return subprocess.Popen([sys.executable, "-c", code, "run", *args, "--output", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lock(proc: subprocess.Popen, out) -> None:
    deadline = time.monotonic() + 120
    while not lock_path(out).exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never took its output's lock"
        time.sleep(0.05)


def test_a_second_run_to_the_same_output_is_refused_and_sigterm_cleans_up(tmp_path):
    out = tmp_path / "shared.h5"
    first = start(out, *LONG_RUN)
    try:
        wait_for_lock(first, out)
        second = start(out, "cuba", "--set", "duration=10 ms")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        assert err.strip() == (f"error: {out} is being written by another run (pid "
                               f"{first.pid}); wait for it to end, or choose another --output")
        first.send_signal(signal.SIGTERM)
        # communicate() returns once every holder of the pipes is gone: the
        # plot worker too, or this would time out.
        _, err = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 128 + signal.SIGTERM and err.endswith("terminated\n")
    assert sorted(os.listdir(tmp_path)) == []  # no result, temporary, plot or lock


def test_a_sigkilled_run_leaves_no_process_behind_and_its_output_free(tmp_path):
    out = tmp_path / "killed.h5"
    run = start(out, *LONG_RUN)
    wait_for_lock(run, out)
    run.kill()
    run.communicate(timeout=60)  # EOF on stderr: the forked plot worker ended with it
    again = start(out, "cuba", "--set", "duration=10 ms", "--no-plot")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert sorted(os.listdir(tmp_path)) == ["killed.h5"]


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    out = tmp_path / "sub" / "deeper" / "x.h5"
    with writer_lock(out):
        assert lock_path(out).read_text() == str(os.getpid())
        with pytest.raises(OutputError, match="is being written by another run"):
            with writer_lock(out):
                pass
    # Released: the lock file and the folders it needed are gone, and it can be taken again.
    assert not (tmp_path / "sub").exists()
    with writer_lock(out):
        pass


def test_neurosim_train_does_not_overwrite_a_result_unasked(tmp_path, capsys):
    from neurosim.cli import main

    out = tmp_path / "trained.h5"
    out.write_bytes(b"an earlier result")
    assert main(["train", "snn_fashion", "-o", str(out)]) == 2
    assert "already exists; choose another --output, or add --force" in capsys.readouterr().err
    assert out.read_bytes() == b"an earlier result"
    assert sorted(os.listdir(tmp_path)) == ["trained.h5"]  # no lock or temporary left


def test_a_killed_runs_checkpoint_stops_a_fresh_run_but_a_training_checkpoint_does_not(
        tmp_path, capsys):
    from neurosim.cli import main

    (tmp_path / "net.ckpt").write_bytes(b"a killed run's")
    assert main(["run", "cuba", "-o", str(tmp_path / "net.h5"), "--quiet"]) == 2
    assert "the checkpoint of a run that did not finish; add --resume" in capsys.readouterr().err
    # A training run keeps its last epoch's checkpoint beside its result on purpose.
    (tmp_path / "snn.ckpt").write_bytes(b"epoch 1")
    (tmp_path / "snn.h5").write_bytes(b"its result")
    assert main(["run", "snn_fashion", "-o", str(tmp_path / "snn.h5"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "did not finish" not in err
