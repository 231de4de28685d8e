"""Connectivity rules, compiled, enumerating synapses in a fixed order.

Each rule lists the partners of one row at a time (:func:`_row_partners`),
and one loop then handles each synapse according to the pass: (0) track the
range of delays, (1) count synapses per (source, delay slot), or (2) write
the synapse into its place in the CSR arrays.  All random draws are counter-based
(:mod:`neurosim.network.random`), so the three passes see the same synapses
without any per-synapse temporary storage.

Rows come out sorted by target for each projection (except ``arrays``):
sources' targets are enumerated in ascending order (source-major rules) or
targets are visited in ascending order (``fixed_indegree``).

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

ALL_TO_ALL, ONE_TO_ONE, FIXED_PROBABILITY, FIXED_INDEGREE, FIXED_OUTDEGREE, ARRAYS, DISTANCE = range(7)
RULE_CODES = {
    "all_to_all": ALL_TO_ALL,
    "one_to_one": ONE_TO_ONE,
    "fixed_probability": FIXED_PROBABILITY,
    "fixed_indegree": FIXED_INDEGREE,
    "fixed_outdegree": FIXED_OUTDEGREE,
    "arrays": ARRAYS,
    "distance": DISTANCE,
}


@njit(cache=True)
def _delay_steps(ddist, seed, row, j):
    """Delay of the ``j``-th synapse of ``row`` in whole steps (at least one)."""
    if ddist[0] == 0.0:
        steps = int(ddist[1])
    else:
        steps = int(np.floor(sample(ddist, row_key(seed, DELAY, row), j) + 0.5))
    return max(steps, 1)


@njit(cache=True)
def _row_partners(rule, row, n_pool, p, k, no_self, multapses, seed, chosen, out):
    """Partners of one row into ``out``; returns how many.

    Rows are sources (their targets are listed in ascending order) for every
    rule but ``fixed_indegree``, whose rows are targets listing their sources.
    """
    m = 0
    if rule == ALL_TO_ALL:
        for t in range(n_pool):
            if not (no_self and t == row):
                out[m] = t
                m += 1
    elif rule == ONE_TO_ONE:
        if row < n_pool and not no_self:
            out[0] = row
            m = 1
    elif rule == FIXED_PROBABILITY:
        # Geometric skips between accepted targets: cost ~ synapses, not
        # n_pre * n_post, and each pair is still an independent Bernoulli(p).
        if p <= 0.0:
            return 0
        key = row_key(seed, STRUCTURE, row)
        log_q = np.log1p(-p) if p < 1.0 else -np.inf
        t = -1
        draw = 0
        while True:
            if p >= 1.0:
                t += 1
            else:
                # The skip stays a float until it is known to land in range:
                # for tiny p it can exceed the int64 range.
                skip = np.floor(np.log1p(-uniform(key, draw)) / log_q)
                draw += 1
                if t + 1 + skip >= n_pool:
                    break
                t += 1 + int(skip)
            if t >= n_pool:
                break
            if not (no_self and t == row):
                out[m] = t
                m += 1
    else:  # FIXED_INDEGREE / FIXED_OUTDEGREE: k uniform picks from the pool
        key = row_key(seed, STRUCTURE, row)
        draw = 0
        for _ in range(k):
            while True:
                x = int(uniform(key, draw) * n_pool)
                draw += 1
                if no_self and x == row:
                    continue
                if not multapses:
                    # chosen[x] == row + 1 marks x as drawn for this row: an
                    # O(1) duplicate check without clearing between rows.
                    if chosen[x] == row + 1:
                        continue
                    chosen[x] = row + 1
                break
            out[m] = x
            m += 1
        if rule == FIXED_OUTDEGREE:
            out[:m].sort()
    return m


@njit(cache=True)
def _distance_row(row, n_pool, c, lam, no_self, seed, pre_xyz, post_xyz, out):
    """Targets of source ``row`` under ``distance``: each with probability
    ``c exp(-(D / lam)^2)``, one counter-based draw per pair; returns how many.

    Every pair is tried (build cost n_pre x n_post, once per network).
    """
    key = row_key(seed, STRUCTURE, row)
    x, y, z = pre_xyz[row, 0], pre_xyz[row, 1], pre_xyz[row, 2]
    m = 0
    for t in range(n_pool):
        if no_self and t == row:
            continue
        d2 = (post_xyz[t, 0] - x) ** 2 + (post_xyz[t, 1] - y) ** 2 + (post_xyz[t, 2] - z) ** 2
        if uniform(key, t) < c * np.exp(-d2 / (lam * lam)):
            out[m] = t
            m += 1
    return m


@njit(cache=True)
def enumerate_synapses(mode, rule, n_pre, n_post, p, k, same_population, autapses, multapses,
                       arr_pre, arr_post, arr_weight, arr_delay, seed, wdist, ddist, dmin,
                       n_slots, pre0, post0, receptor, n_total, cursor, outdegree, delay_range,
                       targets, weights, lam, pre_xyz, post_xyz, rank, n_ranks):
    """Run one pass (``RANGE``, ``COUNT`` or ``FILL``) of one projection.

    ``wdist``/``ddist`` are tuples ``(code, a, b, lo, hi)`` with weights in
    the engine's internal unit and delays in (fractional) steps; ``arr_*``
    hold explicit connections for the ``arrays`` rule (weights/delays may be
    empty to fall back to the distributions).  The count pass also counts
    each source's out-degree in this projection into ``outdegree``.  Rule
    ``distance`` takes ``C`` as ``p``, its length constant ``lam`` and the
    coordinates of both populations (``(n, 3)``; empty for other rules).

    Rank ``rank`` of ``n_ranks`` (:mod:`neurosim.network.partition`) counts
    and writes only the synapses onto its own neurons, with local targets
    ``receptor * n_local + post // n_ranks``; every rank draws the same
    streams, so together they hold exactly the one-process synapses.
    """
    seed = np.uint64(seed)
    no_self = same_population and not autapses
    source_major = rule != FIXED_INDEGREE
    if rule == ARRAYS:
        n_rows, n_pool = arr_pre.size, 1
    elif source_major:
        n_rows, n_pool = n_pre, n_post
    else:
        n_rows, n_pool = n_post, n_pre
    chosen = np.zeros(n_pool if not multapses else 1, dtype=np.int64)
    partners = np.empty(max(n_pool, k, 1), dtype=np.int64)
    n_local = (n_total - rank + n_ranks - 1) // n_ranks
    for row in range(n_rows):
        if (n_ranks > 1 and not source_major and mode != RANGE
                and (post0 + row) % n_ranks != rank):
            continue  # a target row of another rank's neuron: not drawn here
        if rule == ARRAYS:
            m = 1
        elif rule == DISTANCE:
            m = _distance_row(row, n_pool, p, lam, no_self, seed, pre_xyz, post_xyz, partners)
        else:
            m = _row_partners(rule, row, n_pool, p, k, no_self, multapses, seed, chosen,
                              partners)
        for j in range(m):
            if rule == ARRAYS:
                src, tgt = arr_pre[row], arr_post[row]
            elif source_major:
                src, tgt = row, partners[j]
            else:
                src, tgt = partners[j], row
            steps = int(arr_delay[row]) if arr_delay.size else _delay_steps(ddist, seed, row, j)
            if mode == RANGE:
                delay_range[0] = min(delay_range[0], steps)
                delay_range[1] = max(delay_range[1], steps)
                continue
            post = post0 + tgt
            if n_ranks > 1 and post % n_ranks != rank:
                continue
            slot = (pre0 + src) * n_slots + (steps - dmin)
            if mode == COUNT:
                cursor[slot] += 1
                outdegree[src] += 1
                continue
            pos = cursor[slot]
            cursor[slot] = pos + 1
            targets[pos] = receptor * n_local + post // n_ranks
            if arr_weight.size:
                weights[pos] = arr_weight[row]
            else:
                weights[pos] = sample(wdist, row_key(seed, WEIGHT, row), j)


@njit(cache=True)
def sort_unsorted_rows(indptr, targets, weights):
    """Sort by target the (rare) row segments that several projections mixed.

    Delivery split by target range between threads relies on sorted rows;
    the generated rules already produce them, so this only touches rows of
    explicit ``arrays`` connections or where two projections onto
    overlapping targets met.
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
