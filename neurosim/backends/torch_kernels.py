"""Batched spiking kernels on torch tensors: the torch backend's step, reusable alone.

Every function works on tensors with a leading batch dimension ``B`` (many
independent samples advanced at once; the ``torch`` backend uses ``B = 1``)
and runs unchanged on CPU or CUDA.  State is updated in place where that is
the natural contract (as :mod:`neurosim.engine.kernels` does on arrays), and
per-neuron parameters are tensors that broadcast against ``(B, n)``.

The vocabulary matches the numba engine: the neuron models' steps live with
the models (``torch_kernels`` of each :mod:`neurosim.models` package);
here are ``deliver`` (:func:`deliver_dense`, :func:`deliver_events`), ``plasticity``
(:func:`trace_step`, :func:`stdp_step` on dense weights,
:func:`stdp_events` on CSR synapses) and ``astrocyte``
(:func:`astrocyte_step`), plus :func:`counter_uniform`, the counter-based
generator of :mod:`neurosim.network.random` on tensors.
"""

from __future__ import annotations

import torch


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


def _take(x, i):
    """``x[i]`` for a 1-D index (index_select: several times faster than ``[]`` on the CPU)."""
    return x.index_select(0, i)


def _take2(x, b, i):
    """``x[b, i]`` of a contiguous ``(B, n)`` tensor, through its flat view."""
    return x.reshape(-1).index_select(0, b * x.shape[1] + i)


def row_synapses(indptr, rows):
    """Synapse ids of CSR ``rows``, row after row: returns ``(seg, idx)``.

    ``idx[e]`` is the ``e``-th synapse of the expansion and ``seg[e]`` the
    position in ``rows`` of the row it belongs to.  No Python loop.
    """
    start = _take(indptr, rows)
    length = _take(indptr, rows + 1) - start
    # Event j of row r is synapse start[r] + (j - first event of r).
    seg = torch.repeat_interleave(length)
    shift = _take(start - (torch.cumsum(length, 0) - length), seg)
    return seg, torch.arange(seg.numel(), device=seg.device) + shift


