"""The compiled event-driven core.

One call advances the network by many steps.  Each step:

1. *advance*: every neuron's state is propagated by one step (exact for the
   linear part), refractory neurons are clamped, threshold crossings reset the
   neuron and append its index to this step's spike list.  A refractory
   neuron's ``v`` holds its count of held steps (see :data:`HELD`), so the
   update loop streams nothing but ``v`` and the synaptic state;
2. *deliver*: for every delay slot ``d``, the spikes emitted ``d`` steps ago
   walk their outgoing synapses of that delay and add the weight straight into
   the target's synaptic state (no dense input buffer to clear each step);
3. *finish*: external events (Poisson, spike generators) join the spike list;
   spike counters, recorded spikes and state traces are updated.

Cost per step is ``O(N + spikes x fan-out)``.  The spike history is a ring of
``max_delay + 1`` rows.  With several threads, the neurons are split into
contiguous parts, one per thread: each part advances its neurons and delivers
only into its own targets (rows are sorted by target, so each part's share of
a row is a stretch found once before the run, :func:`row_cuts`).  Every target
receives its inputs in the same order as on one thread, so the result is
bit-identical for any thread count.
"""

import numpy as np
from numba import njit, prange

from neurosim.engine.fpu import FTZ_DAZ, get_fp_mode, set_fp_mode
from neurosim.engine.prefetch import DISTANCE, prefetch
from neurosim.models.lif import MODEL_CODES

LIF_EXP = MODEL_CODES["lif_exp"]
_BLOCK = 256

#: A refractory neuron stores ``v = -(HELD + k)``: it is held at ``V_reset``
#: for the next ``k`` steps (``k = 0``: it integrates from ``V_reset`` next).
#: No membrane reaches -2**20 V, and ``HELD + k`` is an exact integer in
#: float32 up to 2**24, so counting down is exact (``k`` < 2**24 - 2**20).
#: Without a separate marker array the update loop moves 24 instead of 26
#: bytes per neuron and step, in 32-bit lanes only: the loop alone ran 14-20 %
#: faster from 4,000 to 400,000 neurons; whole steps at 40,000 and 400,000
#: were unchanged (paired runs).  Backends decode it (``CpuBackend.state``,
#: traces).
HELD = 2**20
MAX_HELD_STEPS = 2**24 - HELD - 1
_HELD = np.float32(-HELD)           # at or below: encoded
_HELD_1 = np.float32(-HELD - 1)     # at or below: held in this step
_HELD_2 = np.float32(-HELD - 2)     # at or below: still held in the next step
_ONE = np.float32(1)

# The parts of a step are inlined into the step loops (inline="always"), so no
# compiled call is made per step or per block.  With the held steps in v and
# the stretch prefetch, a 4,000-neuron run on one thread went from 0.035 s to
# 0.029 s (medians of 10 alternating fresh processes); at 400,000 neurons
# inlining alone changed nothing (paired runs).


@njit(cache=True, inline="always")
def _lif_exp_update(a, b, v, syn, par, spiked_code):
    """One exact step of current-based LIF neurons ``a:b``; True if any spiked.

    A held neuron (see :data:`HELD`) counts down and ends at ``V_reset``; a
    spike stores ``spiked_code`` (``-(HELD + t_ref_steps)``), which also marks
    it for collection in :func:`_advance_range`.  Branch-free, so the compiler
    vectorises it (the boolean "any" reduction keeps the vectors wide;
    counting in the loop would force 64-bit lanes).  Subnormal synaptic values
    flush to zero (see :mod:`neurosim.engine.fpu`).  Indices are unsigned,
    which spares the negative-index checks that would stop vectorisation,
    without slicing (views cost more than a small step).
    """
    p22, p21e, p21i, p11e, p11i = par[0], par[1], par[2], par[3], par[4]
    drive, v_th, v_reset = par[5], par[6], par[7]
    any_spiked = False
    first = np.uint64(a)
    for k in range(b - a):
        i = first + np.uint64(k)
        x = v[i]
        e = syn[0, i]
        g = syn[1, i]
        v_new = p22 * (v_reset if x <= _HELD else x) + p21e * e + p21i * g + drive
        syn[0, i] = e * p11e
        syn[1, i] = g * p11i
        held = x <= _HELD_1
        spiked = (v_new >= v_th) & ~held
        v_new = spiked_code if spiked else v_new
        v[i] = ((x + _ONE) if x <= _HELD_2 else v_reset) if held else v_new
        any_spiked |= spiked
    return any_spiked


