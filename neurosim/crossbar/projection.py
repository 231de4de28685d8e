"""Spike-driven reads of crossbar tiles: the crossbar implementation of a projection.

A projection's weight matrix (rows = sources, columns = targets) is
programmed onto tiles (:func:`~neurosim.crossbar.tiles.program`).  A spike
drives its row with one binary read pulse, so no multi-bit DAC is involved.
One *read* drives rows ``r_1 < ... < r_k`` at once: every fabricated tile in
a tile row holding a driven row is read once; each of its columns sums the
driven rows' cells ``G+ - G-`` in row order, gets the read noise of the
tile row's driven rows (:meth:`~neurosim.crossbar.periphery.Periphery.column_std`),
is digitised by the tile's ADC, scaled by the tile's digital gain and added
to its target.  Tiles in tile rows without a driven row are not read, nor
tiles without a synapse (not fabricated).  A projection is a list of
:class:`Matrix` es, each reading the spikes of its sources from a ring of
spike lists with its delay (:func:`deliver`): the ``crossbar`` backend reads
its projections this way every step (a matrix per projection and delay,
the step as read number); the RRAM liquid once per sample and step, the
sample's active rows as its spikes (:meth:`CrossbarProjection.read`,
:mod:`neurosim.reservoir.rram_lsm`).

Read noise of read number ``q`` on tile ``t`` of ``n_tiles`` uses the pool
window of counter ``q * n_tiles + t``
(:func:`~neurosim.crossbar.periphery.noise_window`), so it is a pure function
of the key, the read number and the tile: results depend neither on chunking
nor on batches.  A read may be restricted to a range of tile columns (a
thread's share): each column gets the same arithmetic as in a whole read, so
any split of the tiles between threads gives the same bits.

Storage.  A dense matrix is read in place: a row's cells are contiguous
across its tile row (a driven row is one stretch of memory), and a read
streams every cell of its rows, since each one conducts.  A matrix whose
cells are mostly exact zeros (ideal programming leaves both devices of an
unused pair at ``g_min``; the random-device mode leaves unused pairs
pristine) keeps only its nonzero cells, per row and tile: reading dense rows
of a sparse network is memory traffic for zeros.  Both layouts give the same
values: adding a zero cell changes no sum, and the noise and ADC pass still
covers every column of a read tile (from a scratch row).  With an ideal
periphery a single driven row adds only its nonzero cells; the dense read
would also add ``+0.0`` to the other columns, which turns a target holding
``-0.0`` into ``+0.0``: that sign of zero is the one difference, and no spike
depends on it.  Arithmetic runs in the cells' type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from neurosim.config.crossbar import CrossbarConfig
from neurosim.crossbar.periphery import Periphery, adc, noise_pool, noise_window
from neurosim.crossbar.tiles import from_tiles, program, to_tiles
from neurosim.engine.fpu import FTZ_DAZ, get_fp_mode, set_fp_mode

#: A matrix keeps only its nonzero cells when they are at most this fraction
#: of its cells: a kept cell costs a value and a 2-byte column (1.5 dense
#: cells) and is scattered, not streamed.
SPARSE_FRACTION = 0.125
#: Columns of :attr:`CrossbarProjection.mats`.
N_ROWS, N_COLS, TILE0, TILE_COLS, CELL0, PTR0, SLOT, SOURCE0, TARGET0 = range(9)


class Matrix(NamedTuple):
    """One matrix of a projection and where its spikes come from and go."""

    weights: np.ndarray
    """``(rows, columns)``: rows are sources, columns targets."""
    used: np.ndarray | None = None
    """Cells that carry a synapse (default: the nonzero weights)."""
    seed: int = 0
    """Programming and device seed (:func:`~neurosim.crossbar.tiles.program`)."""
    slot: int = 0
    """Delay slot: the matrix reads the spikes of ``dmin + slot`` steps ago."""
    first_source: int = 0
    """Spike index of row 0 (rows are ``first_source ..``)."""
    first_target: int = 0
    """Output index of column 0."""
    synapses_per_row: np.ndarray | None = None
    """Synaptic events a spike of each row stands for (default: its used cells)."""


@njit(cache=True)
def _sort(a, n):
    """Insertion sort of ``a[:n]`` (a read's few driven rows)."""
    for i in range(1, n):
        x = a[i]
        j = i - 1
        while j >= 0 and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@njit(cache=True)
def deliver(read, step, hist, hist_len, dmin, rows, out, part, tile_parts, store, periphery,
            acc, counts):
    """One read of every matrix whose spikes are due in step ``step``.

    ``hist[r, :hist_len[r]]`` are spike lists in a ring (step ``s`` in row
    ``s % len(hist)``); matrix ``m`` reads the spikes of step
    ``step - dmin - slot``, those of its sources driving its rows.  Its part
    ``part`` (tile columns ``tile_parts[m, part]:tile_parts[m, part + 1]``)
    is read and added to ``out[first_target + c]`` for each column ``c``;
    ``read`` is the read number (noise).  ``store`` is
    :attr:`CrossbarProjection.store`, ``periphery``
    :meth:`CrossbarProjection.periphery_args`; ``rows`` and ``acc`` (a
    tile's width) are scratch; ``counts[m]`` accumulates (tile reads,
    driven rows, column outputs).  Returns the synaptic events of the driven
    rows, counted by the part holding a matrix's first tile column.

    One function, both layouts' loop nests written out in it: numba counts
    the references of the arrays an inlined call takes (atomic operations),
    and a call per matrix showed in the time of dense reads.
    """
    (mats, cells, sp_ptr, sp_col, sp_val, gain, present, row_synapses, tile_rows,
     tile_cols) = store
    pool, noise_std, key, n_tiles, adc_inv, adc_step, adc_half = periphery
    n_hist = hist.shape[0]
    events = 0
    for m in range(mats.shape[0]):
        emitted = step - (dmin + mats[m, SLOT])
        cb_lo = tile_parts[m, part]
        cb_hi = tile_parts[m, part + 1]
        if emitted < 0 or cb_lo >= cb_hi:
            continue
        src0 = mats[m, SOURCE0]
        src1 = src0 + mats[m, N_ROWS]
        row = emitted % n_hist
        n = 0
        for q in range(hist_len[row]):
            s = hist[row, q]
            if src0 <= s < src1:
                rows[n] = s - src0
                n += 1
        _sort(rows, n)
        if cb_lo == 0:
            for q in range(n):
                events += row_synapses[m, rows[q]]
        n_cols, tile0, tcols = mats[m, N_COLS], mats[m, TILE0], mats[m, TILE_COLS]
        base, cell0, ptr0 = mats[m, TARGET0], mats[m, CELL0], mats[m, PTR0]
        width = tcols * tile_cols
        a = 0
        while a < n:
            # The driven rows of one tile row are read together.
            rb = rows[a] // tile_rows
            b = a
            while b < n and rows[b] // tile_rows == rb:
                b += 1
            std = noise_std[b - a]
            row_tile0 = tile0 + rb * tcols
            for cb in range(cb_lo, cb_hi):
                t = row_tile0 + cb
                if not present[t]:
                    continue
                nc = min(tile_cols, n_cols - cb * tile_cols)
                dst = np.uint64(base + cb * tile_cols)
                gt = gain[t]
                counts[m, 0] += 1
                counts[m, 1] += b - a
                counts[m, 2] += nc
                # Unsigned offsets spare numba's negative-index checks, so
                # the column loops vectorise.
                if cell0 >= 0:
                    # One driven row's cells are read in place.
                    src, off = cells, np.uint64(cell0 + rows[a] * width + cb * tile_cols)
                    if b - a > 1:
                        for c in range(nc):
                            acc[np.uint64(c)] = cells[off + np.uint64(c)]
                        for q in range(a + 1, b):
                            off = np.uint64(cell0 + rows[q] * width + cb * tile_cols)
                            for c in range(nc):
                                acc[np.uint64(c)] += cells[off + np.uint64(c)]
                        src, off = acc, np.uint64(0)
                else:
                    first = ptr0 + cb
                    if b - a == 1 and std == 0.0 and adc_half == 0:
                        # Only the nonzero cells add anything.
                        for e in range(sp_ptr[first + rows[a] * tcols],
                                       sp_ptr[first + rows[a] * tcols + 1]):
                            out[dst + np.uint64(sp_col[e])] += sp_val[e] * gt
                        continue
                    for c in range(nc):
                        acc[np.uint64(c)] = 0.0
                    for q in range(a, b):
                        for e in range(sp_ptr[first + rows[q] * tcols],
                                       sp_ptr[first + rows[q] * tcols + 1]):
                            acc[np.uint64(sp_col[e])] += sp_val[e]
                    src, off = acc, np.uint64(0)
                # Noise, ADC and gain in one pass (the pool is zeros without
                # noise); each tile read draws its own stretch of the pool.
                d0 = noise_window(key, read * n_tiles + t) if std > 0.0 else np.uint64(0)
                if adc_half > 0:
                    for c in range(nc):
                        x = src[off + np.uint64(c)] + std * pool[d0 + np.uint64(c)]
                        out[dst + np.uint64(c)] += adc(x, adc_inv, adc_step, adc_half) * gt
                elif std > 0.0:
                    for c in range(nc):
                        x = src[off + np.uint64(c)] + std * pool[d0 + np.uint64(c)]
                        out[dst + np.uint64(c)] += x * gt
                else:
                    for c in range(nc):
                        out[dst + np.uint64(c)] += src[off + np.uint64(c)] * gt
            a = b
    return events


@njit(cache=True, parallel=True)
def _read_batch(x, reads, spikes, n_spikes, rows, acc, out, counts, tile_parts, store,
                periphery):
    """:func:`deliver` for every sample (row) of ``x``: its nonzero entries
    are the spikes, ``reads[b]`` its read number."""
    for b in prange(x.shape[0]):
        mode = get_fp_mode()
        set_fp_mode(mode | FTZ_DAZ)
        n = 0
        for r in range(x.shape[1]):
            if x[b, r] != 0:
                spikes[b, n] = r
                n += 1
        n_spikes[b, 0] = n
        deliver(reads[b], 0, spikes[b:b + 1], n_spikes[b], 0, rows[b], out[b], 0, tile_parts,
                store, periphery, acc[b], counts[b])
        set_fp_mode(mode)


class CrossbarProjection:
    """Weight matrices programmed onto crossbar tiles, read by spikes.

    Parameters
    ----------
    cfg:
        Device and periphery settings.
    matrices:
        The :class:`Matrix` es, programmed in turn
        (:func:`~neurosim.crossbar.tiles.program`), so only one dense matrix
        is held at a time.
    dtype:
        Type of the stored cells and of the read arithmetic.
    key:
        Read-noise key (:func:`~neurosim.crossbar.periphery.noise_key`).

    Attributes
    ----------
    mats:
        Per matrix (rows, columns, first tile, tiles across, first dense
        cell or -1, first sparse row pointer or -1, delay slot, first
        source, first target).
    counts:
        Per matrix (tile reads, driven rows, column outputs) of
        :meth:`read` (the backend keeps its own per thread).
    """

    def __init__(self, cfg: CrossbarConfig, matrices: Iterable[Matrix], dtype=np.float32,
                 key: np.uint64 = np.uint64(0)) -> None:
        self.cfg = cfg
        self.dtype = np.dtype(dtype)
        self.periphery = Periphery.from_config(cfg)
        self.key = np.uint64(key)
        rows, cols = cfg.tile_rows, cfg.tile_cols
        mats, cells, ptrs, sp_col, sp_val, gains, present, per_row = [], [], [], [], [], [], [], []
        n_cells = n_ptrs = n_entries = n_tiles = 0
        for mat in matrices:
            weights = np.asarray(mat.weights)
            n_in, n_out = weights.shape
            used = weights != 0 if mat.used is None else np.asarray(mat.used, bool)
            tm = program(weights, cfg, mat.seed, used=used, dtype=self.dtype)
            dense = from_tiles(tm.g_diff, tm.tile_cols)
            real = dense[:n_in, :n_out]
            link = (mat.slot, mat.first_source, mat.first_target)
            if np.count_nonzero(real) > SPARSE_FRACTION * real.size:
                mats.append((n_in, n_out, n_tiles, tm.tile_cols, n_cells, -1, *link))
                cells.append(dense.ravel())
                n_cells += dense.size
            else:
                r, c = np.nonzero(real)  # row-major: by row, then column
                slot = r * tm.tile_cols + c // cols
                counts = np.bincount(slot, minlength=n_in * tm.tile_cols)
                ptrs.append(n_entries + np.concatenate([[0], np.cumsum(counts)[:-1]]))
                mats.append((n_in, n_out, n_tiles, tm.tile_cols, -1, n_ptrs, *link))
                sp_col.append((c % cols).astype(np.uint16))
                sp_val.append(real[r, c])
                n_ptrs += counts.size
                n_entries += r.size
            gains.append(tm.gain)
            # A tile without synapses is not fabricated: it is never read.
            present.append(to_tiles(used, rows, cols).any(axis=(1, 2)))
            per_row.append(used.sum(axis=1) if mat.synapses_per_row is None
                           else np.asarray(mat.synapses_per_row))
            n_tiles += tm.gain.size
        self.mats = np.array(mats, dtype=np.int64).reshape(-1, 9)
        self.cells = np.concatenate(cells) if cells else np.zeros(0, self.dtype)
        # One pointer past the last entry: each (row, tile) ends where the next begins.
        self.sp_ptr = np.concatenate(ptrs + [np.array([n_entries])]).astype(np.int64)
        self.sp_col = np.concatenate(sp_col) if sp_col else np.zeros(0, np.uint16)
        self.sp_val = (np.concatenate(sp_val) if sp_val else np.zeros(0)).astype(self.dtype)
        self.gain = (np.concatenate(gains) if gains else np.zeros(0)).astype(self.dtype)
        self.present = np.concatenate(present) if present else np.zeros(0, dtype=bool)
        self.row_synapses = np.zeros((len(mats), max(map(len, per_row), default=0)), np.int64)
        for m, events in enumerate(per_row):
            self.row_synapses[m, : events.size] = events
        self.counts = np.zeros((len(mats), 3), dtype=np.int64)
        self.store = (self.mats, self.cells, self.sp_ptr, self.sp_col, self.sp_val, self.gain,
                      self.present, self.row_synapses, rows, cols)
        self._periphery_args = None
        self._scratch = None

    def tile_parts(self, parts: int) -> np.ndarray:
        """``(matrices, parts + 1)``: where each of ``parts`` parts' share of
        every matrix's tile columns starts (whole tiles, for :func:`deliver`)."""
        tcols = self.mats[:, TILE_COLS]
        split = np.rint(np.outer(tcols, np.arange(parts + 1)) / parts)
        return split.astype(np.int64).reshape(len(self.mats), parts + 1)

    @property
    def n_tiles(self) -> int:
        return int(self.gain.size)

    def shape(self, m: int = 0) -> tuple[int, int]:
        """Rows and columns of matrix ``m``."""
        return int(self.mats[m, N_ROWS]), int(self.mats[m, N_COLS])

    def periphery_args(self) -> tuple:
        """The ``periphery`` argument of :func:`deliver` (built once)."""
        if self._periphery_args is None:
            per, dtype = self.periphery, self.dtype
            real = dtype.type
            rows, cols = self.cfg.tile_rows, self.cfg.tile_cols
            pool = noise_pool().astype(dtype) if per.read_std > 0 else np.zeros(cols, dtype)
            noise_std = per.column_std(np.arange(rows + 1)).astype(dtype)
            inv = 1.0 / per.adc_step if per.adc_half else 0.0
            self._periphery_args = (pool, noise_std, self.key, np.int64(self.n_tiles), real(inv),
                                    real(per.adc_step), real(per.adc_half))
        return self._periphery_args

    def conductances(self, m: int = 0) -> np.ndarray:
        """Matrix ``m``'s differential conductance per cell as read (siemens), ``(rows, cols)``."""
        n_in, n_out, _, tcols, cell0, ptr0 = (int(v) for v in self.mats[m, :SLOT])
        cols = self.cfg.tile_cols
        if cell0 >= 0:
            width = tcols * cols
            rows = -(-n_in // self.cfg.tile_rows) * self.cfg.tile_rows
            return self.cells[cell0: cell0 + rows * width].reshape(rows, width)[:n_in, :n_out]
        out = np.zeros((n_in, n_out), self.dtype)
        ptr = self.sp_ptr[ptr0: ptr0 + n_in * tcols + 1]
        slot = np.repeat(np.arange(n_in * tcols), np.diff(ptr))
        entries = slice(ptr[0], ptr[-1])
        out[slot // tcols, slot % tcols * cols + self.sp_col[entries]] = self.sp_val[entries]
        return out

    def read(self, x: np.ndarray, reads: np.ndarray) -> np.ndarray:
        """Outputs ``(batch, columns)`` of matrix 0 for binary rows ``x`` ``(batch, rows)``.

        Sample ``b``'s spikes are the rows where ``x[b]`` is nonzero, read
        as read number ``reads[b]``.  Samples run in parallel (numba's threads).
        """
        x = np.ascontiguousarray(x)
        n_in, n_out = self.shape(0)
        batch = x.shape[0]
        if self._scratch is None or self._scratch[0].shape[0] != batch:
            # Per sample: its spikes, its driven rows, a tile's columns, its tile work.
            self._scratch = (np.empty((batch, n_in), np.int32), np.empty((batch, 1), np.int64),
                             np.empty((batch, n_in), np.int64),
                             np.empty((batch, self.cfg.tile_cols), self.dtype),
                             np.zeros((batch, len(self.mats), 3), np.int64), self.tile_parts(1))
        spikes, n_spikes, rows, acc, counts, whole = self._scratch
        counts[:] = 0
        out = np.zeros((batch, n_out), self.dtype)
        _read_batch(x, np.asarray(reads, np.int64), spikes, n_spikes, rows, acc, out, counts,
                    whole, self.store, self.periphery_args())
        self.counts += counts.sum(axis=0)
        return out
