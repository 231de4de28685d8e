"""Progress reporting: silent unless wanted, on a terminal, and slow enough."""

from __future__ import annotations

import io

import pytest

from neurosim.progress import SimulationProgress


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
