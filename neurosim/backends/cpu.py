"""The ``cpu`` backend: the numba event-driven kernels of :mod:`neurosim.engine.kernels`."""

from __future__ import annotations

import numba
import numpy as np

from neurosim.backends import register
from neurosim.backends.base import PLASTIC_STATE, Backend, ChunkOutput
from neurosim.engine import kernels
from neurosim.errors import ConfigError
from neurosim.models import held, implementation
from neurosim.network.parameters import refractory_steps
from neurosim.network.plasticity import initial_state, no_plasticity_args

# Below this many neurons a step costs about as much as waking a second
# thread, so extra threads would only slow the run down.
_MIN_NEURONS_PER_THREAD = 20_000


@register("cpu")
class CpuBackend(Backend):
    """Event-driven numba engine; threads split the neurons into parts."""

    family = "numba"
    plastic = True

    def __init__(self, network, threads: int = 1, device: str = "cpu") -> None:
        super().__init__(network, threads, device)
        net = network
        n = net.n_neurons
        # Neuron state is this process's (all neurons, or a rank's share); spikes are global.
        n_local = net.n_local
        groups = net.groups
        bounds = (groups.bounds if net.partition is None
                  else net.partition.local_bounds(groups.bounds))
        # One clear error for a model without numba kernels, before any work.
        self._kernels = {p.model.name: implementation(p.model.name, self.family, self.name)
                         for p in net.populations if not p.model.is_source}
        self.syn = net.syn.copy()
        self.group_ref = refractory_steps(net.populations, groups, net.dt).astype(np.int32)
        longest = int(self.group_ref.max(initial=0))
        if longest > held.MAX_HELD_STEPS:
            raise ConfigError(f"populations: a refractory period of {longest} steps (t_ref / dt) "
                              f"is more than the engine's {held.MAX_HELD_STEPS}")
        width = max([1] + [len(p.model.propagators) for p in net.populations])
        self.group_par = np.zeros((groups.size, width), dtype=net.dtype)
        self.groups = (bounds, groups.code, self.group_par, self.group_ref, groups.population)
        self._group_of = np.repeat(np.arange(groups.size), np.diff(bounds))
        self.models = kernels.model_mask(groups.code)
        # Where each group's model keeps V_reset (models that hold refractory
        # neurons in v), to read their v back.
        self._reset_column = np.array(
            [net.populations[p].model.propagators.index("V_reset")
             if self._holds_in_v(net.populations[p]) else -1 for p in groups.population],
            dtype=np.int64)
        # Membrane potentials, with each held neuron's steps in place of its
        # v (neurosim.models.held); a neuron is held for at most t_ref.
        self.v = net.v.copy()
        holds = self._reset_column[self._group_of] >= 0
        steps = np.where(holds, np.minimum(net.refractory, self.group_ref[self._group_of]), 0)
        self.v = held.encode(self.v, steps)
        self.hist = np.zeros((net.max_delay + 1, n), dtype=np.int32)
        self.hist_len = np.zeros(net.max_delay + 1, dtype=np.int64)
        self._spike_count = np.zeros(n_local, dtype=np.int64)
        self._events = np.zeros(1, dtype=np.int64)
        self._rec_capacity = 0
        self._rec_step = np.empty(0, dtype=np.int64)
        self._rec_idx = np.empty(0, dtype=np.int32)
        self.parts = min(threads, max(1, n_local // _MIN_NEURONS_PER_THREAD))
        self.part_bounds = np.linspace(0, n_local, self.parts + 1).astype(np.int64)
        self.cuts = (kernels.row_cuts(net.indptr, net.targets, self.part_bounds, n_local)
                     if self.parts > 1 else None)
        # Plastic weights are the backend's own; fixed ones are the network's.
        self._weights = net.weights if net.plasticity is None else net.weights.copy()
        self._plastic = initial_state(net.plasticity, n, net.dtype)
        self._plastic_args = (no_plasticity_args(net.dtype) if net.plasticity is None
                              else net.plasticity.kernel_args())

    def _holds_in_v(self, pop) -> bool:
        return not pop.model.is_source and self._kernels[pop.model.name].HELD_IN_V

    def set_population_params(self, table: np.ndarray) -> None:
        self.group_par[:] = table

    def _ensure_hist_width(self, ext_ptr: np.ndarray) -> None:
        # A spike generator may send several events for one neuron in one step.
        most = int(np.diff(ext_ptr).max(initial=0))
        need = self.network.n_neurons + most
        if need > self.hist.shape[1]:
            wider = np.zeros((self.hist.shape[0], need), dtype=np.int32)
            wider[:, : self.hist.shape[1]] = self.hist
            self.hist = wider

    def advance(self, step0, n_steps, ext_ptr, ext_idx, record_spikes, trace_idx, trace_every):
        net = self.network
        self._ensure_hist_width(ext_ptr)
        pop_counts, traces, trace_n, astrocytes = self._chunk_buffers(step0, n_steps,
                                                                      trace_idx.size, trace_every)
        rec_steps, rec_neurons = [], []
        plastic = self._plastic
        done = 0
        numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))
        while done < n_steps:
            # The kernel stops early when a step might overflow the buffer
            # (it needs room for every neuron spiking); then it grows.
            rec_step, rec_idx = self._recording_buffers(record_spikes, ext_idx.size)
            rec_n = np.zeros(1, dtype=np.int64)
            args = (step0 + done, n_steps - done, self.v, self.syn, self.groups,
                    net.indptr, net.targets,
                    self._weights, net.dmin, net.n_slots, self.hist, self.hist_len,
                    ext_ptr[done:], ext_idx, self._spike_count, pop_counts[done:], self._events,
                    record_spikes, rec_step, rec_idx, rec_n, trace_idx, trace_every, traces,
                    trace_n)
            rules = (plastic["rules"], plastic["a_minus"], plastic["trace_pre"],
                     plastic["trace_post"], plastic["astrocyte"], astrocytes[done:])
            steps = self._run_kernel(args, (rules, self._plastic_args))
            rec_steps.append(rec_step[: rec_n[0]].copy())
            rec_neurons.append(rec_idx[: rec_n[0]].copy())
            done += steps
            if done < n_steps:
                self._rec_capacity *= 2
        traces = traces[: trace_n[0]]
        traces[..., 0] = self._membrane(traces[..., 0], trace_idx)
        return ChunkOutput(
            spike_steps=np.concatenate(rec_steps),
            spike_neurons=np.concatenate(rec_neurons),
            pop_counts=pop_counts,
            traces=traces,
            astrocytes=astrocytes,
        )

    def _chunk_buffers(self, step0: int, n_steps: int, n_traced: int, trace_every: int):
        """What the step loops fill in a chunk: spikes per step and population, trace
        samples (and a counter of them), astrocyte activity per step."""
        net = self.network
        pop_counts = np.zeros((n_steps, len(net.populations)), dtype=np.int32)
        n_samples = (step0 + n_steps) // trace_every - step0 // trace_every
        traces = np.zeros((n_samples, n_traced, 1 + self.syn.shape[0]), dtype=net.dtype)
        astrocytes = np.zeros((n_steps, self._plastic["astrocyte"].size))
        return pop_counts, traces, np.zeros(1, dtype=np.int64), astrocytes

    def _run_kernel(self, args: tuple, plastic: tuple) -> int:
        """Run the compiled step loop (:func:`kernels.step_loops`) on ``args``, the
        arguments shared by every numba step loop, and ``plastic``, its plasticity's."""
        run_serial, run_parallel = kernels.step_loops(self.models, self.network.plasticity is not None)
        if self.parts > 1:
            return run_parallel(*args, *plastic, self.part_bounds, self.cuts)
        return run_serial(*args, *plastic)

    def _recording_buffers(self, record: bool, n_external: int):
        if not record:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        need = self.network.n_neurons + n_external
        self._rec_capacity = max(self._rec_capacity, 2 * need)
        if self._rec_step.size < self._rec_capacity:
            self._rec_step = np.empty(self._rec_capacity, dtype=np.int64)
            self._rec_idx = np.empty(self._rec_capacity, dtype=np.int32)
        return self._rec_step, self._rec_idx

    def spike_counts(self) -> np.ndarray:
        return self._spike_count

    def delivered_events(self) -> int:
        return int(self._events[0])

    def _membrane(self, v: np.ndarray, neurons: np.ndarray) -> np.ndarray:
        """``v`` of ``neurons`` (broadcast against ``v``) as membrane potentials:
        ``V_reset`` where a held neuron's steps are stored (neurosim.models.held)."""
        return self._decode(v, neurons)[0]

    def _decode(self, v: np.ndarray, neurons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        group = self._group_of[np.broadcast_to(neurons, v.shape)]
        column = self._reset_column[group]
        v_reset = self.group_par[group, np.maximum(column, 0)]
        membrane, steps = held.decode(v, v_reset)
        holds = column >= 0
        return np.where(holds, membrane, v), np.where(holds, steps, 0)

    def state(self) -> dict[str, np.ndarray]:
        v, refractory = self._decode(self.v, np.arange(self.v.size))
        net = self.network
        for pop in net.populations:
            part = (slice(pop.start, pop.stop) if net.partition is None
                    else net.partition.local_slice(pop.start, pop.stop))
            counted = pop.model.held_steps(self.syn[:, part])
            if counted is not None:
                refractory[part] = counted
        state = {"v": v, "syn": self.syn.copy(), "refractory": refractory,
                 "hist": self.hist.copy(), "hist_len": self.hist_len.copy(),
                 "spike_count": self._spike_count.copy(), "events": self._events.copy()}
        if self.network.plasticity is not None:
            state["weights"] = self._weights.copy()
            state.update((k, self._plastic[k].copy()) for k in PLASTIC_STATE)
        return state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        if "hist" in state and state["hist"].shape[1] > self.hist.shape[1]:
            self.hist = np.zeros((self.hist.shape[0], state["hist"].shape[1]), dtype=np.int32)
        self._check_state(state)
        holds = self._reset_column[self._group_of] >= 0
        self.v[:] = held.encode(np.asarray(state["v"], self.v.dtype),
                                np.where(holds, state["refractory"], 0))
        self.syn[:] = state["syn"]
        self.hist[:] = state["hist"]
        self.hist_len[:] = state["hist_len"]
        self._spike_count[:] = state["spike_count"]
        self._events[:] = state["events"]
        if self.network.plasticity is not None:
            self._weights[:] = state["weights"]
            for key in PLASTIC_STATE:
                self._plastic[key][:] = state[key]

    def weights(self) -> np.ndarray:
        return self._weights
