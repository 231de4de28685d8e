"""Batched spiking kernels on torch tensors: the torch backend's step, reusable alone.

Every function works on tensors with a leading batch dimension ``B`` (many
independent samples advanced at once; the ``torch`` backend uses ``B = 1``)
and runs unchanged on CPU or CUDA.  State is updated in place where that is
the natural contract (as :mod:`neurosim.engine.kernels` does on arrays), and
per-neuron parameters are tensors that broadcast against ``(B, n)``.

The vocabulary matches the numba engine: ``integrate`` + ``threshold/reset``
+ ``refractory`` (:func:`lif_exp_step`, :func:`lif_cond_exp_step`),
``deliver`` (:func:`deliver_dense`, :func:`deliver_events`), ``plasticity``
(:func:`trace_step`, :func:`stdp_step`) and ``astrocyte``
(:func:`astrocyte_step`).
"""

from __future__ import annotations

import torch


def _clamp_and_reset(v, v_new, until, step, v_reset, v_th, resume):
    """Refractory clamp, threshold and reset shared by both neuron models.

    ``until`` holds the step at which each neuron integrates again (as in the
    numba engine); a spike in ``step`` sets it to ``step + resume`` with
    ``resume = t_ref_steps + 1``.
    """
    v_new = torch.where(until > step, v_reset, v_new)
    spiked = v_new >= v_th
    v.copy_(torch.where(spiked, v_reset, v_new))
    until.copy_(torch.where(spiked, resume + step, until))
    return spiked


def lif_exp_step(v, syn_e, syn_i, until, step: int, par) -> torch.Tensor:
    """One exact step of current-based LIF neurons; returns the spike mask.

    ``v``, ``syn_e``, ``syn_i``, ``until``: ``(B, n)`` views updated in place.
    ``par``: ``(p22, p21e, p21i, p11e, p11i, drive, v_th, v_reset, resume)``,
    each broadcasting against ``(B, n)`` (the propagators of
    :meth:`neurosim.models.lif.NeuronModel.param_row`).  The arithmetic is
    written in the same order as the numba kernel, so float results agree
    bit for bit on the CPU.
    """
    p22, p21e, p21i, p11e, p11i, drive, v_th, v_reset, resume = par
    v_new = p22 * v + p21e * syn_e + p21i * syn_i + drive
    syn_e.mul_(p11e)
    syn_i.mul_(p11i)
    return _clamp_and_reset(v, v_new, until, step, v_reset, v_th, resume)


def lif_cond_exp_step(v, g_e, g_i, until, step: int, par) -> torch.Tensor:
    """One exponential-Euler step of conductance-based LIF neurons (see :func:`lif_exp_step`).

    ``par``: ``(dt_over_c, g_leak, leak_drive, E_e, E_i, p11e, p11i, v_th, v_reset, resume)``.
    """
    dt_c, g_l, leak_drive, e_e, e_i, p11e, p11i, v_th, v_reset, resume = par
    g_tot = g_l + g_e + g_i
    v_inf = (leak_drive + g_e * e_e + g_i * e_i) / g_tot
    v_new = v_inf + (v - v_inf) * torch.exp(-dt_c * g_tot)
    g_e.mul_(p11e)
    g_i.mul_(p11i)
    return _clamp_and_reset(v, v_new, until, step, v_reset, v_th, resume)


def deliver_dense(syn, counts, weights) -> None:
    """``syn += counts @ weights``: spikes ``(B, n_pre)`` through dense weights.

    ``weights``: ``(n_pre, n_post)`` shared by the batch, or ``(B, n_pre,
    n_post)``, one copy per sample (e.g. under plasticity).  ``counts`` holds
    spikes per presynaptic neuron (0/1, or more for a source that fired
    several times in a step); ``syn`` is a ``(B, n_post)`` view.  Costs
    ``B * n_pre * n_post`` multiply-adds whatever the spikes.
    """
    if weights.dim() == 2:
        syn.add_(counts @ weights)
    else:
        syn.add_(torch.bmm(counts.unsqueeze(1), weights).squeeze(1))


