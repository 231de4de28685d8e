"""``lif_exp`` on the numba engine: one exact step of a block of neurons."""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.models import held

#: The refractory state is kept in ``v`` (:mod:`neurosim.models.held`).
HELD_IN_V = True


@njit(inline="always")
def update_block(a, b, v, x, par, ref_steps, out, row, n):
    """One exact step of neurons ``a:b``; True if any spiked (marked as ``spike_mark``).

    ``x`` rows 0 and 1 hold the synaptic currents (volts, see the model);
    ``par`` is the group's row of the propagator table.  Indices are
    unsigned, which spares the negative-index checks that would stop
    vectorisation; the "any spiked" reduction keeps the vectors wide.
    """
    p22, p21e, p21i, p11e, p11i = par[0], par[1], par[2], par[3], par[4]
    drive, v_th, v_reset = par[5], par[6], par[7]
    code = held.spiked_code(ref_steps)
    any_spiked = False
    first = np.uint64(a)
    for k in range(b - a):
        i = first + np.uint64(k)
        s = v[i]
        e = x[0, i]
        g = x[1, i]
        v_new = p22 * held.start(s, v_reset) + p21e * e + p21i * g + drive
        x[0, i] = e * p11e
        x[1, i] = g * p11i
        v[i], spiked = held.threshold(s, v_new, v_th, v_reset, code)
        any_spiked |= spiked
    return any_spiked


#: A spike is marked in ``v`` by the held code (:mod:`neurosim.models.held`).
spike_marks = held.spike_marks
spike_mark = held.spiked_code
