"""The ``cpu`` backend on one rank of a distributed run.

A rank advances its own neurons (:class:`~neurosim.network.partition.Partition`)
with the engine's step loops, ``interval`` steps at a time, and then every
rank exchanges those steps' spikes (one collective, compact 32-bit global
ids).  ``interval`` is at most the network's minimum delay: a spike emitted
in step ``s`` is first delivered in step ``s + dmin``, so none is needed
before the exchange that brings it.  After the exchange each rank holds the
same global spike rows as one process would, and delivers from them into its
own neurons in the same order, so the spikes are the same bit for bit for
any number of ranks.
"""

from __future__ import annotations

import numba
import numpy as np

from neurosim.backends.base import ChunkOutput
from neurosim.backends.cpu import CpuBackend
from neurosim.distributed.collectives import bindings, comm_handle
from neurosim.distributed.loop import exchange_loop
from neurosim.distributed.run import summed

class DistributedCpuBackend(CpuBackend):
    """:class:`CpuBackend` on ``network.partition``'s neurons, exchanging over ``comm``."""

    name = "cpu"

    def __init__(self, network, comm, interval: int, threads: int = 1) -> None:
        super().__init__(network, threads)
        self.comm = comm
        self.interval = interval
        part = network.partition
        self.rank, self.ranks = part.rank, part.ranks
        self._global_count = np.zeros(network.n_neurons, dtype=np.int64)
        self._comm_handle = comm_handle(comm)
        self._mpi = tuple(bindings())
        #: Seconds spent in the collectives and bytes received, for the benchmarks.
        self.exchange_s = 0.0
        self.exchanged_bytes = 0
        self.exchanges = 0

    def advance(self, step0, n_steps, ext_ptr, ext_idx, record_spikes, trace_idx, trace_every):
        net = self.network
        self._ensure_hist_width(ext_ptr)
        own = trace_idx % self.ranks == self.rank
        own_trace = (trace_idx[own] // self.ranks).astype(np.int64)
        pop_counts, traces, trace_n, astrocytes = self._chunk_buffers(step0, n_steps,
                                                                      own_trace.size, trace_every)
        record = record_spikes and self.rank == 0
        rec_n = np.zeros(1, dtype=np.int64)
        plastic = self._plastic
        stats = np.array([self.exchange_s, self.exchanges, self.exchanged_bytes], dtype=np.float64)
        run = exchange_loop(self.models, self.parts > 1)
        parts = (self.part_bounds, self.cuts) if self.parts > 1 else ()
        numba.set_num_threads(max(1, min(self.threads, numba.config.NUMBA_NUM_THREADS)))
        done = 0
        while done < n_steps:  # again after growing the recording buffers
            done += run(self._mpi, step0 + done, n_steps - done, self.interval, self._comm_handle,
                        self.rank, self.ranks, self.v, self.syn, self.groups, net.indptr,
                        net.targets, self._weights, net.dmin, net.n_slots, self.hist,
                        self.hist_len, ext_ptr[done:] - ext_ptr[done], ext_idx[ext_ptr[done]:],
                        self._spike_count, self._global_count, pop_counts[done:], self._events,
                        record, self._rec_step, self._rec_idx, rec_n, own_trace, trace_every,
                        traces, trace_n, plastic["rules"], plastic["a_minus"],
                        plastic["trace_pre"], plastic["trace_post"], plastic["astrocyte"],
                        astrocytes[done:], self._plastic_args, net.plasticity is not None,
                        parts, stats)
            if done < n_steps:
                self._grow(rec_n[0] + self.interval * self.hist.shape[1]
                           + ext_ptr[min(done + self.interval, n_steps)] - ext_ptr[done])
        self.exchange_s, self.exchanges, self.exchanged_bytes = (
            float(stats[0]), int(stats[1]), int(stats[2]))
        pop_counts = summed(self.comm, pop_counts)
        traces = traces[: trace_n[0]]
        traces[..., 0] = self._membrane(traces[..., 0], own_trace)
        return ChunkOutput(
            spike_steps=self._rec_step[: rec_n[0]].copy(),
            spike_neurons=self._rec_idx[: rec_n[0]].copy(),
            pop_counts=pop_counts,
            traces=self._gather_traces(traces, own, trace_idx.size),
            astrocytes=astrocytes,
        )

    def _gather_traces(self, traces: np.ndarray, own: np.ndarray, n_traced: int) -> np.ndarray:
        if not n_traced:
            return traces
        parts = self.comm.allgather((np.flatnonzero(own), traces))
        full = np.zeros((traces.shape[0], n_traced, traces.shape[2]), dtype=traces.dtype)
        for where, block in parts:
            full[:, where] = block
        return full

    def _grow(self, need: int) -> None:
        """Recording buffers with room for ``need`` spikes, keeping what they hold."""
        size = max(need, 2 * self._rec_step.size, 1024)
        steps, neurons = np.empty(size, np.int64), np.empty(size, np.int32)
        steps[: self._rec_step.size], neurons[: self._rec_idx.size] = self._rec_step, self._rec_idx
        self._rec_step, self._rec_idx = steps, neurons

    def spike_counts(self) -> np.ndarray:
        return self._global_count

    def delivered_events(self) -> int:
        return int(self.comm.allreduce(int(self._events[0])))

    def state(self) -> dict[str, np.ndarray]:
        return {**super().state(), "global_count": self._global_count.copy(),
                "exchange": np.array([self.exchange_s, self.exchanges, self.exchanged_bytes])}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        super().restore(state)
        self._global_count[:] = state["global_count"]
        seconds, exchanges, exchanged = state["exchange"]
        self.exchange_s, self.exchanges, self.exchanged_bytes = (
            float(seconds), int(exchanges), int(exchanged))
