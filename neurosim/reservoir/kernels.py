"""Compiled per-sample simulation of a liquid with (astrocyte-modulated) STDP.

One step ``t`` (dt = 1 step), in the order of the NALSM reference code:

1. threshold: ``S_i = (V_i >= theta and not refractory)``; spiking neurons reset
   to 0;
2. delivery: each spike of ``j`` makes its synaptic current ``w_ij`` again
   (only the latest spike of a presynaptic neuron counts; see below);
3. membrane: ``V <- V - V/tau_v + I_syn / tau_u + I_in`` where input neuron
   ``k`` gets ``I_in = input_current`` with probability ``p_k`` this step;
4. refractoriness: a spiking neuron is blocked for the next ``t_ref`` steps;
5. STDP on spike events only, traces from the previous step
   (pre excitatory or input; signs swapped for inhibitory pre)::

       post spike: dw_ij = +a_plus * x_j     pre spike: dw_ij = -a_minus * x_i

   ``a_minus`` is the astrocyte ``A`` (NALSM) or ``a_plus`` (plain STDP);
   weights clipped to the presynaptic neuron's bounds;
6. traces: ``x <- d * (x + c * S)``;
7. astrocyte: ``A <- A + (w_astro * (liquid spikes - input spikes) + b - A) / tau_astro``;
8. during the per-sample phase, ``a_plus``, ``A``, ``w_astro`` and ``b``
   decay by ``lr_decay`` every step.

Synaptic current, event-driven: the reference gives neuron ``i`` the current
``sum_j w_ij exp(-Delta_j / tau_u)``, ``Delta_j`` the time since the *latest*
spike of ``j``. We keep ``I_i`` as a sum that decays by ``exp(-1/tau_u)`` per
step; a spike of ``j`` adds ``w_ij * (1 - exp(-Delta_j/tau_u))``, which brings
``j``'s share from ``w_ij exp(-Delta_j)`` back to exactly ``w_ij``. With fixed
weights this is the reference's current exactly (tests/reservoir/
test_reference_dynamics.py compares spike rasters with a dense transcription
of the reference update). With STDP the one difference is that a weight
changed between two spikes of ``j`` scales the decaying tail with its value
at the latest spike instead of its current value.

Cost per step: neurons (threshold, leak, trace) + input draws for the non-zero
pixels + spikes x (fan-out + fan-in) for delivery and STDP. Never N^2.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurosim.data.encoders import bernoulli_step

# Plasticity modes (``plastic[0]``).
FIXED, STDP, ASTRO_STDP = 0, 1, 2
#: The per-sample counts of :func:`tally`, in this order: spikes of liquid and
#: of input neurons, (spike, synapse) deliveries from input and from liquid
#: neurons, and STDP weight updates (one per synapse a spike touches).
TALLY = ("liquid_spikes", "input_spikes", "input_synaptic_events", "liquid_synaptic_events",
         "weight_updates")


@njit(cache=True)
def fire(v, refr, theta, ref_steps, spikes):
    """Steps 1 and 4: threshold and reset; a neuron that fires is blocked for
    the next ``ref_steps`` steps. Writes the spiking neurons, in increasing
    order, to ``spikes`` and returns their number."""
    ns = 0
    for i in range(v.size):
        if refr[i] > 0:
            refr[i] -= 1
        elif v[i] >= theta:
            v[i] = 0.0
            refr[i] = ref_steps
            spikes[ns] = i
            ns += 1
    return ns


@njit(cache=True)
def deliver(t, spikes, ns, n_liquid, w, pre_ptr, post, syn_decay, last, cur, counts, raster):
    """Step 2: each spike of ``j`` makes its synaptic currents ``w`` again
    (module docstring). Adds the spikes to ``counts``, records the liquid's in
    ``raster`` (when not empty) and returns how many were the liquid's."""
    record = raster.shape[0] > 0
    n_liq = 0
    for k in range(ns):
        j = spikes[k]
        counts[j] += 1
        if j < n_liquid:
            n_liq += 1
            if record:
                raster[t, j] = 1
        f = 1.0 - syn_decay ** (t - last[j])
        last[j] = t
        for s in range(pre_ptr[j], pre_ptr[j + 1]):
            cur[post[s]] += w[s] * f
    return n_liq


