"""External drive: Poisson and spike-generator events, step currents.

Sources have no dynamics, so their spikes are generated per chunk and handed
to the kernel as a list of ``(step, neuron)`` events; the kernel treats them
exactly like spikes of simulated neurons.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.units import to_steps
from neurosim.network.random import POISSON, row_key, uniform


@njit(cache=True)
def _poisson_pass(fill, end, dt, rate, seed, start, next_time, drawn, steps, neurons):
    """Count (``fill=False``) or emit the spikes falling before step ``end``.

    Neuron ``i``'s ``k``-th interval is drawn from counter ``k`` of its own
    stream, so its train does not depend on how the run is cut into chunks
    or on any other neuron.  Returns the number of spikes.
    """
    t_end = end * dt
    n = 0
    for i in range(next_time.size):
        t = next_time[i]
        k = drawn[i]
        key = row_key(seed, POISSON, i)
        while t < t_end:
            if fill:
                steps[n] = int(t / dt)
                neurons[n] = start + i
            n += 1
            t -= np.log1p(-uniform(key, k)) / rate
            k += 1
        if fill:
            next_time[i] = t
            drawn[i] = k
    return n


class PoissonSource:
    """Independent Poisson trains in continuous time, binned into steps.

    Intervals are exponential, so a neuron may spike more than once in a step
    at high ``rate * dt`` (as NEST's ``poisson_generator``), and the rate is
    exact at any rate.
    """

    def __init__(self, start: int, size: int, rate: float, dt: float, seed: int):
        self.start = start
        self.rate = rate
        self.dt = dt
        self.seed = np.uint64(seed)
        self.drawn = np.zeros(size, dtype=np.int64)
        self.next_time = np.full(size, np.inf)
        if rate > 0:
            self.next_time[:] = 0.0
            # First spike: one exponential interval from t = 0.
            _poisson_pass(True, 0, dt, rate, self.seed, start, self.next_time, self.drawn,
                          np.empty(0, np.int64), np.empty(0, np.int64))

    def events(self, step0: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        end = step0 + n_steps
        args = (end, self.dt, self.rate, self.seed, self.start, self.next_time, self.drawn)
        count = _poisson_pass(False, *args, np.empty(0, np.int64), np.empty(0, np.int64))
        steps = np.empty(count, np.int64)
        neurons = np.empty(count, np.int64)
        _poisson_pass(True, *args, steps, neurons)
        return steps, neurons

    def state(self) -> dict[str, np.ndarray]:
        """Where every train stands: its draws so far and its next spike time."""
        return {"drawn": self.drawn.copy(), "next_time": self.next_time.copy()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        self.drawn[:] = state["drawn"]
        self.next_time[:] = state["next_time"]


class SpikeGeneratorSource:
    """Spikes at given times: a spike at ``t`` is emitted in the step ending at ``t``."""

    def __init__(self, start: int, times, indices, dt: float):
        times = np.asarray(times, dtype=np.float64)
        indices = np.zeros(times.size, np.int64) if indices is None else np.asarray(indices)
        steps = to_steps(times, dt) - 1
        order = np.lexsort((indices, steps))
        self.steps = steps[order]
        self.neurons = indices[order].astype(np.int64) + start

    def events(self, step0: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = np.searchsorted(self.steps, [step0, step0 + n_steps])
        return self.steps[a:b], self.neurons[a:b]


def merge_events(sources, step0: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Events of all sources in one chunk as ``(ptr, neurons)`` for the kernel.

    ``neurons[ptr[m]:ptr[m + 1]]`` spike in step ``step0 + m``, ordered by
    neuron index so the delivery order does not depend on the sources' order.
    """
    parts = [src.events(step0, n_steps) for src in sources]
    if parts:
        steps = np.concatenate([p[0] for p in parts])
        neurons = np.concatenate([p[1] for p in parts])
    else:
        steps = neurons = np.empty(0, np.int64)
    order = np.lexsort((neurons, steps))
    steps, neurons = steps[order] - step0, neurons[order]
    ptr = np.zeros(n_steps + 1, dtype=np.int64)
    np.cumsum(np.bincount(steps, minlength=n_steps), out=ptr[1:])
    return ptr, neurons.astype(np.int32)


class StepCurrent:
    """A piecewise-constant current into every neuron of one population."""

    def __init__(self, population: int, times, amplitudes, dt: float):
        self.population = population
        self.steps = to_steps(np.asarray(times, dtype=np.float64), dt)
        self.amplitudes = np.asarray(amplitudes, dtype=np.float64)

    def amplitude_at(self, step: int) -> float:
        k = np.searchsorted(self.steps, step, side="right") - 1
        return float(self.amplitudes[k]) if k >= 0 else 0.0

    def next_change(self, step: int) -> int | None:
        """First step after ``step`` where the amplitude changes, if any."""
        k = np.searchsorted(self.steps, step, side="right")
        return int(self.steps[k]) if k < self.steps.size else None
