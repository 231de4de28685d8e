"""``alif`` on torch tensors: ``lif_exp``'s step with an adaptive threshold, a pure function."""

from __future__ import annotations

import torch

from neurosim.models.spikes_torch import clamp_threshold_reset


def step(v, rows, until, step: int, par, spike_fn=None):
    """As :func:`neurosim.models.lif_exp.torch_kernels.step`; ``rows[2]`` is the adaptation ``b``."""
    p22, p21e, p21i, p11e, p11i, drive, v_th, v_reset, p_b, beta, resume = par
    e, g, b = rows[0], rows[1], rows[2]
    adapt = b * p_b
    v_new = p22 * v + p21e * e + p21i * g + drive
    spikes, v, until = clamp_threshold_reset(v_new, until, step, v_th + beta * adapt, v_reset,
                                             resume, spike_fn)
    return spikes, v, (e * p11e, g * p11i, adapt + spikes.to(adapt.dtype)), until