def deliver_events(syn_flat, counts, indptr, targets, weights, n_slots: int = 1,
                   slots=None) -> torch.Tensor:
    """Walk the CSR rows of the spiking neurons and add their weights; returns the event count.

    ``syn_flat``: ``(B, M)`` contiguous synaptic state, ``targets`` index its
    columns.  ``counts``: ``(B, n_pre)`` spikes (bool, or counts: a row is
    walked once per spike), or ``(B, G, n_pre)``: ``G`` groups of spikes,
    group ``g`` using delay slot ``slots[g]`` (a ``(G,)`` tensor; default:
    slot 0 for all).  Row ``i * n_slots + slot`` of ``(indptr, targets, weights)``
    holds neuron ``i``'s synapses of that slot (the layout of
    :class:`neurosim.network.Network`).

    Events are added in order: sample, group, presynaptic neuron, then row
    order.  On the CPU ``index_add_`` adds them one after another, so each
    target sums its inputs in the numba engine's order (bit-identical
    results); on CUDA the order of atomic adds is not fixed.
    """
    if counts.dim() == 2:
        counts = counts.unsqueeze(1)
    batch, group, pre = torch.nonzero(counts, as_tuple=True)
    if counts.dtype != torch.bool:
        times = counts[batch, group, pre].long()
        batch, group, pre = (x.repeat_interleave(times) for x in (batch, group, pre))
    rows = pre * n_slots if slots is None else pre * n_slots + slots[group]
    start = indptr[rows]
    length = indptr[rows + 1] - start
    # Expand each row into its synapse indices without a Python loop:
    # event j of row r is synapse start[r] + (j - first event of r).
    seg = torch.repeat_interleave(length)
    shift = (start - (torch.cumsum(length, 0) - length))[seg]
    idx = torch.arange(seg.numel(), device=seg.device) + shift
    flat = targets[idx].long()
    if syn_flat.shape[0] > 1:
        flat += batch[seg] * syn_flat.shape[1]
    syn_flat.view(-1).index_add_(0, flat, weights[idx])
    return length.sum()


def trace_step(x, spikes, decay: float = 0.905, gain: float = 0.1) -> None:
    """Spike trace ``x <- decay * (x + gain * S)`` in place (tau = 10 steps: 0.905 ~ exp(-0.1))."""
    x.add_(spikes.to(x.dtype), alpha=gain).mul_(decay)


def stdp_step(w, x_pre, x_post, s_pre, s_post, a_plus, a_astro, pre_sign, w_min, w_max,
              mask=None) -> None:
    """Trace STDP on dense weights, in place, then clip to the bounds.

    ``dw = sign_pre * (A_plus x_pre S_post - A_astro x_post S_pre)`` with
    ``sign_pre = +1`` for excitatory or input presynaptic neurons and ``-1``
    for inhibitory ones.  Shapes: ``w`` ``(B, n_pre, n_post)`` (one copy per
    sample) or ``(n_pre, n_post)`` with ``B = 1``; traces and spikes
    ``(B, n_pre)`` / ``(B, n_post)``; ``a_plus``/``a_astro`` scalars or
    ``(B,)``; ``pre_sign``, ``w_min``, ``w_max`` ``(n_pre,)``.  ``mask``
    (``(n_pre, n_post)``, optional) limits plasticity to existing synapses.
    The caller chooses whether the traces passed include this step's spikes.
    """
    dtype = w.dtype
    a_plus = torch.as_tensor(a_plus, dtype=dtype, device=w.device).reshape(-1, 1, 1)
    a_astro = torch.as_tensor(a_astro, dtype=dtype, device=w.device).reshape(-1, 1, 1)
    potentiate = x_pre.unsqueeze(2) * s_post.to(dtype).unsqueeze(1)
    depress = s_pre.to(dtype).unsqueeze(2) * x_post.unsqueeze(1)
    dw = pre_sign.reshape(-1, 1) * (a_plus * potentiate - a_astro * depress)
    if mask is not None:
        dw = dw * mask
    if w.dim() == 2:
        dw = dw.squeeze(0)
    w.add_(dw)
    torch.clamp_(w, min=w_min.reshape(-1, 1), max=w_max.reshape(-1, 1))


def astrocyte_step(a, liquid_spikes, input_spikes, w_astro, bias, tau_steps: float):
    """Global astrocyte ``A <- A + [w_astro (L - I) + b - A] / tau``; returns the new ``A``.

    ``a``: ``(B,)``; ``liquid_spikes``/``input_spikes``: ``(B, n)`` spikes of
    this step (summed here); ``tau_steps``: ``tau_astro / dt``.
    """
    drive = w_astro * (liquid_spikes.sum(1).to(a.dtype) - input_spikes.sum(1).to(a.dtype))
    return a + (drive + bias - a) / tau_steps