@njit(cache=True)
def integrate(v, cur, n_liquid, v_keep, inv_tau_u, syn_decay):
    """Step 3 without the input drive: liquid membranes take their synaptic
    current, which then decays; input neurons only leak."""
    for i in range(n_liquid):
        v[i] = v[i] * v_keep + cur[i] * inv_tau_u
        cur[i] *= syn_decay
    for i in range(n_liquid, v.size):
        v[i] *= v_keep


@njit(cache=True)
def simulate_sample(w, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
                    prob, active, key, steps, neuron, plastic, lr_decay,
                    v, refr, last, cur, trace, spikes, inp_idx, counts, raster):
    """Run one sample from rest.

    ``w`` and ``trace`` are updated in place (plasticity); ``counts`` (spike
    counts of every neuron, liquid then inputs) is overwritten; ``raster`` (steps x n_liquid, uint8) is
    filled if it is not empty. ``neuron = (v_keep, theta, t_ref, syn_decay,
    1/tau_u, input_current, trace_decay, trace_inc, t_last0)``;
    ``plastic = (mode, a_plus, w_astro, b, tau_astro, A0)``.
    """
    n_total = v.size
    n_inputs = n_total - n_liquid
    v_keep, theta, t_ref, syn_decay, inv_tau_u, i_in, tr_decay, tr_inc, t_last0 = neuron
    mode = int(plastic[0])
    a_plus = plastic[1]
    w_astro = plastic[2]
    bias = plastic[3]
    tau_astro = plastic[4]
    a_minus = plastic[5] if mode == ASTRO_STDP else a_plus
    ref_steps = np.int32(t_ref)
    v[:] = 0.0
    refr[:] = 0
    last[:] = -np.int64(t_last0)
    cur[:] = 0.0
    counts[:] = 0
    for t in range(steps):
        # steps 1-4 of the module docstring
        ns = fire(v, refr, theta, ref_steps, spikes)
        n_liq = deliver(t, spikes, ns, n_liquid, w, pre_ptr, post, syn_decay, last, cur, counts,
                        raster)
        integrate(v, cur, n_liquid, v_keep, inv_tau_u, syn_decay)
        n_drive = bernoulli_step(key, t, active, prob, n_inputs, inp_idx)
        for k in range(n_drive):
            v[n_liquid + inp_idx[k]] += i_in
        if mode == 0:
            continue
        # 5. STDP on this step's spikes, with the traces of the previous step
        for k in range(ns):
            j = spikes[k]
            if j < n_liquid:  # as postsynaptic neuron: all its incoming synapses
                for q in range(in_ptr[j], in_ptr[j + 1]):
                    s = in_syn[q]
                    p = in_pre[q]
                    lr = a_plus if exc_like[p] else -a_minus
                    w[s] = min(max(w[s] + lr * trace[p], w_lo[p]), w_hi[p])
            lr = -a_minus if exc_like[j] else a_plus  # as presynaptic neuron
            lo = w_lo[j]
            hi = w_hi[j]
            for s in range(pre_ptr[j], pre_ptr[j + 1]):
                w[s] = min(max(w[s] + lr * trace[post[s]], lo), hi)
        # 6. traces
        for i in range(n_total):
            trace[i] *= tr_decay
        for k in range(ns):
            trace[spikes[k]] += tr_decay * tr_inc
        # 7. astrocyte (NALSM) and 8. learning-rate decays
        if mode == ASTRO_STDP:
            a_minus += (w_astro * (n_liq - (ns - n_liq)) + bias - a_minus) / tau_astro
            a_minus *= lr_decay
            w_astro *= lr_decay
            bias *= lr_decay
        a_plus *= lr_decay
        if mode == STDP:
            a_minus = a_plus


@njit(cache=True)
def tally(counts, pre_ptr, in_ptr, n_liquid, plastic, out):
    """The :data:`TALLY` counts of a sample from its spike counts per neuron.

    A spike of ``j`` is delivered to its ``pre_ptr[j+1] - pre_ptr[j]``
    synapses; with plasticity on it updates those and, for a liquid neuron,
    its ``in_ptr[j+1] - in_ptr[j]`` incoming ones (step 5 above).
    """
    out[:] = 0
    for j in range(counts.size):
        c = np.int64(counts[j])
        fan_out = c * (pre_ptr[j + 1] - pre_ptr[j])
        if j < n_liquid:
            out[0] += c
            out[3] += fan_out
        else:
            out[1] += c
            out[2] += fan_out
        if plastic[0] != FIXED:
            out[4] += fan_out + (c * (in_ptr[j + 1] - in_ptr[j]) if j < n_liquid else 0)