@njit(cache=True, inline="always")
def _lif_cond_exp_update(a, b, v, syn, par, spiked_code):
    """One step of conductance-based LIF neurons (see :func:`_lif_exp_update`).

    Exponential Euler: with conductances frozen over the step the membrane
    relaxes exactly towards its momentary equilibrium ``v_inf``.  The held,
    threshold and reset lines repeat those of :func:`_lif_exp_update` on
    purpose: a compiled call taking arrays inside this loop costs reference
    counting per neuron (measured 25-50x slower).
    """
    dt_c, g_l, leak_drive, e_e, e_i = par[0], par[1], par[2], par[3], par[4]
    p11e, p11i, v_th, v_reset = par[5], par[6], par[7], par[8]
    any_spiked = False
    first = np.uint64(a)
    for k in range(b - a):
        i = first + np.uint64(k)
        x = v[i]
        ge = syn[0, i]
        gi = syn[1, i]
        g_tot = g_l + ge + gi
        v_inf = (leak_drive + ge * e_e + gi * e_i) / g_tot
        v_new = v_inf + ((v_reset if x <= _HELD else x) - v_inf) * np.exp(-dt_c * g_tot)
        syn[0, i] = ge * p11e
        syn[1, i] = gi * p11i
        held = x <= _HELD_1
        spiked = (v_new >= v_th) & ~held
        v_new = spiked_code if spiked else v_new
        v[i] = ((x + _ONE) if x <= _HELD_2 else v_reset) if held else v_new
        any_spiked |= spiked
    return any_spiked


@njit(cache=True, inline="always")
def _advance_range(lo, hi, pop_bounds, pop_model, pop_par, pop_ref, v, syn, out, row, n,
                   counts, count_row):
    """Advance neurons ``lo:hi`` by one step; append spikes to ``out[row, n:]``;
    return new n.  Spikes per population are added to ``counts[count_row, p]``.
    """
    for p in range(pop_model.size):
        a = max(lo, pop_bounds[p])
        b = min(hi, pop_bounds[p + 1])
        model = pop_model[p]
        if a >= b or model < 0:
            continue
        par = pop_par[p]
        spiked_code = _HELD - np.float32(pop_ref[p])
        n0 = n
        # Blocks small enough that a block with a spike is still in L1 cache
        # when it is scanned, so the state is read from memory once per step.
        for b0 in range(a, b, _BLOCK):
            b1 = min(b0 + _BLOCK, b)
            if model == LIF_EXP:
                any_spiked = _lif_exp_update(b0, b1, v, syn, par, spiked_code)
            else:
                any_spiked = _lif_cond_exp_update(b0, b1, v, syn, par, spiked_code)
            if any_spiked:
                for k in range(b1 - b0):
                    if v[np.uint64(b0 + k)] == spiked_code:
                        out[row, n] = b0 + k
                        n += 1
        counts[count_row, p] += n - n0
    return n


