"""Threshold and reset on torch tensors, shared by the models' torch kernels.

Every model's ``torch_kernels.step`` is a pure function (state in, state
out).  Without a surrogate it returns boolean spikes and runs under
inference mode; with ``spike_fn`` (a surrogate spike function: forward the
Heaviside step of ``v - threshold``, backward its smooth stand-in) the
spikes are floats autograd can differentiate.  The reset uses the spike as a
mask (``torch.where``), so no gradient flows through the reset itself, as
snnTorch's default detached reset does.
"""

from __future__ import annotations

import torch


def fire(v, threshold, allowed, spike_fn=None):
    """Spikes where ``v >= threshold`` and ``allowed``: bool, or ``spike_fn(v - threshold)``."""
    if spike_fn is None:
        return (v >= threshold) & allowed
    return spike_fn(v - threshold) * allowed


def clamp_threshold_reset(v_new, until, step: int, v_th, v_reset, resume, spike_fn=None):
    """Refractory clamp, threshold and reset of the clamped models.

    ``until`` holds the step at which each neuron integrates again (a spike
    in ``step`` sets it to ``step + resume``, ``resume = t_ref_steps + 1``);
    a held neuron sits at ``v_reset``.  Returns ``(spikes, v, until)``.
    """
    held = until > step
    v_int = torch.where(held, v_reset, v_new)
    spikes = fire(v_int, v_th, ~held, spike_fn)
    fired = spikes if spikes.dtype == torch.bool else spikes > 0
    return (spikes, torch.where(fired, v_reset, v_int),
            torch.where(fired, step + resume, until))