@njit(cache=True)
def _state(n_total, n_liquid):
    v = np.zeros(n_total, np.float32)
    refr = np.zeros(n_total, np.int32)
    last = np.zeros(n_total, np.int64)
    cur = np.zeros(n_liquid, np.float32)
    spikes = np.zeros(n_total, np.int32)
    inp_idx = np.zeros(n_total - n_liquid, np.int32)
    counts = np.zeros(n_total, np.int32)
    return v, refr, last, cur, spikes, inp_idx, counts


@njit(cache=True)
def run_serial(w, trace, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
               probs, act_ptr, act_idx, keys, steps, neuron, plastic, lr_decay):
    """Samples one after another, weights and traces carried (the initialisation).

    Returns the :data:`TALLY` counts of each sample, ``(samples, len(TALLY))``.
    """
    n_total = exc_like.size
    v, refr, last, cur, spikes, inp_idx, counts = _state(n_total, n_liquid)
    no_raster = np.zeros((0, 0), np.uint8)
    out = np.zeros((keys.size, len(TALLY)), np.int64)
    for s in range(keys.size):
        simulate_sample(
            w, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
            probs[s], act_idx[act_ptr[s]:act_ptr[s + 1]], keys[s], steps, neuron, plastic, lr_decay,
            v, refr, last, cur, trace, spikes, inp_idx, counts, no_raster)
        tally(counts, pre_ptr, in_ptr, n_liquid, plastic, out[s])
    return out


@njit(parallel=True, cache=True)
def run_batch(w_ini, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
              probs, act_ptr, act_idx, keys, steps, neuron, plastic, lr_decay,
              counts_out, rasters, raster_slot, n_slots):
    """Independent samples in parallel, each from ``w_ini`` with zero traces.

    ``n_slots`` samples are in flight at once, each with its own copy of the
    weights; sample ``s`` runs in slot ``s % n_slots``, and its result depends
    only on ``w_ini`` and its key, so it is the same for any thread count.
    ``raster_slot[s] >= 0`` records sample ``s`` into ``rasters[raster_slot[s]]``.
    Returns the :data:`TALLY` counts of each sample, ``(samples, len(TALLY))``.
    """
    n_total = exc_like.size
    n = keys.size
    out = np.zeros((n, len(TALLY)), np.int64)
    for slot in prange(n_slots):
        w = np.empty_like(w_ini)
        trace = np.zeros(n_total, np.float32)
        v, refr, last, cur, spikes, inp_idx, counts = _state(n_total, n_liquid)
        no_raster = np.zeros((0, 0), np.uint8)
        for s in range(slot, n, n_slots):
            w[:] = w_ini
            trace[:] = 0.0
            raster = rasters[raster_slot[s]] if raster_slot[s] >= 0 else no_raster
            simulate_sample(
                w, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
                probs[s], act_idx[act_ptr[s]:act_ptr[s + 1]], keys[s], steps, neuron, plastic,
                lr_decay, v, refr, last, cur, trace, spikes, inp_idx, counts, raster)
            counts_out[s, :] = counts[:n_liquid]
            tally(counts, pre_ptr, in_ptr, n_liquid, plastic, out[s])
    return out


@njit(cache=True)
def input_raster(prob, active, key, steps, neuron, raster):
    """The input neurons' spikes of one sample into ``raster`` (steps x n_inputs, uint8).

    Input neurons get no synaptic current, so their spikes depend only on
    their drive (the draws of ``key``): this replays the input-neuron part of
    :func:`simulate_sample` step for step, without the liquid.
    """
    n_inputs = raster.shape[1]
    v_keep, theta, t_ref = neuron[0], neuron[1], np.int32(neuron[2])
    i_in = neuron[5]
    v = np.zeros(n_inputs, np.float32)
    refr = np.zeros(n_inputs, np.int32)
    drawn = np.zeros(n_inputs, np.int32)
    raster[:] = 0
    for t in range(steps):
        for i in range(n_inputs):
            if refr[i] > 0:
                refr[i] -= 1
            elif v[i] >= theta:
                v[i] = 0.0
                refr[i] = t_ref
                raster[t, i] = 1
        for i in range(n_inputs):
            v[i] *= v_keep
        for k in range(bernoulli_step(key, t, active, prob, n_inputs, drawn)):
            v[drawn[k]] += i_in