@njit(cache=True)
def _lower_bound(targets, lo, hi, value):
    while lo < hi:
        mid = (lo + hi) >> 1
        if targets[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _scatter_add(syn_flat, targets, weights, a, b):
    for j in range(np.uint64(a), np.uint64(b)):
        syn_flat[np.uint64(targets[j])] += weights[j]


@njit(cache=True)
def row_cuts(indptr, targets, part_bounds, n_neurons):
    """Where each thread's share of every row starts, found once before a run.

    Rows are sorted by flat target ``receptor * N + neuron``, so part ``p``'s
    targets in a row are one stretch per receptor.  Returns, per row, the
    offsets (from the row start) of the ``2 * parts - 1`` interior cut points
    ``receptor * N + part_bounds[p]``; a binary search per spike and part in
    the step loop would cost more than the delivery it splits.
    """
    n_parts = part_bounds.size - 1
    thresholds = np.empty(2 * n_parts - 1, dtype=np.int64)
    for t in range(1, 2 * n_parts):
        receptor, p = divmod(t, n_parts)
        thresholds[t - 1] = receptor * n_neurons + part_bounds[p]
    cuts = np.empty((indptr.size - 1, thresholds.size), dtype=np.int32)
    for row in range(indptr.size - 1):
        a = indptr[row]
        b = indptr[row + 1]
        for t in range(thresholds.size):
            cuts[row, t] = _lower_bound(targets, a, b, thresholds[t]) - a
    return cuts


@njit(cache=True, inline="always")
def _deliver_range(step, hist, hist_len, indptr, targets, weights, dmin, n_slots, syn_flat,
                   part, n_parts, cuts):
    """Deliver due spikes into part ``part`` of ``n_parts``; return the events.

    Targets are flat indices ``receptor * N + neuron`` into ``syn_flat``; with
    more than one part, only this part's stretches of each row (one per
    receptor, from :func:`row_cuts`) are touched.
    """
    n_hist = hist.shape[0]
    last = 2 * n_parts
    events = 0
    for k in range(n_slots):
        emitted = step - (dmin + k)
        if emitted < 0:
            continue
        row = emitted % n_hist
        n_spikes = hist_len[row]
        for q in range(n_spikes):
            if q + DISTANCE < n_spikes:
                # The start of what this part will read of a later spike's row.
                later = hist[row, q + DISTANCE] * n_slots + k
                ahead = indptr[later]
                for receptor in range(1 if n_parts == 1 else 2):
                    t0 = receptor * n_parts + part
                    start = ahead if t0 == 0 else ahead + cuts[later, t0 - 1]
                    prefetch(targets, start)
                    prefetch(weights, start)
            base = hist[row, q] * n_slots + k
            a = indptr[base]
            b = indptr[base + 1]
            if n_parts == 1:
                _scatter_add(syn_flat, targets, weights, a, b)
                events += b - a
                continue
            for receptor in range(2):
                t0 = receptor * n_parts + part
                ra = a if t0 == 0 else a + cuts[base, t0 - 1]
                rb = b if t0 + 1 == last else a + cuts[base, t0]
                _scatter_add(syn_flat, targets, weights, ra, rb)
                events += rb - ra
    return events


@njit(cache=True, inline="always")
def begin_step(m, step0, v, syn, pop_bounds, pop_model, pop_par, pop_ref, hist, ext_ptr,
               pop_counts, rec_on, rec_step, rec_n):
    """Step ``step0 + m`` on one thread up to delivery: advance every neuron,
    its spikes into the history row of the step.

    Returns the spikes, or -1 (nothing done) when the spike recording buffer
    might overflow in this step.  A serial step loop is this, a delivery,
    then :func:`finish_step` (:func:`run_serial`; the crossbar backend's).
    """
    n_neurons = v.size
    if rec_on and rec_n[0] + n_neurons + ext_ptr[m + 1] - ext_ptr[m] > rec_step.size:
        return -1
    return _advance_range(0, n_neurons, pop_bounds, pop_model, pop_par, pop_ref, v, syn, hist,
                          (step0 + m) % hist.shape[0], 0, pop_counts, m)


@njit(cache=True, inline="always")
def finish_step(m, step, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count,
                 rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every, trace_buf,
                 trace_n, v, syn):
    for e in range(ext_ptr[m], ext_ptr[m + 1]):
        hist[row, n] = ext_idx[e]
        n += 1
    hist_len[row] = n
    base = rec_n[0]
    for q in range(n):
        s = hist[row, q]
        spike_count[s] += 1
        if rec_on:
            rec_step[base + q] = step
            rec_idx[base + q] = s
    if rec_on:
        rec_n[0] = base + n
    if trace_idx.size and (step + 1) % trace_every == 0:
        t = trace_n[0]
        for j in range(trace_idx.size):
            i = trace_idx[j]
            trace_buf[t, j, 0] = v[i]  # as stored: the backend decodes held steps
            trace_buf[t, j, 1] = syn[0, i]
            trace_buf[t, j, 2] = syn[1, i]
        trace_n[0] = t + 1


@njit(cache=True)
def run_serial(step0, n_steps, v, syn, pop_bounds, pop_model, pop_par, pop_ref,
               indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
               spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
               trace_idx, trace_every, trace_buf, trace_n):
    """Advance ``n_steps`` on one thread; returns the steps done.

    Returns early (fewer steps) when the spike recording buffer might
    overflow in the next step, so the caller can grow it and call again.
    Refractory neurons are encoded in ``v`` (:data:`HELD`).
    """
    syn_flat = syn.reshape(-1)
    cuts = np.empty((0, 0), dtype=np.int32)
    caller_mode = get_fp_mode()
    set_fp_mode(caller_mode | FTZ_DAZ)
    for m in range(n_steps):
        n = begin_step(m, step0, v, syn, pop_bounds, pop_model, pop_par, pop_ref, hist, ext_ptr,
                       pop_counts, rec_on, rec_step, rec_n)
        if n < 0:
            set_fp_mode(caller_mode)
            return m
        step = step0 + m
        events[0] += _deliver_range(step, hist, hist_len, indptr, targets, weights, dmin,
                                    n_slots, syn_flat, 0, 1, cuts)
        finish_step(m, step, step % hist.shape[0], n, hist, hist_len, ext_ptr, ext_idx,
                    spike_count, rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every,
                    trace_buf, trace_n, v, syn)
    set_fp_mode(caller_mode)
    return n_steps


@njit(cache=True, parallel=True)
def run_parallel(step0, n_steps, v, syn, pop_bounds, pop_model, pop_par, pop_ref,
                 indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                 spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                 trace_idx, trace_every, trace_buf, trace_n, part_bounds, cuts):
    """As :func:`run_serial`, with neurons split into ``part_bounds`` parts.

    ``cuts`` is :func:`row_cuts` of the network for these parts.
    """
    n_neurons = v.size
    n_hist = hist.shape[0]
    n_parts = part_bounds.size - 1
    syn_flat = syn.reshape(-1)
    part_n = np.zeros(n_parts, dtype=np.int64)
    part_events = np.zeros(n_parts, dtype=np.int64)
    part_counts = np.zeros((n_parts, pop_model.size), dtype=pop_counts.dtype)
    for m in range(n_steps):
        step = step0 + m
        n_ext = ext_ptr[m + 1] - ext_ptr[m]
        if rec_on and rec_n[0] + n_neurons + n_ext > rec_step.size:
            return m
        row = step % n_hist
        for p in prange(n_parts):
            lo = part_bounds[p]
            hi = part_bounds[p + 1]
            # Every thread runs with the same floating-point mode.
            thread_mode = get_fp_mode()
            set_fp_mode(thread_mode | FTZ_DAZ)
            # Each part writes its spikes into its own stretch of the row.
            part_n[p] = _advance_range(lo, hi, pop_bounds, pop_model, pop_par, pop_ref, v, syn,
                                       hist, row, lo, part_counts, p) - lo
            part_events[p] = _deliver_range(step, hist, hist_len, indptr, targets, weights,
                                            dmin, n_slots, syn_flat, p, n_parts, cuts)
            set_fp_mode(thread_mode)
        n = 0
        for p in range(n_parts):
            lo = part_bounds[p]
            for q in range(part_n[p]):
                hist[row, n + q] = hist[row, lo + q]
            n += part_n[p]
            for c in range(pop_model.size):
                pop_counts[m, c] += part_counts[p, c]
                part_counts[p, c] = 0
            events[0] += part_events[p]
        finish_step(m, step, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count,
                    rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every, trace_buf,
                    trace_n, v, syn)
    return n_steps
