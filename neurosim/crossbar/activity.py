"""Crossbar work counted from spikes: which tiles a spike train reads.

A weight matrix ``(n_in, n_out)`` lies on tiles of ``tile_rows x tile_cols``
(as :func:`neurosim.crossbar.tiles.to_tiles` cuts it); a tile without a
synapse is not fabricated and never read.  In a step, the presynaptic
neurons that spiked drive their rows; every fabricated tile in a tile row
with a driven row is read once.  Per read, as the ``crossbar`` backend counts
(:meth:`neurosim.backends.crossbar.CrossbarBackend.hardware_counters`):
``crossbar_reads`` 1, ``activated_rows`` and ``dac_conversions`` the driven
rows of that tile row, ``adc_conversions`` and ``digital_accumulations`` the
tile's columns (fewer in an edge tile), ``bytes_moved`` a row address per
driven row and a partial sum per column output.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.crossbar.tiles import tile_grid
from neurosim.result import HARDWARE_COUNTERS

#: Bytes moved per driven row (its int32 row address).
ROW_ADDRESS_BYTES = 4


def fabricated_tiles(pre: np.ndarray, post: np.ndarray, n_in: int, n_out: int,
                     tile_rows: int, tile_cols: int) -> np.ndarray:
    """``(tiles down, tiles across)`` bool: which tiles hold a synapse ``pre -> post``."""
    present = np.zeros(tile_grid(n_in, n_out, tile_rows, tile_cols), dtype=bool)
    present[np.asarray(pre) // tile_rows, np.asarray(post) // tile_cols] = True
    return present


@njit(cache=True)
def _count(step_ptr, rows, present, tile_rows, tile_cols, n_out, out):
    for t in range(step_ptr.size - 1):
        a = step_ptr[t]
        end = step_ptr[t + 1]
        while a < end:
            rb = rows[a] // tile_rows
            b = a
            while b < end and rows[b] // tile_rows == rb:
                b += 1
            for cb in range(present.shape[1]):
                if present[rb, cb]:
                    out[0] += 1
                    out[1] += b - a
                    out[2] += min(tile_cols, n_out - cb * tile_cols)
            a = b


def tile_activity(step_ptr: np.ndarray, rows: np.ndarray, present: np.ndarray,
                  tile_rows: int, tile_cols: int, n_out: int) -> tuple[int, int, int]:
    """(tile reads, driven rows over all reads, column outputs) of a spike train.

    ``rows[step_ptr[t]:step_ptr[t + 1]]`` are the rows (presynaptic neurons)
    driven in step ``t``, in increasing order; ``present`` is
    :func:`fabricated_tiles` of the matrix, whose ``n_out`` columns fix the
    width of its edge tiles.
    """
    out = np.zeros(3, np.int64)
    _count(np.asarray(step_ptr, np.int64), np.asarray(rows, np.int64), present,
           int(tile_rows), int(tile_cols), int(n_out), out)
    return int(out[0]), int(out[1]), int(out[2])


def tile_work(reads: int, rows: int, cols: int, out_bytes: int) -> dict[str, int]:
    """The hardware counters (:data:`~neurosim.result.HARDWARE_COUNTERS`) of
    ``reads`` tile reads driving ``rows`` rows and converting ``cols``
    columns, with partial sums of ``out_bytes`` bytes."""
    work = dict.fromkeys(HARDWARE_COUNTERS, 0)
    work.update(crossbar_reads=reads, activated_rows=rows, dac_conversions=rows,
                adc_conversions=cols, digital_accumulations=cols,
                bytes_moved=ROW_ADDRESS_BYTES * rows + out_bytes * cols)
    return work
