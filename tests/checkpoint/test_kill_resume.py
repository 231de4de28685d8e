"""A real ``neurosim run`` SIGKILLed in the middle of a chunk or of a checkpoint
write, then resumed, writes the result of a run never killed,
bit for bit: a network run with Poisson input and STDP, and an LSM subset run
(killed among its samples; stopped in its initialisation, or among its samples
on the torch liquid)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurosim.cli import main
from neurosim.driver.checkpoints import RunCheckpoints
from neurosim.io.checkpoint import read_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from kill_resume import (NETWORK, result_differences, run_command, temporaries,  # noqa: E402
                         write_config)
from test_fashion_mnist import write_pattern_dataset  # noqa: E402

#: Steps of the network run (2 s at 0.1 ms).
NETWORK_STEPS = 20_000
#: Give up on a kill that never lands where it should after this long.
PATIENCE_S = 120


def in_process(config: Path, out: Path, *extra: str) -> None:
    assert main(["run", str(config), "--output", str(out), "--quiet", "--no-plot", *extra]) == 0


def start(config: Path, out: Path, every: str) -> subprocess.Popen:
    return subprocess.Popen(run_command(config, out, "--checkpoint-every", every),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(proc: subprocess.Popen, ready) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False if it ended first."""
    deadline = time.monotonic() + PATIENCE_S
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.communicate()[1].decode()
            assert proc.returncode == 0, err
            return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    return True


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """The network config and the result of its run never killed."""
    folder = tmp_path_factory.mktemp("network")
    config = folder / "network.yaml"
    config.write_text(NETWORK)
    in_process(config, folder / "reference.h5")
    return config, folder / "reference.h5"


def test_killed_in_the_middle_of_a_chunk(network, tmp_path):
    config, reference = network
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.ckpt"
    proc = start(config, out, "100 ms")
    assert kill_when(proc, ckpt.exists)
    time.sleep(0.05)  # mid-way through a later chunk (killed already: the file stays)
    assert not out.exists()
    assert 0 < int(read_checkpoint(ckpt)["step"]) < NETWORK_STEPS
    in_process(config, out, "--resume")
    assert result_differences(reference, out) == []
    assert not ckpt.exists()


def test_killed_in_the_middle_of_a_checkpoint_write(network, tmp_path):
    """Killed while the temporary file exists: the checkpoint before it stays valid."""
    config, reference = network
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.ckpt"
    for _ in range(5):  # the kill may land just after the rename: try again
        proc = start(config, out, "10 ms")
        # Not the first checkpoint's write: a resume needs one written before.
        if not kill_when(proc, lambda: ckpt.exists() and temporaries(ckpt)):
            out.unlink()
            continue
        if temporaries(ckpt):
            break
        ckpt.unlink()
    else:
        pytest.fail("no kill landed during a checkpoint write in 5 runs")
    assert not out.exists()
    read_checkpoint(ckpt)  # the previous checkpoint, whole
    in_process(config, out, "--resume")
    assert result_differences(reference, out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]  # no temporary left


@pytest.fixture(scope="module")
def lsm(tmp_path_factory):
    """An LSM subset config (pattern images) and the result of its run never killed."""
    folder = tmp_path_factory.mktemp("lsm")
    write_pattern_dataset(folder, 300, 80, seed=0)
    config = write_config("lsm", folder, str(folder), train=120)
    in_process(config, folder / "reference.h5")
    return config, folder / "reference.h5"


def test_an_lsm_run_killed_among_its_samples_keeps_the_finished_ones(lsm, tmp_path):
    config, reference = lsm
    out, ckpt = tmp_path / "run.h5", tmp_path / "run.ckpt"
    proc = start(config, out, "100 ms")  # after every batch

    def among_samples() -> bool:
        return ckpt.exists() and int(read_checkpoint(ckpt)["samples_done"]) > 0

    assert kill_when(proc, among_samples)
    saved = read_checkpoint(ckpt)
    assert int(saved["init_done"]) == 64 and 0 < int(saved["samples_done"]) < 230
    in_process(config, out, "--resume")
    assert result_differences(reference, out) == []


#: Where the LSM subset's checkpoints fall: a batch is 8 initialisation samples of 20
#: steps, then 8 samples of 100 steps.
IN_INITIALISATION = 2 * 8 * 20
AMONG_SAMPLES = 64 * 20 + 8 * 100


@pytest.mark.parametrize("backend, stop_at, init_done, samples_done", [
    ("cpu", IN_INITIALISATION, 16, 0),
    ("torch", AMONG_SAMPLES, 64, 8),
])
def test_an_lsm_run_stopped_and_resumed(lsm, tmp_path, monkeypatch, backend, stop_at,
                                        init_done, samples_done):
    """Stopped (Ctrl-C) in its initialisation or, on the torch liquid, among its samples."""
    config, reference = lsm
    if backend == "torch":
        pytest.importorskip("torch")
        reference = tmp_path / "reference.h5"
        in_process(config, reference, "--set", "backend=torch")
    out = tmp_path / "run.h5"
    original = RunCheckpoints.reached

    def stop_there(self, step, state):
        if original(self, step, state) and step == stop_at:
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(RunCheckpoints, "reached", stop_there)
    assert main(["run", str(config), "--output", str(out), "--quiet", "--no-plot",
                 "--set", f"backend={backend}", "--checkpoint-every", "100 ms"]) == 130
    monkeypatch.undo()
    saved = read_checkpoint(out.with_suffix(".ckpt"))
    assert (int(saved["init_done"]), int(saved["samples_done"])) == (init_done, samples_done)
    in_process(config, out, "--resume", "--set", f"backend={backend}")
    assert result_differences(reference, out) == []
