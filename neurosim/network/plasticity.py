"""The plastic synapses of a built network and their rules, as arrays for the kernels.

Rules are :mod:`neurosim.models.stdp` on projections and
:mod:`neurosim.models.astrocyte` over them.  Rule ``r`` is the ``r``-th
plastic projection.  Plastic synapse ``p`` is ``weights[position[p]]``, from
neuron ``pre[p]`` to neuron ``post[p]`` (global indices) under rule
``rule[p]``; two indexes list them by presynaptic and by postsynaptic neuron,
so a spike touches only its own synapses (cost: spikes x fan-in and fan-out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Columns of :attr:`Plasticity.rules`: amounts in engine units, per-step trace factors.
RULE_COLUMNS = ("a_plus", "a_minus", "d_plus", "d_minus", "w_min", "w_max")
#: Columns of :attr:`Plasticity.astrocytes`: ``w``, ``b``, ``dt / tau``, ``initial``.
ASTROCYTE_COLUMNS = ("w", "b", "rate", "initial")


@dataclass
class Plasticity:
    """Plastic synapses, their rules and the astrocytes (module docstring)."""

    projections: list[str]
    position: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    rule: np.ndarray
    by_pre_ptr: np.ndarray
    by_pre: np.ndarray
    by_post_ptr: np.ndarray
    by_post: np.ndarray
    #: (rules, RULE_COLUMNS) in the network's dtype
    rules: np.ndarray
    #: engine units per unit of each rule's weights (to report weights in config units)
    factor: np.ndarray
    astrocyte_names: list[str]
    #: (astrocytes, ASTROCYTE_COLUMNS), float64 in the config's weight units
    astrocytes: np.ndarray
    #: (astrocytes, populations): +1 excite, -1 inhibit, 0 neither
    astrocyte_sign: np.ndarray
    #: the astrocyte that sets each rule's a_minus, or -1
    modulator: np.ndarray
    #: the population of every neuron (the astrocytes count spikes per population)
    population_of: np.ndarray

    @property
    def n_rules(self) -> int:
        return len(self.projections)

    def kernel_args(self) -> tuple:
        """The fixed arrays the kernels read, in their order."""
        return (self.position, self.pre, self.post, self.rule, self.by_pre_ptr, self.by_pre,
                self.by_post_ptr, self.by_post, self.factor, self.astrocytes,
                self.astrocyte_sign, self.modulator, self.population_of)


def _index(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, order)``: the entries of each key ``0..n-1``, in entry order."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, order.astype(np.int64)


def build_plasticity(net, cfg) -> Plasticity | None:
    """The plasticity arrays of ``net`` built from ``cfg``; None when nothing is plastic."""
    plastic = [name for name, proj in cfg.projections.items() if proj.plasticity is not None]
    if not plastic:
        return None
    synapses = net.synapses()
    positions, rules, factors = [], [], []
    for r, name in enumerate(plastic):
        rule = cfg.projections[name].plasticity
        factor = net.projection(name).weight_factor
        positions.append(net.synapse_positions(name, synapses))
        rules.append([rule.a_plus.constant * factor, rule.a_minus.constant * factor,
                      np.exp(-cfg.dt / rule.tau_plus), np.exp(-cfg.dt / rule.tau_minus),
                      rule.w_min.constant * factor, rule.w_max.constant * factor])
        factors.append(factor)
    position = np.concatenate(positions).astype(np.int64)
    rule_of = np.repeat(np.arange(len(plastic)), [p.size for p in positions]).astype(np.int64)
    pre = synapses["pre"][position].astype(np.int32)
    post = synapses["post"][position].astype(np.int32)
    n = net.n_neurons
    by_pre_ptr, by_pre = _index(pre, n)
    by_post_ptr, by_post = _index(post, n)

    pop_index = {p.name: i for i, p in enumerate(net.populations)}
    names = list(cfg.astrocytes)
    astro = np.zeros((len(names), len(ASTROCYTE_COLUMNS)))
    sign = np.zeros((len(names), len(net.populations)), dtype=np.int64)
    modulator = np.full(len(plastic), -1, dtype=np.int64)
    for a, (name, spec) in enumerate(cfg.astrocytes.items()):
        astro[a] = [spec.w.constant, spec.b.constant, cfg.dt / spec.tau, spec.initial.constant]
        for pop in spec.excite:
            sign[a, pop_index[pop]] += 1
        for pop in spec.inhibit:
            sign[a, pop_index[pop]] -= 1
        for proj in spec.modulates:
            modulator[plastic.index(proj)] = a
    population_of = np.repeat(np.arange(len(net.populations)),
                              [p.size for p in net.populations]).astype(np.int64)
    return Plasticity(plastic, position, pre, post, rule_of, by_pre_ptr, by_pre, by_post_ptr,
                      by_post, np.asarray(rules, dtype=net.dtype), np.asarray(factors),
                      names, astro, sign, modulator, population_of)


def initial_state(plasticity: Plasticity | None, n_neurons: int, dtype) -> dict[str, np.ndarray]:
    """The changing arrays of the rules before the first step (numpy; empty without rules).

    ``a_minus`` (the network's dtype) is each rule's depression now: its
    own, or its astrocyte's ``initial`` in engine units; ``astrocyte`` is
    ``A`` (float64); the traces are (rules, neurons).
    """
    if plasticity is None:
        return {"rules": np.zeros((0, len(RULE_COLUMNS)), dtype), "a_minus": np.zeros(0, dtype),
                "trace_pre": np.zeros((0, n_neurons), dtype),
                "trace_post": np.zeros((0, n_neurons), dtype), "astrocyte": np.zeros(0)}
    a_minus = plasticity.rules[:, 1].copy()
    astrocyte = plasticity.astrocytes[:, 3].copy()
    modulated = plasticity.modulator >= 0
    a_minus[modulated] = astrocyte[plasticity.modulator[modulated]] * plasticity.factor[modulated]
    shape = (plasticity.n_rules, n_neurons)
    return {"rules": plasticity.rules, "a_minus": a_minus, "trace_pre": np.zeros(shape, dtype),
            "trace_post": np.zeros(shape, dtype), "astrocyte": astrocyte}


def no_plasticity_args(dtype) -> tuple:
    """:meth:`Plasticity.kernel_args` of a network without plasticity (empty, typed alike)."""
    i64, i32, f64 = np.int64, np.int32, np.float64
    return (np.zeros(0, i64), np.zeros(0, i32), np.zeros(0, i32), np.zeros(0, i64),
            np.zeros(1, i64), np.zeros(0, i64), np.zeros(1, i64), np.zeros(0, i64),
            np.zeros(0, f64), np.zeros((0, len(ASTROCYTE_COLUMNS)), f64), np.zeros((0, 0), i64),
            np.zeros(0, i64), np.zeros(0, i64))
