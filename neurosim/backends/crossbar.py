"""The ``crossbar`` backend: synaptic input computed on emulated RRAM tiles.

Neurons advance exactly as on the ``cpu`` backend (the same compiled update,
:func:`neurosim.engine.kernels.begin_step`); only delivery differs.  Each
projection (its source, target and receptor) and each delay it uses becomes
one dense matrix, rows = source neurons, columns = target neurons, mapped
onto tiles and programmed through the device chain of the run config's
``crossbar:`` section (:mod:`neurosim.crossbar`).  Each step, the spikes
emitted ``delay`` steps ago drive their rows with one binary read pulse; every
tile in those rows' tile row is read: its column sums (with read noise) are
digitised by the tile's ADC, scaled by the tile's digital gain and added to
the targets' synaptic state.  Only tiles with a driven row are touched.
Binary pulses need no multi-bit DAC: a driven row counts one 1-bit
conversion.  One thread: the ``threads`` setting is not used.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from neurosim import seeds
from neurosim.backends import register
from neurosim.backends.base import HARDWARE_COUNTERS
from neurosim.backends.cpu import CpuBackend
from neurosim.config.crossbar import CrossbarConfig
from neurosim.crossbar.activity import tile_work
from neurosim.crossbar.periphery import Periphery, adc, noise_key, noise_pool, noise_window
from neurosim.crossbar.tiles import from_tiles, program, tile_grid, to_tiles
from neurosim.engine.fpu import FTZ_DAZ, get_fp_mode, set_fp_mode
from neurosim.engine.kernels import begin_step, finish_step
from neurosim.network.memory import check_fits



@njit(cache=True)
def _sort(a, n):
    """Insertion sort of ``a[:n]`` (a step's few driven rows)."""
    for i in range(1, n):
        x = a[i]
        j = i - 1
        while j >= 0 and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@njit(cache=True)
def _deliver_tiles(step, hist, hist_len, dmin, mats, cells, tile_rows, tile_cols, gain, syn_flat,
                   present, row_synapses, rows_buf, acc, pool, noise_std, key,
                   adc_inv, adc_step, adc_half, counts):
    """Read every tile with a driven row and add its digitised outputs.

    ``mats[m]`` = (delay slot, first source, source end, first flat target
    column, columns, first tile, tile columns, first cell) of matrix ``m``,
    whose cells (G+ - G-) lie in ``cells`` row by row across its tiles (a
    driven row's cells in every tile are then one contiguous stretch);
    ``present[t]``: tile ``t`` holds a synapse (others are skipped);
    ``row_synapses[m, r]``: synapses in source row ``r`` of matrix ``m``;
    ``acc``: scratch of a tile's columns; ``pool``: the read-noise draws
    (:func:`~neurosim.crossbar.periphery.noise_pool`; zeros without read
    noise); ``noise_std[k]``: a column's read-noise std when ``k`` rows are
    driven; ``adc_inv``, ``adc_step``, ``adc_half`` (0: ideal ADC) in the cells'
    type; ``counts[m]`` accumulates (tile reads, driven rows, column
    outputs).  Returns the synaptic events delivered (synapses of the driven
    rows), as the cpu engine counts them.
    """
    n_hist = hist.shape[0]
    n_tiles = gain.size
    events = 0
    for m in range(mats.shape[0]):
        slot, src0, src1, col0, n_cols, tile0, tcols, cell0 = mats[m]
        emitted = step - (dmin + slot)
        if emitted < 0:
            continue
        row = emitted % n_hist
        n = 0
        for q in range(hist_len[row]):
            s = hist[row, q]
            if src0 <= s < src1:
                rows_buf[n] = s - src0
                events += row_synapses[m, s - src0]
                n += 1
        _sort(rows_buf, n)
        width = tcols * tile_cols
        a = 0
        while a < n:
            rb = rows_buf[a] // tile_rows
            b = a
            while b < n and rows_buf[b] // tile_rows == rb:
                b += 1
            std = noise_std[b - a]
            row_tile0 = tile0 + rb * tcols
            for cb in range(tcols):
                t = row_tile0 + cb
                if not present[t]:
                    continue
                nc = min(tile_cols, n_cols - cb * tile_cols)
                base = np.uint64(col0 + cb * tile_cols)
                gt = gain[t]
                counts[m, 0] += 1
                counts[m, 1] += b - a
                counts[m, 2] += nc
                # The column sums: one driven row's cells are read in place.
                # Unsigned offsets spare numba's negative-index checks, so the
                # column loops vectorise.
                src, off = cells, np.uint64(cell0 + rows_buf[a] * width + cb * tile_cols)
                if b - a > 1:
                    for c in range(nc):
                        acc[np.uint64(c)] = cells[off + np.uint64(c)]
                    for q in range(a + 1, b):
                        off = np.uint64(cell0 + rows_buf[q] * width + cb * tile_cols)
                        for c in range(nc):
                            acc[np.uint64(c)] += cells[off + np.uint64(c)]
                    src, off = acc, np.uint64(0)
                # Noise, ADC and gain in one pass (the pool is zeros without
                # noise); each tile read draws its own stretch of the pool.
                d0 = noise_window(key, step * n_tiles + t) if std > 0.0 else np.uint64(0)
                if adc_half > 0:
                    for c in range(nc):
                        x = src[off + np.uint64(c)] + std * pool[d0 + np.uint64(c)]
                        syn_flat[base + np.uint64(c)] += adc(x, adc_inv, adc_step, adc_half) * gt
                elif std > 0.0:
                    for c in range(nc):
                        x = src[off + np.uint64(c)] + std * pool[d0 + np.uint64(c)]
                        syn_flat[base + np.uint64(c)] += x * gt
                else:
                    for c in range(nc):
                        syn_flat[base + np.uint64(c)] += src[off + np.uint64(c)] * gt
            a = b
    return events


@functools.cache
def crossbar_loop(models: int):
    """:func:`run_crossbar` compiled for the models in the bit mask ``models``
    (as :func:`neurosim.engine.kernels.step_loops`)."""

    @njit(cache=True)
    def run_crossbar(step0, n_steps, v, syn, groups,
                     indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                     spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                     trace_idx, trace_every, trace_buf, trace_n,
                     mats, cells, tile_rows, tile_cols, gain, present, row_synapses, rows_buf, acc,
                     pool, noise_std, key, adc_inv, adc_step, adc_half, counts):
        """:func:`neurosim.engine.kernels.run_serial` with delivery through the tiles:
        the same steps (:func:`~neurosim.engine.kernels.begin_step`, then
        :func:`_deliver_tiles`, then :func:`~neurosim.engine.kernels.finish_step`).

        Takes run_serial's arguments first (the synapse list ``indptr``,
        ``targets``, ``weights``, ``n_slots`` is not read: the tiles replace it;
        ``events`` counts synaptic events), then the tiles'.
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
            events[0] += _deliver_tiles(step, hist, hist_len, dmin, mats, cells, tile_rows,
                                        tile_cols, gain, syn_flat, present, row_synapses, rows_buf,
                                        acc, pool, noise_std, key, adc_inv, adc_step, adc_half,
                                        counts)
            finish_step(m, step, step % hist.shape[0], n, hist, hist_len, ext_ptr, ext_idx,
                        spike_count, rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every,
                        trace_buf, trace_n, v, syn)
        set_fp_mode(caller_mode)
        return n_steps

    return run_crossbar


@register("crossbar")
class CrossbarBackend(CpuBackend):
    """Neuron updates of the cpu engine; synaptic input read from RRAM tiles.

    ``settings``: the :class:`~neurosim.config.crossbar.CrossbarConfig`
    (defaults when ``None``); ``seed`` seeds programming and read noise.
    Programmed conductances are fixed: plastic projections are refused.
    """

    plastic = False

    def __init__(self, network, threads: int = 1, device: str = "cpu",
                 settings: CrossbarConfig | None = None, seed: int = 0) -> None:
        super().__init__(network, 1, device)
        self.settings = settings if settings is not None else CrossbarConfig()
        self.periphery = Periphery.from_config(self.settings)
        self._map(network, seed)
        self._key = noise_key(seed, seeds.CROSSBAR)

    @classmethod
    def from_config(cls, network, cfg, threads: int = 1) -> CrossbarBackend:
        return cls(network, threads, device=cfg.device, settings=cfg.crossbar, seed=cfg.seed)

    def _map(self, net, seed: int) -> None:
        """One programmed matrix per (projection group, delay slot)."""
        n = net.n_neurons
        rows, cols = self.settings.tile_rows, self.settings.tile_cols
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
        mats, cells, gains, present, self._mat_projection = [], [], [], [], []
        row_synapses = []
        for index, proj, syn, src, tgt, delays in groups:
            for delay in delays:
                sel = syn["delay"] == delay
                w = np.zeros((src.size, tgt.size))
                where = (syn["pre"][sel], syn["post"][sel])  # local to the populations
                np.add.at(w, where, syn["weight"][sel])
                used = np.zeros(w.shape, dtype=bool)
                used[where] = True
                tm = program(w, self.settings,
                             seeds.stream_int(seed, seeds.CROSSBAR, len(mats), bits=32),
                             used=used, dtype=net.dtype)
                mats.append((delay - net.dmin, src.start, src.stop, proj.receptor * n + tgt.start,
                             tgt.size, sum(g.size for g in gains), tm.tile_cols,
                             sum(c.size for c in cells)))
                cells.append(from_tiles(tm.g_diff, tm.tile_cols).ravel())
                gains.append(tm.gain)
                # A tile without synapses is not fabricated: it is never read.
                present.append(to_tiles(used, rows, cols).any(axis=(1, 2)))
                row_synapses.append(np.bincount(where[0], minlength=src.size))
                self._mat_projection.append(index)
        self.mats = np.array(mats, dtype=np.int64).reshape(-1, 8)
        self.cells = np.concatenate(cells).astype(net.dtype) if cells else np.zeros(0, net.dtype)
        self.gain = (np.concatenate(gains) if gains else np.zeros(0)).astype(net.dtype)
        self.present = np.concatenate(present) if present else np.zeros(0, dtype=bool)
        self.counts = np.zeros((len(mats), 3), dtype=np.int64)
        self.row_synapses = np.zeros((len(mats), max(map(len, row_synapses), default=0)),
                                     dtype=np.int64)
        for m, per_row in enumerate(row_synapses):
            self.row_synapses[m, : per_row.size] = per_row
        self._acc = np.zeros(cols, dtype=net.dtype)

    def _check_memory(self, groups, itemsize: int) -> None:
        """Refuse tiles that would not fit, before programming any.

        Kept: every tile's cells; transient: the largest matrix's dense
        weights, conductance pairs and the chain's temporaries (float64).
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
        per = self.periphery
        rows_buf = np.zeros(self.hist.shape[1], dtype=np.int64)
        dtype = self.network.dtype  # noise and ADC arithmetic in the cells' type
        real = np.dtype(dtype).type
        inv = 1.0 / per.adc_step if per.adc_half else 0.0
        rows, cols = self.settings.tile_rows, self.settings.tile_cols
        pool = noise_pool().astype(dtype) if per.read_std > 0 else np.zeros(cols, dtype)
        noise_std = per.column_std(np.arange(rows + 1)).astype(dtype)
        # plastic is unused: plastic projections are refused here.
        return crossbar_loop(self.models)(*args, self.mats, self.cells, rows, cols, self.gain, self.present,
                            self.row_synapses, rows_buf, self._acc, pool, noise_std, self._key,
                            real(inv), real(per.adc_step), real(per.adc_half), self.counts)

    def state(self) -> dict[str, np.ndarray]:
        # Read noise is keyed by step, so the tiles' work counts are all they add.
        return {**super().state(), "tile_counts": self.counts.copy()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        super().restore(state)
        self.counts[:] = state["tile_counts"]

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
        for m, index in enumerate(self._mat_projection):
            row = counters[self.network.projections[index].name]
            for key, value in tile_work(*(int(x) for x in self.counts[m]), out_bytes).items():
                row[key] += value
        return counters
