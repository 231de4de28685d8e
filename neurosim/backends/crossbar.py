"""The ``crossbar`` backend: synaptic input computed on emulated RRAM tiles.

Neurons advance exactly as on the ``cpu`` backend (the same compiled update,
:func:`neurosim.engine.kernels.begin_step`); only delivery differs.  Each
projection (its source, target and receptor) and each delay it uses becomes
one matrix, rows = source neurons, columns = target neurons, programmed onto
tiles through the device chain of the run config's ``crossbar:`` section and
read as :mod:`neurosim.crossbar.projection` describes: each step, the spikes
emitted ``delay`` steps ago drive their rows in one read (read number: the
step), whose digitised column outputs are added to the targets' synaptic
state.  Only tiles with a driven row are touched.

With several threads, the reads are split: each part reads its share of
every matrix's tile columns (whole tiles, so the column loops stay those of
one thread), while the neuron update stays on one thread.  Every column gets
the same arithmetic in any split, so any thread count gives the same bits.
Parts are made only when the network is large enough that a step's reads
outweigh waking the threads.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from neurosim import seeds
from neurosim.backends import register
from neurosim.backends.base import HARDWARE_COUNTERS
from neurosim.backends.cpu import CpuBackend
from neurosim.config.crossbar import CrossbarConfig
from neurosim.crossbar.activity import tile_work
from neurosim.crossbar.periphery import noise_key
from neurosim.crossbar.projection import CrossbarProjection, Matrix, deliver
from neurosim.crossbar.tiles import tile_grid
from neurosim.engine.fpu import FTZ_DAZ, get_fp_mode, set_fp_mode
from neurosim.engine.kernels import begin_step, finish_step
from neurosim.network.memory import check_fits


@functools.cache
def crossbar_loops(models: int):
    """``(run_serial, run_parallel)`` with delivery through the tiles, compiled
    for the models in the bit mask ``models`` (as
    :func:`neurosim.engine.kernels.step_loops`)."""

    @njit(cache=True)
    def run_serial(step0, n_steps, v, syn, groups,
                   indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                   spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                   trace_idx, trace_every, trace_buf, trace_n,
                   rows_buf, acc, counts, tile_parts, store, periphery):
        """:func:`neurosim.engine.kernels.run_serial` with delivery through the tiles:
        the same steps (:func:`~neurosim.engine.kernels.begin_step`, then
        :func:`~neurosim.crossbar.projection.deliver`, the step as read number,
        then :func:`~neurosim.engine.kernels.finish_step`).

        Takes run_serial's arguments first (the synapse list ``indptr``,
        ``targets``, ``weights``, ``n_slots`` is not read: the tiles replace it;
        ``events`` counts synaptic events), then the tiles' (scratch and
        counts per part: here one).
        """
        syn_flat = syn.reshape(-1)
        caller_mode = get_fp_mode()
        set_fp_mode(caller_mode | FTZ_DAZ)
        for m in range(n_steps):
            n = begin_step(m, step0, models, v, syn, groups, hist, ext_ptr, pop_counts, rec_on,
                           rec_step, rec_n)
            if n < 0:
                set_fp_mode(caller_mode)
                return m
            step = step0 + m
            events[0] += deliver(step, step, hist, hist_len, dmin, rows_buf[0], syn_flat, 0,
                                 tile_parts, store, periphery, acc[0], counts[0])
            finish_step(m, step, step % hist.shape[0], n, hist, hist_len, ext_ptr, ext_idx,
                        spike_count, rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every,
                        trace_buf, trace_n, v, syn)
        set_fp_mode(caller_mode)
        return n_steps

    @njit(cache=True, parallel=True)
    def run_parallel(step0, n_steps, v, syn, groups,
                     indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                     spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                     trace_idx, trace_every, trace_buf, trace_n,
                     rows_buf, acc, counts, tile_parts, store, periphery):
        """As ``run_serial``, the parts of ``tile_parts`` read in parallel."""
        syn_flat = syn.reshape(-1)
        n_parts = tile_parts.shape[1] - 1
        part_events = np.zeros(n_parts, dtype=np.int64)
        caller_mode = get_fp_mode()
        set_fp_mode(caller_mode | FTZ_DAZ)
        for m in range(n_steps):
            n = begin_step(m, step0, models, v, syn, groups, hist, ext_ptr, pop_counts, rec_on,
                           rec_step, rec_n)
            if n < 0:
                set_fp_mode(caller_mode)
                return m
            step = step0 + m
            for p in prange(n_parts):
                # Every thread runs with the same floating-point mode.
                thread_mode = get_fp_mode()
                set_fp_mode(thread_mode | FTZ_DAZ)
                part_events[p] = deliver(step, step, hist, hist_len, dmin, rows_buf[p], syn_flat,
                                         p, tile_parts, store, periphery, acc[p], counts[p])
                set_fp_mode(thread_mode)
            for p in range(n_parts):
                events[0] += part_events[p]
            finish_step(m, step, step % hist.shape[0], n, hist, hist_len, ext_ptr, ext_idx,
                        spike_count, rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every,
                        trace_buf, trace_n, v, syn)
        set_fp_mode(caller_mode)
        return n_steps

    return run_serial, run_parallel


@register("crossbar")
class CrossbarBackend(CpuBackend):
    """Neuron updates of the cpu engine; synaptic input read from RRAM tiles.

    ``settings``: the :class:`~neurosim.config.crossbar.CrossbarConfig`
    (defaults when ``None``); ``seed`` seeds programming and read noise.
    Programmed conductances are fixed: plastic projections are refused.
    """

    plastic = False
    #: A part per this many neurons at most: below it, a step's reads cost
    #: about as much as waking the threads (``benchmarks/bench_crossbar.py
    #: --threads``).
    min_neurons_per_part = 4_000

    def __init__(self, network, threads: int = 1, device: str = "cpu",
                 settings: CrossbarConfig | None = None, seed: int = 0) -> None:
        super().__init__(network, threads, device)
        n = network.n_neurons
        # The cpu engine's split serves its synapse lists, not read here.
        self.cuts = None
        self.parts = min(threads, max(1, n // self.min_neurons_per_part))
        self.settings = settings if settings is not None else CrossbarConfig()
        self._map(network, seed)
        self.periphery = self.tiles.periphery

    @classmethod
    def from_config(cls, network, cfg, threads: int = 1) -> CrossbarBackend:
        return cls(network, threads, device=cfg.device, settings=cfg.crossbar, seed=cfg.seed)

    def _map(self, net, seed: int) -> None:
        """One programmed matrix per (projection group, delay slot)."""
        n = net.n_neurons
        groups, seen = [], set()
        for index, proj in enumerate(net.projections):
            group = (proj.source, proj.target, proj.receptor)
            if group in seen:  # net.synapses() already returned it with the first one
                continue
            seen.add(group)
            syn = net.synapses(proj.name)
            src, tgt = net.population(proj.source), net.population(proj.target)
            groups.append((index, proj, syn, src, tgt, np.unique(syn["delay"])))
        self._check_memory(groups, np.dtype(net.dtype).itemsize)
        self._mat_projection = []

        def matrices():
            # One dense matrix at a time: the projection programs it, then drops it.
            for index, proj, syn, src, tgt, delays in groups:
                for delay in delays:
                    sel = syn["delay"] == delay
                    w = np.zeros((src.size, tgt.size))
                    where = (syn["pre"][sel], syn["post"][sel])  # local to the populations
                    np.add.at(w, where, syn["weight"][sel])
                    used = np.zeros(w.shape, dtype=bool)
                    used[where] = True
                    seed_m = seeds.stream_int(seed, seeds.CROSSBAR, len(self._mat_projection),
                                              bits=32)
                    self._mat_projection.append(index)
                    yield Matrix(w, used, seed_m, slot=delay - net.dmin, first_source=src.start,
                                 first_target=proj.receptor * n + tgt.start,
                                 synapses_per_row=np.bincount(where[0], minlength=src.size))

        self.tiles = CrossbarProjection(self.settings, matrices(), net.dtype,
                                        noise_key(seed, seeds.CROSSBAR))
        n_mats = len(self._mat_projection)
        # Each part reads a share of every matrix's tile columns (whole tiles).
        self._tile_parts = self.tiles.tile_parts(self.parts)
        # Per part: tile work counts and scratch (driven rows, a tile's columns).
        self._counts = np.zeros((self.parts, n_mats, 3), dtype=np.int64)
        self._acc = np.zeros((self.parts, self.settings.tile_cols), dtype=net.dtype)
        self._rows_buf = np.zeros((self.parts, 0), dtype=np.int64)

    @property
    def counts(self) -> np.ndarray:
        """Per matrix (tile reads, driven rows, column outputs) so far."""
        return self._counts.sum(axis=0)

    def _check_memory(self, groups, itemsize: int) -> None:
        """Refuse tiles that would not fit, before programming any.

        Kept: every tile's cells (at most: sparse matrices keep fewer);
        transient: the largest matrix's dense weights, conductance pairs and
        the chain's temporaries (float64).
        """
        rows, cols = self.settings.tile_rows, self.settings.tile_cols
        kept, largest = 0, 0
        for *_, src, tgt, delays in groups:
            tr, tc = tile_grid(src.size, tgt.size, rows, cols)
            size = tr * rows * tc * cols
            kept += size * len(delays)
            largest = max(largest, size)
        check_fits(kept * itemsize + largest * 8 * 8, "the crossbar tiles (dense, every cell stored)")

    def _run_kernel(self, args: tuple, plastic: tuple) -> int:
        # plastic is unused: plastic projections are refused here.
        if self._rows_buf.shape[1] < self.hist.shape[1]:
            self._rows_buf = np.zeros((self.parts, self.hist.shape[1]), dtype=np.int64)
        run_serial, run_parallel = crossbar_loops(self.models)
        tiles = (self._rows_buf, self._acc, self._counts, self._tile_parts, self.tiles.store,
                 self.tiles.periphery_args())
        if self.parts > 1:
            return run_parallel(*args, *tiles)
        return run_serial(*args, *tiles)

    def state(self) -> dict[str, np.ndarray]:
        # Read noise is keyed by step, so the tiles' work counts are all they add.
        return {**super().state(), "tile_counts": self.counts}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        super().restore(state)
        self._counts[:] = 0
        self._counts[0] = state["tile_counts"]

    def hardware_counters(self, synaptic_events: dict[str, int]) -> dict[str, dict[str, int]]:
        """Tile work per projection (projections sharing source, target and
        receptor share tiles: their work is reported under the first of them).

        Per tile read: ``crossbar_reads`` 1; ``activated_rows`` and
        ``dac_conversions`` the driven rows; ``adc_conversions`` and
        ``digital_accumulations`` the tile's columns; ``bytes_moved`` 4 per
        driven row address plus one float per column output.
        """
        out_bytes = np.dtype(self.network.dtype).itemsize
        counters = {name: dict.fromkeys(HARDWARE_COUNTERS, 0) for name in synaptic_events}
        counts = self.counts
        for m, index in enumerate(self._mat_projection):
            row = counters[self.network.projections[index].name]
            for key, value in tile_work(*(int(x) for x in counts[m]), out_bytes).items():
                row[key] += value
        return counters
