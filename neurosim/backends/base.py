"""The interface every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ConfigError
from neurosim.result import HARDWARE_COUNTERS


@dataclass
class ChunkOutput:
    """What one chunk of steps produced.

    ``spike_steps``/``spike_neurons``: every spike (global neuron index) with
    the step it was emitted in; ``pop_counts[m, p]``: spikes of population
    ``p`` in step ``m`` of the chunk (simulated populations only);
    ``traces[t, j, k]``: sampled state (engine units) of traced neuron ``j``,
    variable ``k`` in (v, syn_e, syn_i); ``astrocytes[m, a]``: astrocyte
    ``a``'s ``A`` after step ``m`` (:mod:`neurosim.models.astrocyte`).
    """

    spike_steps: np.ndarray
    spike_neurons: np.ndarray
    pop_counts: np.ndarray
    traces: np.ndarray
    astrocytes: np.ndarray | None = None


#: The changing arrays of the plasticity rules in a state (neurosim.network.plasticity).
PLASTIC_STATE = ("a_minus", "trace_pre", "trace_post", "astrocyte")
#: Keys of :meth:`Backend.state` that mean the same on every backend (weights and
#: PLASTIC_STATE only with plastic projections); the rest is each backend's layout.
SHARED_STATE = ("v", "syn", "refractory", "weights") + PLASTIC_STATE


class Backend(ABC):
    """Advances a network's state; filled in by each registered backend."""

    name = "base"
    #: Values of the config's ``device`` this backend runs on.
    devices: tuple[str, ...] = ("cpu",)
    #: Whether the backend runs plastic projections (:mod:`neurosim.models.stdp`).
    plastic = False

    def __init__(self, network, threads: int = 1, device: str = "cpu") -> None:
        self.check_device(device)
        if network.plasticity is not None and not self.plastic:
            raise ConfigError(f"projections.{network.plasticity.projections[0]}.plasticity: "
                              f"plasticity is not implemented on backend '{self.name}' "
                              "(backends cpu and torch run it)")
        self.network = network
        self.threads = threads
        self.device = device

    @classmethod
    def check_device(cls, device: str) -> None:
        """Raise one :class:`ConfigError` if this backend cannot run on ``device`` here."""
        if device not in cls.devices:
            raise ConfigError(f"device: the '{cls.name}' backend runs on "
                              f"{' or '.join(cls.devices)} only, not '{device}' "
                              "(backend: torch runs on cuda)")

    @classmethod
    def from_config(cls, network, cfg, threads: int = 1) -> Backend:
        """The backend for ``network``, with any settings it reads from the run config ``cfg``."""
        return cls(network, threads, device=cfg.device)

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
        """Everything needed to continue the run exactly (engine units, copies).

        The keys of :data:`SHARED_STATE` mean the same for every backend
        (``refractory``: the steps each neuron is still held at reset, counted
        from the next step to simulate); the rest (spike ring, counters) is
        the backend's own layout.  :meth:`restore`
        takes it back.
        """

    @abstractmethod
    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Continue from a :meth:`state` of this backend on this network."""

    def _check_state(self, state: dict[str, np.ndarray]) -> None:
        """One clear error if ``state`` is not one of this backend's on this network."""
        current = self.state()
        missing = [k for k in current if k not in state]
        if missing:
            raise ConfigError(f"state: not a '{self.name}' backend state of this network "
                              f"(missing {', '.join(missing)})")
        for key, value in current.items():
            if np.shape(state[key]) != np.shape(value):
                raise ConfigError(f"state: '{key}' has shape {np.shape(state[key])}, this "
                                  f"network's is {np.shape(value)}")

    def weights(self) -> np.ndarray:
        """The synaptic weights now (engine units, in the network's synapse order)."""
        return self.network.weights

    def hardware_counters(self, synaptic_events: dict[str, int]) -> dict[str, dict[str, int]]:
        """Per projection, the work done so far in :data:`~neurosim.result.HARDWARE_COUNTERS` terms.

        The default describes a digital event-driven engine: each synaptic
        event reads one target index and one weight and does one accumulation.
        Backends that do the work differently (e.g. on crossbar tiles) override it.
        """
        per_synapse = self.network.targets.itemsize + self.network.weights.itemsize
        counters = {}
        for name, events in synaptic_events.items():
            row = dict.fromkeys(HARDWARE_COUNTERS, 0)
            row["digital_accumulations"] = events
            row["bytes_moved"] = events * per_synapse
            counters[name] = row
        return counters
