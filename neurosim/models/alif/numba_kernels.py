"""``alif`` on the numba engine: ``lif_exp``'s exact step with an adaptive threshold."""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.models import held

HELD_IN_V = True


@njit(inline="always")
def update_block(a, b, v, x, par, ref_steps, out, row, n):
    """As :func:`neurosim.models.lif_exp.numba_kernels.update_block`, with the
    adaptation ``b`` in ``x`` row 2: it decays, sets the step's threshold
    ``V_th + beta b``, and grows by 1 on a spike."""
    p22, p21e, p21i, p11e, p11i = par[0], par[1], par[2], par[3], par[4]
    drive, v_th, v_reset, p_b, beta = par[5], par[6], par[7], par[8], par[9]
    code = held.spiked_code(ref_steps)
    any_spiked = False
    first = np.uint64(a)
    for k in range(b - a):
        i = first + np.uint64(k)
        s = v[i]
        e = x[0, i]
        g = x[1, i]
        adapt = x[2, i] * p_b
        v_new = p22 * held.start(s, v_reset) + p21e * e + p21i * g + drive
        x[0, i] = e * p11e
        x[1, i] = g * p11i
        v[i], spiked = held.threshold(s, v_new, v_th + beta * adapt, v_reset, code)
        x[2, i] = adapt + 1 if spiked else adapt
        any_spiked |= spiked
    return any_spiked


#: A spike is marked in ``v`` by the held code (:mod:`neurosim.models.held`).
spike_marks = held.spike_marks
spike_mark = held.spiked_code