def deliver_events(syn_flat, counts, indptr, targets, weights, n_slots: int = 1,
                   slots=None, scale=None) -> int:
    """Walk the CSR rows of the spiking neurons and add their weights; returns the event count
    (known on the host: no device read).

    ``syn_flat``: ``(B, M)`` contiguous synaptic state, ``targets`` index its
    columns.  ``counts``: ``(B, n_pre)`` spikes (bool, or counts: a row is
    walked once per spike), or ``(B, G, n_pre)``: ``G`` groups of spikes,
    group ``g`` using delay slot ``slots[g]`` (a ``(G,)`` tensor; default:
    slot 0 for all).  Row ``i * n_slots + slot`` of ``(indptr, targets, weights)``
    holds neuron ``i``'s synapses of that slot (the layout of
    :class:`neurosim.network.Network`).  ``weights``: ``(S,)`` shared by the
    batch or ``(B, S)``, one copy per sample.  ``scale`` (optional, with
    ``(B, n_pre)`` counts): a factor per presynaptic neuron and sample that
    multiplies its weights (e.g. the share of a decayed current a spike restores).

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
    if slots is not None:
        rows = pre * n_slots + slots[group]
    else:
        rows = pre if n_slots == 1 else pre * n_slots
    seg, idx = row_synapses(indptr, rows)
    flat = _take(targets, idx).long()
    sample = _take(batch, seg) if syn_flat.shape[0] > 1 or weights.dim() > 1 else None
    if syn_flat.shape[0] > 1:
        flat += sample * syn_flat.shape[1]
    values = _take(weights, idx) if weights.dim() == 1 else _take2(weights, sample, idx)
    if scale is not None:
        values = (values * _take(scale[batch, pre], seg)).to(syn_flat.dtype)
    syn_flat.view(-1).index_add_(0, flat, values)
    return seg.numel()


def trace_step(x, spikes, decay: float = 0.905, gain: float = 0.1) -> None:
    """Spike trace ``x <- decay * (x + gain * S)`` in place (tau = 10 steps: 0.905 ~ exp(-0.1)).

    Computed as ``x * decay + (decay * gain) S``, the liquid kernels' order
    (:mod:`neurosim.reservoir.kernels`), so float64 results agree bit for bit.
    """
    x.mul_(decay).add_(spikes.to(x.dtype), alpha=decay * gain)


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


def stdp_events(w, spikes, trace, pre_ptr, post, in_ptr, in_syn, in_pre, exc_like, w_lo, w_hi,
                a_plus, a_minus, n_post: int) -> None:
    """Trace STDP on CSR synapses, on spike events only, in place (per-sample weights).

    ``w``: ``(B, S + 1)``, one weight copy per sample, synapses in CSR order
    by presynaptic neuron (``pre_ptr``, ``post``) with a CSC index over the
    same ids (``in_ptr``, ``in_syn``, ``in_pre``) for the ``n_post``
    postsynaptic neurons; the last column is scratch space (written, never
    read as a synapse).  ``spikes``/``trace``: ``(B, n)``, the traces of the
    previous step.  Each spike of ``j`` changes (sign swapped for inhibitory
    ``pre``)::

        its incoming synapses (as post):  dw = +a_plus  * x_pre
        its outgoing synapses (as pre):   dw = -a_minus * x_post

    then clips to the presynaptic neuron's ``[w_lo, w_hi]``.  ``a_plus`` is a
    scalar, ``a_minus`` a ``(B,)`` tensor.  The updates of one step are applied
    in the order of :func:`neurosim.reservoir.kernels.simulate_sample` (spiking
    neurons in index order, each as post, then as pre): only a synapse whose
    two ends both spiked gets two updates, the one of its lower-numbered end
    first, and the clip between them is the only place order shows.  Increments
    are computed in the wider of float64 and ``w``'s dtype, then stored.
    """
    n_syn = w.shape[1] - 1
    wide = torch.promote_types(w.dtype, torch.float64)
    a_minus = a_minus.to(wide)
    x = trace.to(wide)
    # As post: incoming synapses of the spiking postsynaptic neurons.
    b_post, j_post = torch.nonzero(spikes[:, :n_post], as_tuple=True)
    seg, q = row_synapses(in_ptr, j_post)
    b1, s1, p1, j1 = _take(b_post, seg), _take(in_syn, q), _take(in_pre, q), _take(j_post, seg)
    d1 = torch.where(_take(exc_like, p1), a_plus, -_take(a_minus, b1)) * _take2(x, b1, p1)
    # As pre: outgoing synapses of every spiking neuron.
    b_pre, j_pre = torch.nonzero(spikes, as_tuple=True)
    seg, s2 = row_synapses(pre_ptr, j_pre)
    b2, p2, q2 = _take(b_pre, seg), _take(j_pre, seg), _take(post, s2)
    d2 = torch.where(_take(exc_like, p2), -_take(a_minus, b2), a_plus) * _take2(x, b2, q2)
    # A synapse with both ends spiking: its second update (higher-numbered end).
    second = torch.cat(((j1 > p1) & _take2(spikes, b1, p1), (p2 > q2) & _take2(spikes, b2, q2)))
    batch = torch.cat((b1, b2))
    ids = batch * (n_syn + 1) + torch.cat((s1, s2))
    delta = torch.cat((d1, d2))
    pre = torch.cat((p1, p2))
    flat_w = w.view(-1)
    lo, hi = w_lo.to(wide), w_hi.to(wide)

    def update(k, d, p):
        return torch.minimum(torch.maximum(_take(flat_w, k).to(wide) + d, _take(lo, p)),
                             _take(hi, p)).to(w.dtype)

    # First updates: every synapse once (second updates go to the scratch
    # column, so the scatter has no duplicate synapse); then the few seconds.
    scratch = batch * (n_syn + 1) + n_syn
    flat_w.index_copy_(0, torch.where(second, scratch, ids), update(ids, delta, pre))
    rest = torch.nonzero(second).squeeze(1)
    k = _take(ids, rest)
    flat_w.index_copy_(0, k, update(k, _take(delta, rest), _take(pre, rest)))


_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _signed(c: int) -> int:
    """A uint64 constant as the int64 with the same bits."""
    return c - (1 << 64) if c >= 1 << 63 else c


def _shift_right(z, k: int):
    """Logical right shift of int64 bit patterns (torch's ``>>`` is arithmetic)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def mix64(z):
    """SplitMix64 finaliser on int64 tensors holding uint64 bit patterns (wrapping arithmetic)."""
    z = (z ^ _shift_right(z, 30)) * _signed(_M1)
    z = (z ^ _shift_right(z, 27)) * _signed(_M2)
    return z ^ _shift_right(z, 31)


def counter_uniform(key, counter):
    """:func:`neurosim.network.random.uniform` on tensors: float64 in [0, 1) from 53 bits.

    ``key`` and ``counter``: int64 tensors (uint64 bit patterns) that broadcast.
    """
    bits = _shift_right(mix64(key + (counter + 1) * _signed(_GOLDEN)), 11)
    return bits.to(torch.float64) * (1.0 / 9007199254740992.0)
