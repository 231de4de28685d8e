"""Connectivity rules, compiled, enumerating synapses in a fixed order.

Each rule walks its synapses in a deterministic order and hands each one to
:func:`_emit`, which, depending on the pass, (0) tracks the range of delays,
(1) counts synapses per (source, delay slot), or (2) writes the synapse into
its place in the CSR arrays.  All random draws are counter-based
(:mod:`neurosim.network.random`), so the three passes see the same synapses
without any per-synapse temporary storage.

Rows come out sorted by target for each projection: sources' targets are
enumerated in ascending order (source-major rules) or targets are visited in
ascending order (target-major rules).

A synapse's target is stored as the flat index ``receptor * n_total + post``
into the engine's synaptic state array of shape (receptors, neurons).
"""

import numpy as np
from numba import njit

from neurosim.network.random import (
    DELAY,
    STRUCTURE,
    WEIGHT,
    row_key,
    sample,
    uniform,
)

RANGE, COUNT, FILL = 0, 1, 2

ALL_TO_ALL, ONE_TO_ONE, FIXED_PROBABILITY, FIXED_INDEGREE, FIXED_OUTDEGREE, ARRAYS = range(6)
RULE_CODES = {
    "all_to_all": ALL_TO_ALL,
    "one_to_one": ONE_TO_ONE,
    "fixed_probability": FIXED_PROBABILITY,
    "fixed_indegree": FIXED_INDEGREE,
    "fixed_outdegree": FIXED_OUTDEGREE,
    "arrays": ARRAYS,
}


@njit(inline="always")
def _emit(mode, src, tgt, row, j, seed, wdist, ddist, dt_steps_min, n_slots, pre0, post0,
          receptor, n_total, cursor, delay_range, targets, weights):
    """Handle one synapse ``src -> tgt``, the ``j``-th draw of ``row``."""
    if ddist[0] == 0.0 and ddist[1] == ddist[2]:
        steps = int(ddist[1])
    else:
        steps = int(np.floor(sample(ddist, row_key(seed, DELAY, row), j) + 0.5))
    steps = max(steps, 1)
    if mode == RANGE:
        delay_range[0] = min(delay_range[0], steps)
        delay_range[1] = max(delay_range[1], steps)
        return
    slot = (pre0 + src) * n_slots + (steps - dt_steps_min)
    if mode == COUNT:
        cursor[slot] += 1
        return
    pos = cursor[slot]
    cursor[slot] = pos + 1
    targets[pos] = receptor * n_total + post0 + tgt
    weights[pos] = sample(wdist, row_key(seed, WEIGHT, row), j)


@njit(cache=True)
def enumerate_synapses(mode, rule, n_pre, n_post, p, k, same_population, autapses, multapses,
                       arr_pre, arr_post, arr_weight, arr_delay, seed, wdist, ddist, dmin,
                       n_slots, pre0, post0, receptor, n_total, cursor, delay_range, targets,
                       weights):
    """Run one pass (``RANGE``, ``COUNT`` or ``FILL``) of one projection.

    ``wdist``/``ddist`` are ``(code, a, b, lo, hi)`` with weights in the
    engine's internal unit and delays in (fractional) steps; ``arr_*`` hold
    explicit connections for the ``arrays`` rule (weights/delays may be empty
    to fall back to the distributions).
    """
    seed = np.uint64(seed)
    no_self = same_population and not autapses
    if rule == ALL_TO_ALL:
        for s in range(n_pre):
            for t in range(n_post):
                if no_self and s == t:
                    continue
                _emit(mode, s, t, s, t, seed, wdist, ddist, dmin, n_slots, pre0, post0,
                      receptor, n_total, cursor, delay_range, targets, weights)
    elif rule == ONE_TO_ONE:
        for s in range(min(n_pre, n_post)):
            if not no_self:
                _emit(mode, s, s, s, 0, seed, wdist, ddist, dmin, n_slots, pre0, post0,
                      receptor, n_total, cursor, delay_range, targets, weights)
    elif rule == FIXED_PROBABILITY:
        if p <= 0.0:
            return
        # Geometric skips between accepted targets: cost ~ synapses, not
        # n_pre * n_post, and each pair is still an independent Bernoulli(p).
        log_q = np.log1p(-p) if p < 1.0 else -np.inf
        for s in range(n_pre):
            key = row_key(seed, STRUCTURE, s)
            t = -1
            draw = 0
            j = 0
            while True:
                if p >= 1.0:
                    t += 1
                else:
                    u = uniform(key, draw)
                    draw += 1
                    t += 1 + int(np.floor(np.log1p(-u) / log_q))
                if t >= n_post:
                    break
                if no_self and s == t:
                    continue
                _emit(mode, s, t, s, j, seed, wdist, ddist, dmin, n_slots, pre0, post0,
                      receptor, n_total, cursor, delay_range, targets, weights)
                j += 1
    elif rule == FIXED_INDEGREE or rule == FIXED_OUTDEGREE:
        outdegree = rule == FIXED_OUTDEGREE
        n_rows = n_pre if outdegree else n_post
        n_pool = n_post if outdegree else n_pre
        # Stamp array: chosen[x] == row + 1 marks x as drawn for this row,
        # an O(1) duplicate check without clearing between rows.
        chosen = np.zeros(n_pool if not multapses else 1, dtype=np.int64)
        picks = np.empty(k, dtype=np.int64)
        for row in range(n_rows):
            key = row_key(seed, STRUCTURE, row)
            draw = 0
            for j in range(k):
                while True:
                    x = int(uniform(key, draw) * n_pool)
                    draw += 1
                    if no_self and x == row:
                        continue
                    if not multapses:
                        if chosen[x] == row + 1:
                            continue
                        chosen[x] = row + 1
                    break
                picks[j] = x
            if outdegree:
                picks.sort()
            for j in range(k):
                if outdegree:
                    _emit(mode, row, picks[j], row, j, seed, wdist, ddist, dmin, n_slots,
                          pre0, post0, receptor, n_total, cursor, delay_range, targets, weights)
                else:
                    _emit(mode, picks[j], row, row, j, seed, wdist, ddist, dmin, n_slots,
                          pre0, post0, receptor, n_total, cursor, delay_range, targets, weights)
    else:  # ARRAYS: explicit synapses, weights/delays given or drawn per index
        wd = wdist.copy()
        dd = ddist.copy()
        for i in range(arr_pre.size):
            if arr_weight.size:
                wd[0] = 0.0
                wd[1] = arr_weight[i]
                wd[2] = arr_weight[i]
                wd[3] = -np.inf
                wd[4] = np.inf
            if arr_delay.size:
                dd[0] = 0.0
                dd[1] = arr_delay[i]
                dd[2] = arr_delay[i]
                dd[3] = -np.inf
                dd[4] = np.inf
            _emit(mode, arr_pre[i], arr_post[i], 0, i, seed, wd, dd, dmin, n_slots, pre0,
                  post0, receptor, n_total, cursor, delay_range, targets, weights)


@njit(cache=True)
def sort_unsorted_rows(indptr, targets, weights):
    """Sort by target the (rare) row segments that several projections mixed.

    Delivery split by target range between threads relies on sorted rows;
    one projection per source already produces them, so this only touches
    rows where two projections onto overlapping targets met.
    """
    for r in range(indptr.size - 1):
        lo = indptr[r]
        hi = indptr[r + 1]
        for j in range(lo + 1, hi):
            if targets[j] < targets[j - 1]:
                order = np.argsort(targets[lo:hi], kind="mergesort")
                targets[lo:hi] = targets[lo:hi][order]
                weights[lo:hi] = weights[lo:hi][order]
                break
