"""External drive: Poisson and spike-generator events, step currents.

Sources have no dynamics, so their spikes are generated in numpy per chunk
and handed to the kernel as a list of ``(step, neuron)`` events; the kernel
treats them exactly like spikes of simulated neurons.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ConfigError


class PoissonSource:
    """Independent Poisson trains on the step grid (one spike per step at most).

    Each neuron spikes in a step with probability ``1 - exp(-rate dt)``; the
    gaps between spikes are geometric, so the cost grows with the number of
    spikes, not with neurons x steps.
    """

    def __init__(self, start: int, size: int, rate: float, dt: float, rng: np.random.Generator):
        self.start = start
        self.size = size
        self.p = -np.expm1(-rate * dt)
        self.rng = rng
        self.next_step = (rng.geometric(self.p, size) - 1) if self.p > 0 else None

    def events(self, step0: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        if self.next_step is None:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        end = step0 + n_steps
        steps, neurons = [], []
        due = np.nonzero(self.next_step < end)[0]
        while due.size:
            steps.append(self.next_step[due])
            neurons.append(due + self.start)
            self.next_step[due] += self.rng.geometric(self.p, due.size)
            due = due[self.next_step[due] < end]
        if not steps:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(steps), np.concatenate(neurons)


class SpikeGeneratorSource:
    """Spikes at given times: a spike at ``t`` is emitted in the step ending at ``t``."""

    def __init__(self, start: int, size: int, times, indices, dt: float, path: str):
        times = np.asarray(times, dtype=np.float64)
        indices = np.zeros(times.size, np.int64) if indices is None else np.asarray(indices)
        steps = np.rint(times / dt).astype(np.int64) - 1
        if steps.size and steps.min() < 0:
            raise ConfigError(f"{path}.params.times: spike times must be >= dt ({dt:g} s)")
        if indices.size != times.size or (indices.size and (indices.min() < 0 or indices.max() >= size)):
            raise ConfigError(f"{path}.params.indices: need one index in [0, {size}) per time")
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
        self.steps = np.rint(np.asarray(times, dtype=np.float64) / dt).astype(np.int64)
        self.amplitudes = np.asarray(amplitudes, dtype=np.float64)

    def amplitude_at(self, step: int) -> float:
        k = np.searchsorted(self.steps, step, side="right") - 1
        return float(self.amplitudes[k]) if k >= 0 else 0.0
