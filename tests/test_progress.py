"""Progress reporting: silent unless wanted, on a terminal, and slow enough."""

from __future__ import annotations

import io

import pytest

from neurosim.progress import SampleProgress, SimulationProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(progress: SimulationProgress, chunks: int = 10) -> None:
    with progress:
        for k in range(1, chunks + 1):
            progress.update(0.1 * k, spikes=500 * k)


def test_disabled_writes_nothing(capsys) -> None:
    run(SimulationProgress(1.0, enabled=False))
    assert capsys.readouterr() == ("", "")


def test_disabled_ignores_a_terminal() -> None:
    terminal = FakeTerminal()
    run(SimulationProgress(1.0, enabled=False, delay_s=0.0, stream=terminal))
    assert terminal.getvalue() == ""


def test_enabled_on_a_non_tty_writes_nothing(capsys) -> None:
    # capsys replaces sys.stderr with a capture that is not a TTY.
    run(SimulationProgress(1.0, enabled=True, delay_s=0.0))
    assert capsys.readouterr() == ("", "")


def test_short_run_on_a_terminal_stays_silent() -> None:
    terminal = FakeTerminal()
    run(SimulationProgress(1.0, enabled=True, stream=terminal))
    assert terminal.getvalue() == ""


def test_enabled_on_a_terminal_shows_speed_and_spike_rate() -> None:
    terminal = FakeTerminal()
    run(SimulationProgress(1.0, enabled=True, delay_s=0.0, stream=terminal))
    text = terminal.getvalue()
    assert "1.000/1.000 s simulated" in text
    assert "x real time" in text
    assert "spikes/s" in text


def test_errors_inside_the_block_propagate() -> None:
    terminal = FakeTerminal()
    with pytest.raises(KeyboardInterrupt):
        with SimulationProgress(1.0, enabled=True, delay_s=0.0, stream=terminal) as progress:
            progress.update(0.2, spikes=10)
            raise KeyboardInterrupt


def test_sample_progress_counts_samples_and_events() -> None:
    terminal = FakeTerminal()
    with SampleProgress(40, "samples", enabled=True, delay_s=0.0, stream=terminal) as progress:
        for done in (10, 20, 40):
            progress.update(done, events=1000 * done)
    text = terminal.getvalue()
    assert "samples" in text and "40/40" in text and "events/s" in text


def test_sample_progress_silent_off_a_terminal(capsys) -> None:
    with SampleProgress(5, "samples", enabled=True, delay_s=0.0) as progress:
        progress.update(5, events=10)
    assert capsys.readouterr() == ("", "")
