"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass
class ChunkOutput:
    """What one chunk of steps produced.

    ``spike_steps``/``spike_neurons``: every spike (global neuron index) with
    the step it was emitted in; ``pop_counts[m, p]``: spikes of population
    ``p`` in step ``m`` of the chunk (simulated populations only);
    ``traces[t, j, k]``: sampled state (engine units) of traced neuron ``j``,
    variable ``k`` in (v, syn_e, syn_i).
    """

    spike_steps: np.ndarray
    spike_neurons: np.ndarray
    pop_counts: np.ndarray
    traces: np.ndarray


class Backend(ABC):
    """Advances a network's state; filled in by each registered backend."""

    name = "base"

    def __init__(self, network, threads: int = 1) -> None:
        self.network = network
        self.threads = threads

    @abstractmethod
    def set_population_params(self, table: np.ndarray) -> None:
        """Replace the per-population propagator table (e.g. a current changed)."""

    @abstractmethod
    def advance(self, step0: int, n_steps: int, ext_ptr: np.ndarray, ext_idx: np.ndarray,
                record_spikes: bool, trace_idx: np.ndarray, trace_every: int) -> ChunkOutput:
        """Run steps ``step0 .. step0 + n_steps - 1``."""

    @abstractmethod
    def spike_counts(self) -> np.ndarray:
        """Spikes emitted so far by each neuron (global index)."""

    @abstractmethod
    def delivered_events(self) -> int:
        """Synaptic events delivered so far."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """Current state arrays (engine units), for checkpoints and tests."""
