"""``stdp`` and the astrocytes on the numba engine: one step after the step's spikes are known."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def plasticity_step(m, spikes, n, weights, rules, a_minus, trace_pre, trace_post, astrocyte,
                    astrocyte_trace, position, pre, post, rule, by_pre_ptr, by_pre, by_post_ptr,
                    by_post, factor, astrocytes, astrocyte_sign, modulator, population_of):
    """Apply the step's ``spikes[:n]`` to the plastic weights, traces and astrocytes.

    The order and the arithmetic are those of :mod:`neurosim.models.stdp`
    and :mod:`neurosim.models.astrocyte`, in the weights' type; ``astrocyte``
    (float64) is ``A`` and ``astrocyte_trace[m]`` receives it.  The trace
    decay costs rules x neurons; the rest, the step's spikes x their plastic
    synapses.
    """
    n_rules = rules.shape[0]
    for r in range(n_rules):
        d_plus = rules[r, 2]
        d_minus = rules[r, 3]
        for i in range(trace_pre.shape[1]):
            trace_pre[r, i] *= d_plus
            trace_post[r, i] *= d_minus
    for k in range(n):
        for q in range(by_post_ptr[spikes[k]], by_post_ptr[spikes[k] + 1]):
            p = by_post[q]
            r = rule[p]
            s = position[p]
            w = weights[s] + rules[r, 0] * trace_pre[r, pre[p]]
            weights[s] = min(max(w, rules[r, 4]), rules[r, 5])
    for k in range(n):
        for q in range(by_pre_ptr[spikes[k]], by_pre_ptr[spikes[k] + 1]):
            p = by_pre[q]
            r = rule[p]
            s = position[p]
            w = weights[s] - a_minus[r] * trace_post[r, post[p]]
            weights[s] = min(max(w, rules[r, 4]), rules[r, 5])
    for k in range(n):
        for r in range(n_rules):
            trace_pre[r, spikes[k]] += 1
            trace_post[r, spikes[k]] += 1
    for a in range(astrocytes.shape[0]):
        drive = 0
        for k in range(n):
            drive += astrocyte_sign[a, population_of[spikes[k]]]
        w_a, b, rate = astrocytes[a, 0], astrocytes[a, 1], astrocytes[a, 2]
        astrocyte[a] += (w_a * drive + b - astrocyte[a]) * rate
        astrocyte_trace[m, a] = astrocyte[a]
    for r in range(n_rules):
        if modulator[r] >= 0:
            a_minus[r] = astrocyte[modulator[r]] * factor[r]
