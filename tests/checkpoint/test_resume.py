"""``neurosim run --checkpoint-every/--checkpoint-wall/--resume`` in this process:
an interrupted run resumed is the run never interrupted; a checkpoint of
anything else, a damaged one or a bad option is one ``error:`` line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim.cli import main
from neurosim.driver.checkpoints import RunCheckpoints
from neurosim.io.checkpoint import read_checkpoint, write_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from kill_resume import NETWORK, result_differences  # noqa: E402

SHORT = ["--set", "duration=0.3 s"]


@pytest.fixture
def net(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK)
    return path


def run(cfg: Path, out: Path, *extra: str) -> int:
    return main(["run", str(cfg), "--output", str(out), "--quiet", "--no-plot", *SHORT, *extra])


def count_writes(monkeypatch, stop_after: int | None = None) -> list[int]:
    """The steps of the checkpoints written from now on; with ``stop_after``, the
    run is interrupted (Ctrl-C) right after that many."""
    steps: list[int] = []
    original = RunCheckpoints.reached

    def reached(self, step, state):
        wrote = original(self, step, state)
        if wrote:
            steps.append(step)
            if stop_after is not None and len(steps) == stop_after:
                raise KeyboardInterrupt
        return wrote

    monkeypatch.setattr(RunCheckpoints, "reached", reached)
    return steps


@pytest.fixture
def reference(net, tmp_path):
    out = tmp_path / "reference.h5"
    assert run(net, out) == 0
    return out


def test_an_interrupted_run_resumed_is_the_run_never_interrupted(net, tmp_path, reference,
                                                                  monkeypatch, capsys):
    out = tmp_path / "run.h5"
    ckpt = tmp_path / "run.ckpt"
    written = count_writes(monkeypatch, stop_after=2)
    assert run(net, out, "--checkpoint-every", "50 ms") == 130
    assert written == [500, 1000]  # on the steps of the interval, whatever the chunks
    assert not out.exists() and int(read_checkpoint(ckpt)["step"]) == 1000
    monkeypatch.undo()
    written = count_writes(monkeypatch)
    assert run(net, out, "--resume") == 0, capsys.readouterr().err
    assert written == [1500, 2000, 2500]  # the checkpoint's interval is kept
    assert result_differences(reference, out) == []
    assert not ckpt.exists()  # the result is saved: its checkpoint is gone


def test_wall_clock_checkpoints_leave_the_result_as_it_is(net, tmp_path, monkeypatch):
    longer = ["--set", "duration=2 s"]  # three chunks of this network (9,090 steps each)
    reference, out = tmp_path / "reference.h5", tmp_path / "run.h5"
    assert run(net, reference, *longer) == 0
    written = count_writes(monkeypatch)
    assert run(net, out, "--checkpoint-wall", "1 ns", *longer) == 0  # after every chunk
    assert written == [9090, 18180]
    assert result_differences(reference, out) == []


def test_threads_may_change_on_resume(net, tmp_path, reference, monkeypatch):
    out = tmp_path / "run.h5"
    count_writes(monkeypatch, stop_after=1)
    assert run(net, out, "--checkpoint-every", "100 ms") == 130
    monkeypatch.undo()
    assert run(net, out, "--resume", "--threads", "2") == 0
    assert result_differences(reference, out) == ["/:meta.threads"]


@pytest.fixture
def interrupted(net, tmp_path, monkeypatch):
    """A run stopped after its first checkpoint: (config, result path, checkpoint path)."""
    out = tmp_path / "run.h5"
    count_writes(monkeypatch, stop_after=1)
    assert run(net, out, "--checkpoint-every", "100 ms") == 130
    monkeypatch.undo()
    return net, out, tmp_path / "run.ckpt"


def error_of(capsys, *args: str) -> str:
    """The one error line of a run that must stop with exit code 2."""
    capsys.readouterr()
    assert run(*args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("override, named", [
    ("duration=0.4 s", "duration: checkpoint '0.3 s', config '0.4 s'"),
    ("populations.exc.size=2001", "populations.exc.size: checkpoint 2000, config 2001"),
    ("seed=6", "seed: checkpoint 5, config 6"),
    ("backend=torch", "backend: checkpoint 'cpu', config 'torch'"),
])
def test_a_checkpoint_of_another_run_is_refused_naming_the_difference(interrupted, capsys,
                                                                      override, named):
    net, out, ckpt = interrupted
    before = ckpt.read_bytes()
    err = error_of(capsys, net, out, "--resume", "--set", override)
    assert "was written for a different run" in err and named in err
    assert "only name, description, threads, output may change" in err
    assert ckpt.read_bytes() == before and not out.exists()


@pytest.mark.parametrize("key, value, message", [
    ("checkpoint.neurosim_version", "0.0.1", "written by neurosim 0.0.1"),
    ("checkpoint.task", "lsm_classification", "is of a lsm_classification run, not of a network"),
])
def test_a_checkpoint_of_another_version_or_task_is_refused(interrupted, capsys, key, value,
                                                            message):
    net, out, ckpt = interrupted
    arrays = read_checkpoint(ckpt)
    arrays[key] = np.array(value)
    write_checkpoint(ckpt, arrays)
    assert message in error_of(capsys, net, out, "--resume")


def test_a_damaged_checkpoint_is_one_error_and_nothing_is_written(interrupted, capsys):
    net, out, ckpt = interrupted
    data = bytearray(ckpt.read_bytes())
    data[-10] ^= 0xFF
    ckpt.write_bytes(bytes(data))
    assert "checksum does not match" in error_of(capsys, net, out, "--resume")
    assert not out.exists()


def test_a_fresh_run_does_not_start_over_a_checkpoint_unless_forced(interrupted, capsys):
    net, out, ckpt = interrupted
    err = error_of(capsys, net, out)
    assert "run.ckpt exists" in err and "--resume" in err and "--force" in err
    assert run(net, out, "--force") == 0
    assert out.exists() and not ckpt.exists()


def test_resume_without_a_checkpoint_says_so(net, tmp_path, capsys):
    err = error_of(capsys, net, tmp_path / "run.h5", "--resume")
    assert "no checkpoint to resume from" in err and "run.ckpt does not exist" in err


@pytest.mark.parametrize("option, text, message", [
    ("--checkpoint-every", "0 s", "positive, finite"),
    ("--checkpoint-every", "-1 s", "positive, finite"),
    ("--checkpoint-wall", "inf s", "got 'inf s'"),
    ("--checkpoint-every", "1 mV", "--checkpoint-every"),
    ("--checkpoint-wall", "soon", "--checkpoint-wall"),
])
def test_a_bad_interval_is_one_error_naming_the_option(net, tmp_path, capsys, option, text,
                                                       message):
    err = error_of(capsys, net, tmp_path / "run.h5", option, text)
    assert option in err and message in err
    assert list(tmp_path.iterdir()) == [net]


def test_a_task_that_does_not_checkpoint_is_refused(tmp_path, capsys):
    capsys.readouterr()
    assert main(["run", "snn_fashion", "--output", str(tmp_path / "t.h5"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "a train run does not checkpoint" in err and "neurosim train --resume" in err
