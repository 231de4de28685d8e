"""``stdp`` and the astrocytes on tensors: the numba step's arithmetic, in its order."""

from __future__ import annotations

import torch


def plasticity_step(counts: torch.Tensor, weights: torch.Tensor, state: dict, fixed: dict):
    """Apply one step's spikes (``counts[i]``: events of neuron ``i``) to the
    plastic weights, traces and astrocytes in place; returns ``A`` after the step.

    ``state`` and ``fixed`` hold tensors of :func:`neurosim.network.plasticity.initial_state`
    and of the :class:`~neurosim.network.plasticity.Plasticity` arrays.  Each
    synapse is updated once per event, so the result is the numba step's
    bit for bit (:mod:`neurosim.models.stdp.numba_kernels`).
    """
    rules, a_minus = state["rules"], state["a_minus"]
    trace_pre, trace_post = state["trace_pre"], state["trace_post"]
    pre, post, rule, position = fixed["pre"], fixed["post"], fixed["rule"], fixed["position"]
    trace_pre.mul_(rules[:, 2:3])
    trace_post.mul_(rules[:, 3:4])
    most = int(counts.max()) if counts.numel() else 0
    # Potentiation for the posts that fired (a simulated neuron fires once a step).
    hit = torch.nonzero(counts[post] > 0).squeeze(1)
    if hit.numel():
        r, s = rule[hit], position[hit]
        grown = weights[s] + rules[r, 0] * trace_pre[r, pre[hit]]
        weights[s] = torch.clamp(grown, rules[r, 4], rules[r, 5])
    # Depression once per event of each pre (a generator may send several).
    for event in range(most):
        hit = torch.nonzero(counts[pre] > event).squeeze(1)
        if hit.numel():
            r, s = rule[hit], position[hit]
            shrunk = weights[s] - a_minus[r] * trace_post[r, post[hit]]
            weights[s] = torch.clamp(shrunk, rules[r, 4], rules[r, 5])
    for event in range(most):
        fired = (counts > event).to(trace_pre.dtype)
        trace_pre.add_(fired)
        trace_post.add_(fired)
    astrocyte = state["astrocyte"]
    if astrocyte.numel():
        per_population = torch.zeros(fixed["astrocyte_sign"].shape[1], dtype=torch.float64,
                                     device=counts.device)
        per_population.index_add_(0, fixed["population_of"], counts.to(torch.float64))
        drive = fixed["astrocyte_sign"].to(torch.float64) @ per_population
        par = fixed["astrocytes"]
        astrocyte.add_((par[:, 0] * drive + par[:, 1] - astrocyte) * par[:, 2])
        modulated = fixed["modulator"] >= 0
        if bool(modulated.any()):
            a_minus[modulated] = (astrocyte[fixed["modulator"][modulated]]
                                  * fixed["factor"][modulated]).to(a_minus.dtype)
    return astrocyte
