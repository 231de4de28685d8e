"""Progress bar for long simulations, updated by the driver at chunk boundaries.

Shows simulated time, wall time, speed as a multiple of real time and spike
throughput. It only appears on an interactive terminal and only once a run
has lasted a couple of seconds, so short runs, tests and logs stay clean.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

from tqdm import tqdm

# Runs shorter than this finish before a bar would be worth drawing.
_DEFAULT_DELAY_S = 2.0


class SimulationProgress:
    """Context manager that reports simulation progress on stderr.

    Parameters
    ----------
    total_time_s:
        Simulated time (s) the run will reach.
    enabled:
        Whether progress is wanted at all. Even if True, nothing is shown
        unless ``stream`` is a TTY.
    delay_s:
        Wall time (s) before the bar first appears.
    stream:
        Where to draw; defaults to :data:`sys.stderr` at construction.

    Examples
    --------
    >>> with SimulationProgress(1.0, enabled=False) as progress:
    ...     progress.update(0.5, spikes=1200)
    """

    def __init__(
        self,
        total_time_s: float,
        enabled: bool,
        *,
        delay_s: float = _DEFAULT_DELAY_S,
        stream: TextIO | None = None,
    ) -> None:
        self._total = float(total_time_s)
        self._stream = sys.stderr if stream is None else stream
        self._enabled = bool(enabled) and _is_tty(self._stream)
        self._delay = delay_s
        self._bar: tqdm | None = None
        self._start = 0.0

    def __enter__(self) -> SimulationProgress:
        if self._enabled:
            self._start = time.perf_counter()
            self._bar = tqdm(
                total=self._total,
                file=self._stream,
                delay=self._delay,
                dynamic_ncols=True,
                bar_format=(
                    "{l_bar}{bar}| {n:.3f}/{total:.3f} s simulated "
                    "[{elapsed} wall{postfix}]"
                ),
            )
        return self

    def update(self, simulated_time_s: float, spikes: int) -> None:
        """Report the state of the run so far.

        Parameters
        ----------
        simulated_time_s:
            Total simulated time (s) reached since the start of the run.
        spikes:
            Total number of spikes emitted since the start of the run.
        """
        if self._bar is None:
            return
        wall = max(time.perf_counter() - self._start, 1e-9)
        # Whole-run averages rather than tqdm's smoothed rate: a chunk of
        # quiet network and a chunk of bursting differ by orders of magnitude.
        self._bar.set_postfix_str(
            f"{simulated_time_s / wall:.3g}x real time, "
            f"{_si(spikes / wall)} spikes/s",
            refresh=False,
        )
        # update() (not refresh()) so that tqdm's delay is honoured.
        self._bar.update(simulated_time_s - self._bar.n)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _si(value: float) -> str:
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g}{prefix}"
    return f"{value:.3g}"


class SampleProgress:
    """Progress over a count of samples (liquid state machines), on stderr.

    Like :class:`SimulationProgress`, drawn only on a TTY and after
    ``delay_s``; shows samples/s and synaptic events/s.

    Examples
    --------
    >>> with SampleProgress(100, "samples", enabled=False) as progress:
    ...     progress.update(50, events=10_000)
    """

    def __init__(self, total: int, label: str, enabled: bool, *,
                 delay_s: float = _DEFAULT_DELAY_S, stream: TextIO | None = None) -> None:
        self._total = int(total)
        self._label = label
        self._stream = sys.stderr if stream is None else stream
        self._enabled = bool(enabled) and _is_tty(self._stream)
        self._delay = delay_s
        self._bar: tqdm | None = None
        self._start = 0.0

    def __enter__(self) -> SampleProgress:
        if self._enabled:
            self._start = time.perf_counter()
            self._bar = tqdm(total=self._total, desc=self._label, unit="sample",
                             file=self._stream, delay=self._delay, dynamic_ncols=True)
        return self

    def update(self, done: int, events: int) -> None:
        """Report ``done`` samples finished and ``events`` synaptic events so far."""
        if self._bar is None:
            return
        wall = max(time.perf_counter() - self._start, 1e-9)
        self._bar.set_postfix_str(f"{_si(events / wall)} events/s", refresh=False)
        self._bar.update(done - self._bar.n)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
