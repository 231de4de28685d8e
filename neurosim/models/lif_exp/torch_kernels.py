"""``lif_exp`` on torch tensors: one exact step, a pure function."""

from __future__ import annotations

from neurosim.models.spikes_torch import clamp_threshold_reset


def step(v, rows, until, step: int, par, spike_fn=None):
    """One step: ``(spikes, v, rows, until)`` from the state before it.

    ``rows``: the synaptic currents ``(I_syn_e, I_syn_i)`` in volts (as the
    numba kernel keeps them); ``par``: the propagators of
    :meth:`neurosim.models.lif_exp.LifExp.discretise` and ``resume``, each
    broadcasting against ``v``.  The arithmetic is written in the numba
    kernel's order, so float results agree bit for bit on the CPU.
    """
    p22, p21e, p21i, p11e, p11i, drive, v_th, v_reset, resume = par
    e, g = rows[0], rows[1]
    v_new = p22 * v + p21e * e + p21i * g + drive
    spikes, v, until = clamp_threshold_reset(v_new, until, step, v_th, v_reset, resume, spike_fn)
    return spikes, v, (e * p11e, g * p11i), until
