"""``lif_discrete`` on torch tensors: one step, a pure function (see the numba kernel)."""

from __future__ import annotations

import torch

from neurosim.models.spikes_torch import fire


def step(v, rows, until, step: int, par, spike_fn=None):
    """One step: ``(spikes, v, rows, until)``; ``rows``: ``(I_e, I_i, count)`` with the
    refractory count of :mod:`neurosim.models.lif_discrete.numba_kernels`;
    ``until`` is not used.  ``par``: ``(beta, gain, alpha, bias, threshold,
    subtract, resume)`` with ``resume = t_ref_steps + 1``, the count a spike stores.
    """
    beta, gain, alpha, bias, theta, subtract, code = par
    e, g, count = rows[0], rows[1], rows[2]
    fired_before = torch.where(count == code, subtract, 0.0)
    vv = v * beta + (e + g) * gain + bias - theta * fired_before
    count = torch.where(count > 0, count - 1, 0.0)
    spikes = fire(vv, theta, count == 0, spike_fn)
    fired = spikes if spikes.dtype == torch.bool else spikes > 0
    v = torch.where(fired & (subtract == 0), 0.0, vv)
    count = torch.where(fired, code.to(count.dtype), count)
    return spikes, v, (e * alpha, g * alpha, count), until
