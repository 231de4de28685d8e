"""``lif_cond_exp`` on the numba engine: one exponential-Euler step of a block of neurons."""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.models import held

HELD_IN_V = True


@njit(inline="always")
def update_block(a, b, v, x, par, ref_steps, out, row, n):
    """As :func:`neurosim.models.lif_exp.numba_kernels.update_block`, with
    conductances in ``x`` rows 0 and 1: with them frozen over the step the
    membrane relaxes exactly towards its momentary equilibrium ``v_inf``."""
    dt_c, g_l, leak_drive, e_e, e_i = par[0], par[1], par[2], par[3], par[4]
    p11e, p11i, v_th, v_reset = par[5], par[6], par[7], par[8]
    code = held.spiked_code(ref_steps)
    any_spiked = False
    first = np.uint64(a)
    for k in range(b - a):
        i = first + np.uint64(k)
        s = v[i]
        ge = x[0, i]
        gi = x[1, i]
        g_tot = g_l + ge + gi
        v_inf = (leak_drive + ge * e_e + gi * e_i) / g_tot
        v_new = v_inf + (held.start(s, v_reset) - v_inf) * np.exp(-dt_c * g_tot)
        x[0, i] = ge * p11e
        x[1, i] = gi * p11i
        v[i], spiked = held.threshold(s, v_new, v_th, v_reset, code)
        any_spiked |= spiked
    return any_spiked


#: A spike is marked in ``v`` by the held code (:mod:`neurosim.models.held`).
spike_marks = held.spike_marks
spike_mark = held.spiked_code
