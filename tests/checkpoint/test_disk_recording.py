"""``record.store: disk``: the result of a run recording to memory, bit for bit, with
its recordings' memory bounded; killed, interrupted or failed, it resumes exactly or
leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurosim.cli import main
from neurosim.driver.checkpoints import RunCheckpoints
from neurosim.io.checkpoint import read_checkpoint
from neurosim.io.spool import RecordingSpool, spool_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_memory_guard import traced_cuba  # noqa: E402
from kill_resume import NETWORK, result_differences, run_command  # noqa: E402

DISK = ["--set", "record.store=disk"]
SHORT = ["--set", "duration=0.3 s"]


def run(cfg, out: Path, *extra: str) -> int:
    return main(["run", str(cfg), "--output", str(out), "--quiet", "--no-plot", *extra])


def datasets(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        found = {}
        f.visititems(lambda name, obj: found.__setitem__(name, (obj[()], obj.chunks))
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def assert_same_datasets(a: Path, b: Path) -> None:
    """Every dataset bit for bit, with its dtype and chunking (the config text differs)."""
    x, y = datasets(a), datasets(b)
    assert sorted(x) == sorted(y)
    for name, (values, chunks) in x.items():
        other, other_chunks = y[name]
        assert values.dtype == other.dtype and chunks == other_chunks, name
        np.testing.assert_array_equal(values, other, err_msg=name)


@pytest.fixture
def net(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK)
    return path


@pytest.mark.parametrize("config, extra", [
    ("net", SHORT),  # Poisson input, STDP weights, a trace
    ("cuba_stdp", ["--set", "duration=0.1 s", "--set",  # astrocytes, two traces
                   "record.traces={v: {population: exc, variables: [v, I_syn_e], "
                   "neurons: [0, 5, 9], interval: 0.2 ms}, w: {population: inh, "
                   "variables: [v], neurons: [1, 2]}}"]),
])
def test_the_result_is_the_one_recorded_in_memory(net, tmp_path, config, extra):
    cfg = net if config == "net" else config
    memory, disk = tmp_path / "memory" / "r.h5", tmp_path / "disk" / "r.h5"
    assert run(cfg, memory, *extra) == 0
    assert run(cfg, disk, *extra, *DISK) == 0
    assert_same_datasets(memory, disk)
    assert sorted(p.name for p in disk.parent.iterdir()) == ["r.h5"]  # the spool is gone


def test_the_png_is_the_one_drawn_from_memory(tmp_path):
    memory, disk = tmp_path / "memory" / "r.h5", tmp_path / "disk" / "r.h5"
    for out, extra in ((memory, []), (disk, DISK)):
        assert main(["run", "cuba", "--output", str(out), "--quiet", *SHORT, *extra]) == 0
    assert memory.with_suffix(".png").read_bytes() == disk.with_suffix(".png").read_bytes()


def test_a_long_runs_recording_memory_stays_bounded(tmp_path):
    """Every excitatory neuron's v at every step: 3,200 x 8 B per 0.1 ms."""
    peaks = {}
    for duration in ("0.5 s", "2 s"):
        config = traced_cuba(tmp_path, duration)
        script = ("import resource, sys; from neurosim.cli import main; "
                  f"assert main(['run', {str(config)!r}, '-o', {str(tmp_path / duration)!r}, "
                  "'-q', '--no-plot', '--set', 'record.store=disk']) == 0; "
                  "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        peaks[duration] = int(proc.stdout.split()[-1])
    # The extra 1.5 s is 384 MB more in the result, ~2.3 GB more at the memory
    # store's peak; on disk the peak stays (whatever numba's compiling adds to both).
    with h5py.File(tmp_path / "2 s", "r") as f:
        assert f["traces/v_exc/data"].shape == (20_000, 3200, 1)
    assert peaks["2 s"] < peaks["0.5 s"] + 96 * 2**20, peaks


def test_traces_that_do_not_fit_on_the_disk_are_refused_before_running(tmp_path):
    out = tmp_path / "out" / "r.h5"
    proc = subprocess.run([sys.executable, "-m", "neurosim.cli", "run",
                           str(traced_cuba(tmp_path, "100000 s")), "-o", str(out),
                           "--set=record.store=disk"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: record.store: disk: the traces need")
    assert len(proc.stderr.splitlines()) == 1 and "GiB is free" in proc.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())


def stop_after_checkpoints(monkeypatch, count: int) -> None:
    original = RunCheckpoints.reached
    written = []

    def reached(self, step, state):
        wrote = original(self, step, state)
        written.append(wrote)
        if sum(written) == count:
            raise KeyboardInterrupt
        return wrote

    monkeypatch.setattr(RunCheckpoints, "reached", reached)


@pytest.fixture
def reference(net, tmp_path):
    out = tmp_path / "reference.h5"
    assert run(net, out, *SHORT, *DISK) == 0
    return out


def test_an_interrupted_run_resumes_cutting_what_followed_its_checkpoint(
        net, tmp_path, reference, monkeypatch, capsys):
    out = tmp_path / "run.h5"
    stop_after_checkpoints(monkeypatch, 2)
    assert run(net, out, *SHORT, *DISK, "--checkpoint-every", "50 ms") == 130
    monkeypatch.undo()
    files = sorted(spool_folder(out).iterdir())
    assert files  # kept for --resume
    for path in files:  # as if the killed process had written on after the checkpoint
        with open(path, "ab") as f:
            f.write(b"\xff" * 13)
    assert run(net, out, *SHORT, *DISK, "--resume") == 0, capsys.readouterr().err
    assert result_differences(reference, out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "reference.h5", "run.h5"]


def test_resuming_without_the_spool_is_one_error(net, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run.h5"
    stop_after_checkpoints(monkeypatch, 1)
    assert run(net, out, *SHORT, *DISK, "--checkpoint-every", "50 ms") == 130
    monkeypatch.undo()
    for path in spool_folder(out).iterdir():
        path.unlink()
    capsys.readouterr()
    assert run(net, out, *SHORT, *DISK, "--resume") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot resume the recordings") and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_failed_run_without_checkpoints_leaves_no_spool(net, tmp_path, monkeypatch):
    out = tmp_path / "run.h5"
    calls = []

    def append(self, key, rows):
        calls.append(key)
        if len(calls) > 2:  # within the first chunk
            raise KeyboardInterrupt

    monkeypatch.setattr(RecordingSpool, "append", append)
    assert run(net, out, *SHORT, *DISK) == 130
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_killed_mid_chunk_and_resumed_is_the_run_never_killed(net, tmp_path, reference):
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.ckpt"
    proc = subprocess.Popen(run_command(net, out, *SHORT, *DISK, "--checkpoint-every", "50 ms"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ckpt.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
    time.sleep(0.05)  # on into a later chunk, appending to the spool
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    if out.exists():  # it finished first: nothing to resume
        pytest.skip("the run ended before the kill")
    assert 0 < int(read_checkpoint(ckpt)["step"])
    assert run(net, out, *SHORT, *DISK, "--resume") == 0
    assert result_differences(reference, out) == []
    assert json.dumps(sorted(p.name for p in tmp_path.iterdir())) == json.dumps(
        ["net.yaml", "reference.h5", "run.h5"])
