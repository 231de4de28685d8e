"""The ``cpu`` backend: the numba event-driven kernels of :mod:`neurosim.engine.kernels`."""

from __future__ import annotations

import numba
import numpy as np

from neurosim.backends import register
from neurosim.backends.base import Backend, ChunkOutput
from neurosim.engine import kernels
from neurosim.errors import ConfigError
from neurosim.models.lif import PARAM_WIDTH, V_RESET_COLUMN

# Below this many neurons a step costs about as much as waking a second
# thread, so extra threads would only slow the run down.
_MIN_NEURONS_PER_THREAD = 20_000


@register("cpu")
class CpuBackend(Backend):
    """Event-driven numba engine; threads split the neurons into parts."""

    def __init__(self, network, threads: int = 1, device: str = "cpu") -> None:
        super().__init__(network, threads, device)
        net = network
        n = net.n_neurons
        self.syn = net.syn.copy()
        self.pop_bounds = np.array([p.start for p in net.populations] + [n], dtype=np.int64)
        self.pop_model = np.array([p.model.code for p in net.populations], dtype=np.int64)
        self.pop_ref = np.array([p.model.refractory_steps(p.params, net.dt)
                                 for p in net.populations], dtype=np.int32)
        longest = int(self.pop_ref.max(initial=0))
        if longest > kernels.MAX_HELD_STEPS:
            raise ConfigError(f"populations: a refractory period of {longest} steps (t_ref / dt) "
                              f"is more than the engine's {kernels.MAX_HELD_STEPS}")
        self.pop_par = np.zeros((len(net.populations), PARAM_WIDTH), dtype=net.dtype)
        # V_reset per population, for reading refractory neurons' v back.
        self.pop_reset = np.array(
            [p.model.param_row(p.params, net.dt)[V_RESET_COLUMN[p.model.name]]
             if p.model.name in V_RESET_COLUMN else 0.0 for p in net.populations],
            dtype=net.dtype)
        # Membrane potentials, with each refractory neuron's held steps in
        # place of its v (kernels.HELD); a neuron is held for at most t_ref.
        self.v = net.v.copy()
        held = np.minimum(net.refractory, np.repeat(self.pop_ref, np.diff(self.pop_bounds)))
        self.v[held > 0] = -(kernels.HELD + held[held > 0])
        self.hist = np.zeros((net.max_delay + 1, n), dtype=np.int32)
        self.hist_len = np.zeros(net.max_delay + 1, dtype=np.int64)
        self._spike_count = np.zeros(n, dtype=np.int64)
        self._events = np.zeros(1, dtype=np.int64)
        self._rec_capacity = 0
        self._rec_step = np.empty(0, dtype=np.int64)
        self._rec_idx = np.empty(0, dtype=np.int32)
        self.parts = min(threads, max(1, n // _MIN_NEURONS_PER_THREAD))
        self.part_bounds = np.linspace(0, n, self.parts + 1).astype(np.int64)
        self.cuts = (kernels.row_cuts(net.indptr, net.targets, self.part_bounds, n)
                     if self.parts > 1 else None)

    def set_population_params(self, table: np.ndarray) -> None:
        self.pop_par[:] = table

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
        pop_counts = np.zeros((n_steps, len(net.populations)), dtype=np.int32)
        n_samples = (step0 + n_steps) // trace_every - step0 // trace_every
        traces = np.zeros((n_samples, trace_idx.size, 3), dtype=net.dtype)
        trace_n = np.zeros(1, dtype=np.int64)
        rec_steps, rec_neurons = [], []
        done = 0
        numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))
        while done < n_steps:
            # The kernel stops early when a step might overflow the buffer
            # (it needs room for every neuron spiking); then it grows.
            rec_step, rec_idx = self._recording_buffers(record_spikes, ext_idx.size)
            rec_n = np.zeros(1, dtype=np.int64)
            args = (step0 + done, n_steps - done, self.v, self.syn, self.pop_bounds,
                    self.pop_model, self.pop_par, self.pop_ref, net.indptr, net.targets,
                    net.weights, net.dmin, net.n_slots, self.hist, self.hist_len, ext_ptr[done:],
                    ext_idx, self._spike_count, pop_counts[done:], self._events, record_spikes,
                    rec_step, rec_idx, rec_n, trace_idx, trace_every, traces, trace_n)
            steps = self._run_kernel(args)
            rec_steps.append(rec_step[: rec_n[0]].copy())
            rec_neurons.append(rec_idx[: rec_n[0]].copy())
            done += steps
            if done < n_steps:
                self._rec_capacity *= 2
        traces = traces[: trace_n[0]]
        traces[..., 0] = self._reset_where_held(traces[..., 0], trace_idx)
        return ChunkOutput(
            spike_steps=np.concatenate(rec_steps),
            spike_neurons=np.concatenate(rec_neurons),
            pop_counts=pop_counts,
            traces=traces,
        )

    def _run_kernel(self, args: tuple) -> int:
        """Run the compiled step loop on ``args`` (those of :func:`kernels.run_serial`)."""
        if self.parts > 1:
            return kernels.run_parallel(*args, self.part_bounds, self.cuts)
        return kernels.run_serial(*args)

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

    def _reset_where_held(self, v: np.ndarray, neurons: np.ndarray) -> np.ndarray:
        """``v`` of ``neurons`` (broadcast against ``v``) as membrane potentials:
        ``V_reset`` where a refractory neuron's held steps are stored
        (kernels.HELD)."""
        held = v <= -kernels.HELD
        pop = np.searchsorted(self.pop_bounds, np.broadcast_to(neurons, v.shape)[held],
                              side="right") - 1
        out = v.copy()
        out[held] = self.pop_reset[pop]
        return out

    def state(self) -> dict[str, np.ndarray]:
        held = self.v <= -kernels.HELD
        refractory = np.zeros(self.v.size, dtype=np.int64)
        refractory[held] = -self.v[held].astype(np.int64) - kernels.HELD
        return {"v": self._reset_where_held(self.v, np.arange(self.v.size)), "syn": self.syn,
                "refractory": refractory}
