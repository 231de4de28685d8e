"""The compiled event-driven core.

One call advances the network by many steps.  Each step:

1. *advance*: every neuron's state is propagated by one step by its model's
   registered kernel (``update_block`` of :mod:`neurosim.models`, one
   parameter group at a time, see :mod:`neurosim.network.parameters`);
   threshold crossings reset the neuron and append its index to this step's
   spike list.  The state is ``v`` and the rows of ``syn`` (the receptors'
   synaptic state first, then what else a model keeps);
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

import functools

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from neurosim.engine.fpu import FTZ_DAZ, get_fp_mode, set_fp_mode
from neurosim.engine.prefetch import DISTANCE, prefetch
from neurosim.models import has_implementation, implementation, spiking_models
from neurosim.models.stdp.numba_kernels import plasticity_step

_BLOCK = 256


def _has(models, code):
    """Whether the bit ``code`` of ``models`` is set (resolved while compiling)."""


@overload(_has, inline="always")
def _has_model(models, code):
    # Both are literals in the step loops (constants of their closures), so
    # the test folds away and absent models leave no code behind.
    if isinstance(models, types.IntegerLiteral) and isinstance(code, types.IntegerLiteral):
        present = bool((models.literal_value >> code.literal_value) & 1)
        return (lambda models, code: True) if present else (lambda models, code: False)
    return lambda models, code: (models >> code) & 1 == 1


def model_mask(codes) -> int:
    """The ``models`` argument of the step loops: a bit per kernel code present."""
    return sum(1 << c for c in {int(c) for c in np.asarray(codes).ravel()} if c >= 0)


def _group_loop(kernels):
    """The step of one parameter group of a model: its blocks in turn.

    Blocks are small enough that a block with a spike is still in L1 cache
    when it is scanned, so the state is read from memory once per step.  The
    scan stays apart from the vectorised update (inside it, the spike list
    made the step 1.35x slower at 400,000 neurons), and it is written here,
    not in an inlined function of the model: there it cost CUBA 400k 25 %.
    """
    update, spike_marks, spike_mark = kernels.update_block, kernels.spike_marks, kernels.spike_mark

    @njit(inline="always")
    def advance(a, b, v, syn, par, ref_steps, out, row, n):
        marks = spike_marks(v, syn)
        mark = spike_mark(ref_steps)
        for b0 in range(a, b, _BLOCK):
            b1 = min(b0 + _BLOCK, b)
            if update(b0, b1, v, syn, par, ref_steps, out, row, n):
                for k in range(b1 - b0):
                    if marks[np.uint64(b0 + k)] == mark:
                        out[row, n] = b0 + k
                        n += 1
        return n

    return advance


@njit(inline="always")
def _no_model(model, models, a, b, v, syn, par, ref_steps, out, row, n):
    return n


def _dispatcher(loops: list, code: int = 0):
    """``dispatch(model, models, ...)``: the group loop of kernel code ``model``
    (:func:`neurosim.models.model_code`), a chain of inlined tests.

    Every block kernel takes ``(a, b, v, syn, par, ref_steps, out, row, n)``:
    neurons ``a:b``, the state, the group's propagators and refractory
    steps, and the spike list ``out[row, :n]``.  Built from the registry
    when this module loads, so the step loops name no model.  Only the
    models in the bit mask ``models`` leave code in a step loop (a constant
    of the loops: they compile once per set of models, :func:`step_loops`);
    with every model's loop inlined, CUBA's step ran 1.4x slower.  A model without numba kernels gets no branch (backends
    refuse it before a run).
    """
    if code == len(loops):
        return _no_model
    loop, later = loops[code], _dispatcher(loops, code + 1)
    if loop is None:
        return later

    @njit(inline="always")
    def dispatch(model, models, a, b, v, syn, par, ref_steps, out, row, n):
        if _has(models, code) and model == code:
            return loop(a, b, v, syn, par, ref_steps, out, row, n)
        return later(model, models, a, b, v, syn, par, ref_steps, out, row, n)

    return dispatch


_advance_group = _dispatcher(
    [_group_loop(k) if k is not None else None
     for k in (implementation(m, "numba") if has_implementation(m, "numba") else None
               for m in spiking_models())])


@njit(inline="always")
def _advance_range(lo, hi, models, group_bounds, group_code, group_par, group_ref, group_pop, v,
                   syn, out, row, n, counts, count_row):
    """Advance neurons ``lo:hi`` by one step; append spikes to ``out[row, n:]``;
    return new n.  Spikes per population are added to ``counts[count_row, p]``.
    """
    for g in range(group_code.size):
        a = max(lo, group_bounds[g])
        b = min(hi, group_bounds[g + 1])
        model = group_code[g]
        if a >= b or model < 0:
            continue
        par = group_par[g]
        ref_steps = group_ref[g]
        n0 = n
        n = _advance_group(model, models, a, b, v, syn, par, ref_steps, out, row, n)
        counts[count_row, group_pop[g]] += n - n0
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


@njit(inline="always")
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


@njit(inline="always")
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


@njit(inline="always")
def begin_step(m, step0, models, v, syn, groups, hist, ext_ptr, pop_counts, rec_on, rec_step,
               rec_n):
    """Step ``step0 + m`` on one thread up to delivery: advance every neuron,
    its spikes into the history row of the step.

    Returns the spikes, or -1 (nothing done) when the spike recording buffer
    might overflow in this step.  A serial step loop is this, a delivery,
    then :func:`finish_step` (:func:`run_serial`; the crossbar backend's).
    """
    n_neurons = v.size
    if rec_on and rec_n[0] + n_neurons + ext_ptr[m + 1] - ext_ptr[m] > rec_step.size:
        return -1
    bounds, code, par, ref, pop = groups
    return _advance_range(0, n_neurons, models, bounds, code, par, ref, pop, v, syn, hist,
                          (step0 + m) % hist.shape[0], 0, pop_counts, m)


@njit(inline="always")
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
            for r in range(syn.shape[0]):
                trace_buf[t, j, r + 1] = syn[r, i]
        trace_n[0] = t + 1


@njit(inline="always")
def _plasticity(m, row, hist, hist_len, weights, state, fixed):
    """The plasticity of step ``m`` (:mod:`neurosim.models.stdp`).

    ``state`` is ``(rules, a_minus, trace_pre, trace_post, astrocyte,
    astrocyte_trace)``; ``fixed`` is :meth:`Plasticity.kernel_args`.
    """
    rules, a_minus, trace_pre, trace_post, astrocyte, astrocyte_trace = state
    (position, pre, post, rule, by_pre_ptr, by_pre, by_post_ptr, by_post, factor, astrocytes,
     astrocyte_sign, modulator, population_of) = fixed
    plasticity_step(m, hist[row], hist_len[row], weights, rules, a_minus, trace_pre, trace_post,
                    astrocyte, astrocyte_trace, position, pre, post, rule, by_pre_ptr, by_pre,
                    by_post_ptr, by_post, factor, astrocytes, astrocyte_sign, modulator,
                    population_of)


@functools.cache
def step_loops(models: int, plastic: bool = False):
    """``(run_serial, run_parallel)``: the step loops compiled for the models
    in the bit mask ``models`` (:func:`model_mask`), with plasticity or not.

    Both are constants of these closures, so only those models' kernels are
    inlined (:func:`_dispatcher`) and a fixed network's loop has no
    plasticity step (its per-step test cost CUBA 4k ~10 %); numba's cache
    keys the closures by them.
    """

    @njit(cache=True)
    def run_serial(step0, n_steps, v, syn, groups,
                   indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                   spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                   trace_idx, trace_every, trace_buf, trace_n, plastic_state, plastic_args):
        """Advance ``n_steps`` on one thread; returns the steps done.

        Returns early (fewer steps) when the spike recording buffer might
        overflow in the next step, so the caller can grow it and call again.
        ``groups`` is ``(bounds, model codes, propagator rows, refractory steps,
        populations)`` of the parameter groups; ``plastic_state`` and
        ``plastic_args`` those of :func:`_plasticity` (not read without plasticity).
        """
        syn_flat = syn.reshape(-1)
        cuts = np.empty((0, 0), dtype=np.int32)
        caller_mode = get_fp_mode()
        set_fp_mode(caller_mode | FTZ_DAZ)
        for m in range(n_steps):
            n = begin_step(m, step0, models, v, syn, groups, hist, ext_ptr, pop_counts, rec_on,
                           rec_step, rec_n)
            if n < 0:
                set_fp_mode(caller_mode)
                return m
            step = step0 + m
            events[0] += _deliver_range(step, hist, hist_len, indptr, targets, weights, dmin,
                                        n_slots, syn_flat, 0, 1, cuts)
            finish_step(m, step, step % hist.shape[0], n, hist, hist_len, ext_ptr, ext_idx,
                        spike_count, rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every,
                        trace_buf, trace_n, v, syn)
            if plastic:
                _plasticity(m, step % hist.shape[0], hist, hist_len, weights, plastic_state,
                            plastic_args)
        set_fp_mode(caller_mode)
        return n_steps


    @njit(cache=True, parallel=True)
    def run_parallel(step0, n_steps, v, syn, groups,
                     indptr, targets, weights, dmin, n_slots, hist, hist_len, ext_ptr, ext_idx,
                     spike_count, pop_counts, events, rec_on, rec_step, rec_idx, rec_n,
                     trace_idx, trace_every, trace_buf, trace_n, plastic_state, plastic_args,
                     part_bounds, cuts):
        """As :func:`run_serial`, with neurons split into ``part_bounds`` parts.

        ``cuts`` is :func:`row_cuts` of the network for these parts.
        """
        n_neurons = v.size
        n_hist = hist.shape[0]
        n_parts = part_bounds.size - 1
        n_pops = pop_counts.shape[1]
        bounds, code, par, ref, pop = groups
        syn_flat = syn.reshape(-1)
        part_n = np.zeros(n_parts, dtype=np.int64)
        part_events = np.zeros(n_parts, dtype=np.int64)
        part_counts = np.zeros((n_parts, n_pops), dtype=pop_counts.dtype)
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
                part_n[p] = _advance_range(lo, hi, models, bounds, code, par, ref, pop, v, syn,
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
                for c in range(n_pops):
                    pop_counts[m, c] += part_counts[p, c]
                    part_counts[p, c] = 0
                events[0] += part_events[p]
            finish_step(m, step, row, n, hist, hist_len, ext_ptr, ext_idx, spike_count,
                        rec_on, rec_step, rec_idx, rec_n, trace_idx, trace_every, trace_buf,
                        trace_n, v, syn)
            if plastic:  # one thread, between steps: the same order as run_serial
                _plasticity(m, row, hist, hist_len, weights, plastic_state, plastic_args)
        return n_steps

    return run_serial, run_parallel
