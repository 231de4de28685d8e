"""Compiled per-sample simulation of a liquid with (astrocyte-modulated) STDP.

The neurons are the model layer's ``lif_discrete`` (``reset: zero``), stepped
by :func:`advance`: the liquid with
``beta = 1 - 1/tau_v``, ``gain = 1/tau_u`` and the synaptic current's factor
``alpha = exp(-1/tau_u)``; the input neurons with ``gain = 1`` and
``alpha = 0`` (their drive acts in one step).  Step ``t`` (dt = 1 step), in
the order of the NALSM reference code:

1. membrane of step ``t-1`` and threshold (the model's update):
   ``V <- V (1 - 1/tau_v) + I_syn / tau_u + I_in``, where input neuron ``k``
   got ``I_in = input_current`` with probability ``p_k`` in step ``t-1``;
   ``S_i = (V_i >= theta and not refractory)``, spiking neurons reset to 0 and
   are blocked for the next ``t_ref`` steps (they still integrate).  Step 0
   has no update: every neuron starts at rest, below threshold;
2. delivery: each spike of ``j`` makes its synaptic current ``w_ij`` again
   (only the latest spike of a presynaptic neuron counts; see below);
3. STDP on spike events only, traces from the previous step
   (pre excitatory or input; signs swapped for inhibitory pre)::

       post spike: dw_ij = +a_plus * x_j     pre spike: dw_ij = -a_minus * x_i

   ``a_minus`` is the astrocyte ``A`` (NALSM) or ``a_plus`` (plain STDP);
   weights clipped to the presynaptic neuron's bounds;
4. traces: ``x <- d * (x + c * S)``;
5. astrocyte: ``A <- A + (w_astro * (liquid spikes - input spikes) + b - A) / tau_astro``;
6. during the per-sample phase, ``a_plus``, ``A``, ``w_astro`` and ``b``
   decay by ``lr_decay`` every step.

The liquid's propagators are float64 over float32 state (one rounding per
update); the input neurons' are float32, so their membrane is rounded after
the leak and again after the drive, as the liquid has always computed them.

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

Cost per step: neurons (update, trace) + input draws for the non-zero
pixels + spikes x (fan-out + fan-in) for delivery and STDP. Never N^2.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurosim.data.encoders import bernoulli_step
from neurosim.models.lif_discrete import numba_kernels as lif_discrete

# Plasticity modes (``plastic[0]``).
FIXED, STDP, ASTRO_STDP = 0, 1, 2
#: The per-sample counts of :func:`tally`, in this order: spikes of liquid and
#: of input neurons, (spike, synapse) deliveries from input and from liquid
#: neurons, and STDP weight updates (one per synapse a spike touches).
TALLY = ("liquid_spikes", "input_spikes", "input_synaptic_events", "liquid_synaptic_events",
         "weight_updates")
#: Rows of the neurons' state ``x`` (``lif_discrete``): synaptic current, an
#: unused second current, refractory count.
STATE_ROWS = 3


@njit(inline="always")
def advance(v, x, liquid_par, input_par, ref_steps, spikes, n_liquid):
    """Step 1: the update of liquid then input neurons; their spikes, in
    increasing order, into ``spikes[0]``; returns their number.

    One pass of the update, then one scan of the marks: a liquid's state
    stays in cache, and the engine's per-block scan (its ``_group_loop``)
    made NALSM-1000's samples 1.11x slower here against 1.07x.
    """
    lif_discrete.update_block(0, n_liquid, v, x, liquid_par, ref_steps, spikes, 0, 0)
    lif_discrete.update_block(n_liquid, v.size, v, x, input_par, ref_steps, spikes, 0, 0)
    marks = lif_discrete.spike_marks(v, x)
    mark = lif_discrete.spike_mark(ref_steps)
    ns = 0
    for i in range(v.size):
        if marks[i] == mark:
            spikes[0, ns] = i
            ns += 1
    return ns


@njit(inline="always")
def draw_drive(key, t, active, prob, x, first, i_in, drawn):
    """The input drive of step ``t``: ``i_in`` into the current of each input
    neuron (``first`` is the first one's index) that its Bernoulli draw picks."""
    for k in range(bernoulli_step(key, t, active, prob, drawn.size, drawn)):
        x[0, first + drawn[k]] += i_in


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
def simulate_sample(w, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
                    prob, active, key, steps, liquid_par, input_par, neuron, plastic, lr_decay,
                    v, x, last, trace, spikes, inp_idx, counts, raster):
    """Run one sample from rest.

    ``w`` and ``trace`` are updated in place (plasticity); ``counts`` (spike
    counts of every neuron, liquid then inputs) is overwritten; ``raster`` (steps x n_liquid, uint8) is
    filled if it is not empty. ``liquid_par``, ``input_par``: the
    ``lif_discrete`` rows of :meth:`~neurosim.reservoir.simulate.Dynamics.neuron_rows`;
    ``neuron = (t_ref, input_current, trace_decay, trace_inc, t_last0)``;
    ``plastic = (mode, a_plus, w_astro, b, tau_astro, A0)``; ``x``: the
    :data:`STATE_ROWS` state rows, ``spikes``: ``(1, neurons)``.
    """
    n_total = v.size
    t_ref, i_in, tr_decay, tr_inc, t_last0 = neuron
    syn_decay = liquid_par[2]
    mode = int(plastic[0])
    a_plus = plastic[1]
    w_astro = plastic[2]
    bias = plastic[3]
    tau_astro = plastic[4]
    a_minus = plastic[5] if mode == ASTRO_STDP else a_plus
    ref_steps = np.int64(t_ref)
    v[:] = 0.0
    x[:] = 0.0
    last[:] = -np.int64(t_last0)
    counts[:] = 0
    fired = spikes[0]
    for t in range(steps):
        # steps 1-2 of the module docstring
        ns = 0
        if t > 0:
            draw_drive(key, t - 1, active, prob, x, n_liquid, i_in, inp_idx)
            ns = advance(v, x, liquid_par, input_par, ref_steps, spikes, n_liquid)
        n_liq = deliver(t, fired, ns, n_liquid, w, pre_ptr, post, syn_decay, last, x[0], counts,
                        raster)
        if mode == 0:
            continue
        # 3. STDP on this step's spikes, with the traces of the previous step
        for k in range(ns):
            j = fired[k]
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
        # 4. traces
        for i in range(n_total):
            trace[i] *= tr_decay
        for k in range(ns):
            trace[fired[k]] += tr_decay * tr_inc
        # 5. astrocyte (NALSM) and 6. learning-rate decays
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
def sample_state(n_total, n_liquid):
    v = np.zeros(n_total, np.float32)
    x = np.zeros((STATE_ROWS, n_total), np.float32)
    last = np.zeros(n_total, np.int64)
    spikes = np.zeros((1, n_total), np.int32)
    inp_idx = np.zeros(n_total - n_liquid, np.int32)
    counts = np.zeros(n_total, np.int32)
    return v, x, last, spikes, inp_idx, counts


@njit(cache=True)
def run_serial(w, trace, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
               probs, act_ptr, act_idx, keys, steps, liquid_par, input_par, neuron, plastic,
               lr_decay):
    """Samples one after another, weights and traces carried (the initialisation).

    Returns the :data:`TALLY` counts of each sample, ``(samples, len(TALLY))``.
    """
    n_total = exc_like.size
    v, x, last, spikes, inp_idx, counts = sample_state(n_total, n_liquid)
    no_raster = np.zeros((0, 0), np.uint8)
    out = np.zeros((keys.size, len(TALLY)), np.int64)
    for s in range(keys.size):
        simulate_sample(
            w, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
            probs[s], act_idx[act_ptr[s]:act_ptr[s + 1]], keys[s], steps, liquid_par, input_par,
            neuron, plastic, lr_decay, v, x, last, trace, spikes, inp_idx, counts, no_raster)
        tally(counts, pre_ptr, in_ptr, n_liquid, plastic, out[s])
    return out


@njit(parallel=True, cache=True)
def run_batch(w_ini, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
              probs, act_ptr, act_idx, keys, steps, liquid_par, input_par, neuron, plastic,
              lr_decay, counts_out, rasters, raster_slot, n_slots):
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
        v, x, last, spikes, inp_idx, counts = sample_state(n_total, n_liquid)
        no_raster = np.zeros((0, 0), np.uint8)
        for s in range(slot, n, n_slots):
            w[:] = w_ini
            trace[:] = 0.0
            raster = rasters[raster_slot[s]] if raster_slot[s] >= 0 else no_raster
            simulate_sample(
                w, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi, n_liquid,
                probs[s], act_idx[act_ptr[s]:act_ptr[s + 1]], keys[s], steps, liquid_par,
                input_par, neuron, plastic, lr_decay, v, x, last, trace, spikes, inp_idx, counts,
                raster)
            counts_out[s, :] = counts[:n_liquid]
            tally(counts, pre_ptr, in_ptr, n_liquid, plastic, out[s])
    return out


@njit(cache=True)
def input_raster(prob, active, key, steps, input_par, neuron, raster):
    """The input neurons' spikes of one sample into ``raster`` (steps x n_inputs, uint8).

    Input neurons get no synaptic current, so their spikes depend only on
    their drive (the draws of ``key``): this runs the input-neuron part of
    :func:`simulate_sample` step for step, without the liquid.
    """
    n_inputs = raster.shape[1]
    ref_steps, i_in = np.int64(neuron[0]), neuron[1]
    v, x, _, spikes, drawn, _ = sample_state(n_inputs, 0)
    raster[:] = 0
    for t in range(1, steps):
        draw_drive(key, t - 1, active, prob, x, 0, i_in, drawn)
        for k in range(advance(v, x, input_par, input_par, ref_steps, spikes, 0)):
            raster[t, spikes[0, k]] = 1
