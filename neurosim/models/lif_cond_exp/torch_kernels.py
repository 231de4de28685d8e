"""``lif_cond_exp`` on torch tensors: one exponential-Euler step, a pure function."""

from __future__ import annotations

import torch

from neurosim.models.spikes_torch import clamp_threshold_reset


def step(v, rows, until, step: int, par, spike_fn=None):
    """As :func:`neurosim.models.lif_exp.torch_kernels.step`, with conductances in ``rows``."""
    dt_c, g_l, leak_drive, e_e, e_i, p11e, p11i, v_th, v_reset, resume = par
    g_e, g_i = rows[0], rows[1]
    g_tot = g_l + g_e + g_i
    v_inf = (leak_drive + g_e * e_e + g_i * e_i) / g_tot
    v_new = v_inf + (v - v_inf) * torch.exp(-dt_c * g_tot)
    spikes, v, until = clamp_threshold_reset(v_new, until, step, v_th, v_reset, resume, spike_fn)
    return spikes, v, (g_e * p11e, g_i * p11i), until
