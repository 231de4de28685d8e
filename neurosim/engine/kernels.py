"""The compiled event-driven core.

One call advances the network by many steps.  Each step:

1. *advance*: every neuron's state is propagated by one step (exact for the
   linear part), refractory neurons are clamped, threshold crossings reset the
   neuron and append its index to this step's spike list;
2. *deliver*: for every delay slot ``d``, the spikes emitted ``d`` steps ago
   walk their outgoing synapses of that delay and add the weight straight into
   the target's synaptic state (no dense input buffer to clear each step);
3. *finish*: external events (Poisson, spike generators) join the spike list;
   spike counters, recorded spikes and state traces are updated.

Cost per step is ``O(N + spikes x fan-out)``.  The spike history is a ring of
``max_delay + 1`` rows.  With several threads, the neurons are split into
contiguous parts, one per thread: each part advances its neurons and delivers
only into its own targets (rows are sorted by target, so a binary search finds
each part's share).  Every target receives its inputs in the same order as on
one thread, so the result is bit-identical for any thread count.
"""

import numpy as np
from numba import njit, prange

LIF_EXP, LIF_COND_EXP = 0, 1


@njit(cache=True)
def _advance_range(lo, hi, pop_bounds, pop_model, pop_par, pop_ref, v, syn, refr,
                   out, n, counts):
    """Advance neurons ``lo:hi``; append spikes to ``out[n:]``; return new n.

    The update is branch-free so the compiler can vectorise it; a neuron that
    spiked is marked by ``refr == t_ref_steps + 1`` and collected by a second,
    cheap scan that only runs when the step had spikes.  A neuron is clamped
    while ``refr > 1``, i.e. for ``t_ref_steps`` steps after its spike.
    """
    x_e_all = syn[0]
    x_i_all = syn[1]
    for p in range(pop_model.size):
        a = max(lo, pop_bounds[p])
        b = min(hi, pop_bounds[p + 1])
        model = pop_model[p]
        if a >= b or model < 0:
            continue
        par = pop_par[p]
        marker = pop_ref[p] + 1
        n_spiked = 0
        if model == LIF_EXP:
            p22, p21e, p21i, p11e, p11i = par[0], par[1], par[2], par[3], par[4]
            drive, v_th, v_reset = par[5], par[6], par[7]
            for i in range(a, b):
                x_e = x_e_all[i]
                x_i = x_i_all[i]
                v_new = p22 * v[i] + p21e * x_e + p21i * x_i + drive
                x_e_all[i] = x_e * p11e
                x_i_all[i] = x_i * p11i
                r = refr[i]
                v_new = v_reset if r > 1 else v_new
                spiked = v_new >= v_th
                v[i] = v_reset if spiked else v_new
                refr[i] = marker if spiked else max(r - 1, 0)
                n_spiked += spiked
        else:  # LIF_COND_EXP: exponential Euler with frozen conductances
            dt_c, g_l, leak_drive, e_e, e_i = par[0], par[1], par[2], par[3], par[4]
            p11e, p11i, v_th, v_reset = par[5], par[6], par[7], par[8]
            for i in range(a, b):
                g_e = x_e_all[i]
                g_i = x_i_all[i]
                g_tot = g_l + g_e + g_i
                v_inf = (leak_drive + g_e * e_e + g_i * e_i) / g_tot
                v_new = v_inf + (v[i] - v_inf) * np.exp(-dt_c * g_tot)
                x_e_all[i] = g_e * p11e
                x_i_all[i] = g_i * p11i
                r = refr[i]
                v_new = v_reset if r > 1 else v_new
                spiked = v_new >= v_th
                v[i] = v_reset if spiked else v_new
                refr[i] = marker if spiked else max(r - 1, 0)
                n_spiked += spiked
        if n_spiked:
            for i in range(a, b):
                if refr[i] == marker:
                    out[n] = i
                    n += 1
            counts[p] += n_spiked
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


@njit(cache=True)
def _deliver_range(step, hist, hist_len, indptr, targets, weights, dmin, n_slots, syn_flat,
                   lo, hi, split):
    """Deliver due spikes into neurons ``[lo, hi)``; return the events delivered.

    Targets are flat indices ``receptor * N + neuron`` into ``syn_flat``; with
    ``split`` only the targets of neurons ``lo:hi`` (one stretch per receptor
    in each sorted row) are touched.
    """
    n_hist = hist.shape[0]
    n_neurons = syn_flat.size // 2
    events = 0
    for k in range(n_slots):
        emitted = step - (dmin + k)
        if emitted < 0:
            continue
        row = emitted % n_hist
        for q in range(hist_len[row]):
            base = hist[row, q] * n_slots + k
            a = indptr[base]
            b = indptr[base + 1]
            if not split:
                for j in range(a, b):
                    syn_flat[targets[j]] += weights[j]
                events += b - a
                continue
            for receptor in range(2):
                offset = receptor * n_neurons
                ra = _lower_bound(targets, a, b, offset + lo)
                rb = _lower_bound(targets, ra, b, offset + hi)
                for j in range(ra, rb):
                    syn_flat[targets[j]] += weights[j]
                events += rb - ra
    return events


@njit(cache=True)
def _finish_step(m, step, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count,
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
            trace_buf[t, j, 0] = v[i]
            trace_buf[t, j, 1] = syn[0, i]
            trace_buf[t, j, 2] = syn[1, i]
        trace_n[0] = t + 1


@njit(cache=True)
def run_serial(step0, n_steps, v, syn, refr, pop_bounds, pop_model, pop_par, pop_ref,
               indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
               spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
               trace_idx, trace_every, trace_buf, trace_n):
    """Advance ``n_steps`` on one thread; returns the steps done.

    Returns early (fewer steps) when the spike recording buffer might
    overflow in the next step, so the caller can grow it and call again.
    """
    n_neurons = v.size
    n_hist = hist.shape[0]
    for m in range(n_steps):
        step = step0 + m
        n_ext = ext_ptr[m + 1] - ext_ptr[m]
        if rec_on and rec_n[0] + n_neurons + n_ext > rec_step.size:
            return m
        row = step % n_hist
        n = _advance_range(0, n_neurons, pop_bounds, pop_model, pop_par, pop_ref, v, syn,
                           refr, hist[row], 0, pop_counts[m])
        events[0] += _deliver_range(step, hist, hist_len, indptr, targets, weights, dmin,
                                    n_slots, syn.reshape(-1), 0, n_neurons, False)
        _finish_step(m, step, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count,
                     rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every, trace_buf,
                     trace_n, v, syn)
    return n_steps


@njit(cache=True, parallel=True)
def run_parallel(step0, n_steps, v, syn, refr, pop_bounds, pop_model, pop_par, pop_ref,
                 indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                 spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                 trace_idx, trace_every, trace_buf, trace_n, part_bounds):
    """As :func:`run_serial`, with neurons split into ``part_bounds`` parts."""
    n_neurons = v.size
    n_hist = hist.shape[0]
    n_parts = part_bounds.size - 1
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
            # Each part writes its spikes into its own stretch of the row.
            part_n[p] = _advance_range(lo, hi, pop_bounds, pop_model, pop_par, pop_ref, v,
                                       syn, refr, hist[row], lo, part_counts[p]) - lo
            part_events[p] += _deliver_range(step, hist, hist_len, indptr, targets, weights,
                                             dmin, n_slots, syn.reshape(-1), lo, hi, True)
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
            part_events[p] = 0
        _finish_step(m, step, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count,
                     rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every, trace_buf,
                     trace_n, v, syn)
    return n_steps
