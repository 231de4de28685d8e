"""The compiled halves of a distributed step: a rank's spikes out, everyone's spikes in.

Between exchanges a rank runs the step loops of :mod:`neurosim.engine.kernels`
on its own neurons, so the spike rows of those steps hold its local
indices.  :func:`own_spikes` turns them into global ones to send;
:func:`join_spikes` writes back each step's row as one process would have
it (every rank's spikes in ascending global order, then the external
events), then counts, records and, in plastic networks, applies that step's
plasticity, as the one-process loop does after each step.
"""

import numpy as np
from numba import njit

from neurosim.engine.fpu import FTZ_DAZ, get_fp_mode, set_fp_mode
from neurosim.engine.kernels import _plasticity, finish_step


@njit(cache=True)
def own_spikes(step0, n_steps, hist, hist_len, rank, ranks, counts, out):
    """This rank's spikes of steps ``step0 ..``: ``counts[m]`` per step, global ids in ``out``;
    returns how many."""
    n_hist = hist.shape[0]
    n = 0
    for m in range(n_steps):
        row = (step0 + m) % n_hist
        counts[m] = hist_len[row]
        for q in range(hist_len[row]):
            out[n] = hist[row, q] * ranks + rank
            n += 1
    return n


@njit(cache=True)
def join_spikes(step0, n_steps, counts, spikes, ext_ptr, ext_idx, hist, hist_len, spike_count,
                rec_on, rec_step, rec_idx, rec_n, plastic, weights, plastic_state,
                plastic_args):
    """Write steps ``step0 ..``'s global spike rows from every rank's spikes.

    ``counts[r, m]``: rank ``r``'s spikes in step ``m``; ``spikes``: theirs,
    rank after rank, each step's ascending.  ``ext_ptr``/``ext_idx``: the
    external events of these steps.  ``spike_count`` is global.
    """
    ranks = counts.shape[0]
    n_hist = hist.shape[0]
    start = np.zeros(ranks, dtype=np.int64)
    for r in range(1, ranks):
        start[r] = start[r - 1] + counts[r - 1].sum()
    head = start.copy()
    heap = np.empty(ranks, dtype=np.int64)  # ranks with spikes left, by their next id
    caller_mode = get_fp_mode()
    set_fp_mode(caller_mode | FTZ_DAZ)
    no_traces = np.empty(0, dtype=np.int64)
    no_buffer = np.empty((0, 0, 0), dtype=hist.dtype)
    for m in range(n_steps):
        row = (step0 + m) % n_hist
        end = head + counts[:, m]
        size = 0
        for r in range(ranks):
            if head[r] < end[r]:
                heap[size] = r
                size += 1
                _sift_up(heap, size - 1, spikes, head)
        n = 0
        while size > 0:  # merge the ranks' ascending lists: O(spikes * log ranks)
            best = heap[0]
            hist[row, n] = spikes[head[best]]
            head[best] += 1
            n += 1
            if head[best] == end[best]:
                size -= 1
                heap[0] = heap[size]
            _sift_down(heap, size, spikes, head)
        finish_step(m, step0 + m, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count, rec_on,
                    rec_step, rec_idx, rec_n, no_traces, 1, no_buffer, rec_n,
                    hist[0], no_buffer[0])
        if plastic:
            _plasticity(m, row, hist, hist_len, weights, plastic_state, plastic_args)
    set_fp_mode(caller_mode)


@njit(cache=True)
def _sift_up(heap, i, spikes, head):
    while i > 0:
        parent = (i - 1) // 2
        if spikes[head[heap[parent]]] <= spikes[head[heap[i]]]:
            return
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent


@njit(cache=True)
def _sift_down(heap, size, spikes, head):
    i = 0
    while True:
        least, left = i, 2 * i + 1
        if left < size and spikes[head[heap[left]]] < spikes[head[heap[least]]]:
            least = left
        if left + 1 < size and spikes[head[heap[left + 1]]] < spikes[head[heap[least]]]:
            least = left + 1
        if least == i:
            return
        heap[least], heap[i] = heap[i], heap[least]
        i = least
