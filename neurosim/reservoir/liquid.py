"""The liquid: LIF neurons on a 3-D grid with distance-dependent synapses.

Neurons ``0 .. n_liquid-1`` form the liquid (the first ``n_exc`` excitatory,
then inhibitory), neurons ``n_liquid .. n_liquid+n_inputs-1`` are the input
neurons. Grid positions are randomly permuted over the neurons, so excitatory
and inhibitory cells are mixed in space. A synapse ``i -> j`` (``i != j``)
exists with probability

    p(i, j) = C[type_i, type_j] * exp(-(D(i, j) / lambda)^2)

with ``D`` the Euclidean grid distance; every input neuron projects to each
liquid neuron with probability ``input_density`` and a random sign. All
initial weights have magnitude ``w_init``; the sign is the presynaptic
neuron's (random for inputs), and plasticity keeps weights inside bounds set
by the presynaptic type (excitatory ``[0, w_max]``, inhibitory
``[-w_max, 0]``, input ``[-w_max, w_max]``).

The network builder draws these synapses (:func:`liquid_network` is the
liquid written as a network: rule ``distance`` over a ``grids:`` grid), so
a liquid is the same as the network a YAML file with those sections gives.

The synapses are stored once, in CSR order by presynaptic neuron (``pre_ptr``,
``post``, ``weight``), with a CSC index over the same synapse ids
(``in_ptr``, ``in_syn``), so a spike touches only its own outgoing synapses
(delivery, depression) and its own incoming ones (potentiation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.config.run import RunConfig
from neurosim.network.build import build_network
from neurosim.network.grid import grid_positions

EXC, INH, INPUT = 0, 1, 2


@dataclass(frozen=True)
class LiquidSpec:
    """Structure parameters of a liquid (plain numbers, dimensionless)."""

    grid: tuple[int, int, int]
    n_inputs: int = 784
    exc_fraction: float = 0.8
    lam: float = 3.0
    c_ee: float = 0.2
    c_ei: float = 0.1
    c_ie: float = 0.3
    c_ii: float = 0.05
    input_density: float = 0.15
    w_init: float = 3.0
    w_max: float = 3.0

    @property
    def n_liquid(self) -> int:
        gx, gy, gz = self.grid
        return gx * gy * gz

    @property
    def n_exc(self) -> int:
        return int(round(self.exc_fraction * self.n_liquid))


@dataclass(frozen=True)
class Liquid:
    """A built liquid: neuron types, positions and synapses (see module doc)."""

    spec: LiquidSpec
    kind: np.ndarray        # int8 per neuron: EXC, INH or INPUT
    position: np.ndarray    # (n_liquid, 3) grid coordinates
    pre_ptr: np.ndarray     # int64, n_total + 1
    post: np.ndarray        # int32 per synapse
    weight: np.ndarray      # float32 per synapse (the initial weights)
    in_ptr: np.ndarray      # int64, n_liquid + 1: synapses into each liquid neuron
    in_syn: np.ndarray      # int64 synapse ids, grouped by postsynaptic neuron
    in_pre: np.ndarray      # int32 presynaptic neuron of each entry of in_syn
    w_lo: np.ndarray        # float32 per neuron: lower weight bound of its outgoing synapses
    w_hi: np.ndarray        # float32 per neuron: upper bound

    @property
    def n_liquid(self) -> int:
        return self.spec.n_liquid

    @property
    def n_total(self) -> int:
        return self.kind.size

    @property
    def n_synapses(self) -> int:
        return self.post.size

    def pre(self) -> np.ndarray:
        """Presynaptic neuron of every synapse (int32)."""
        return np.repeat(np.arange(self.n_total, dtype=np.int32), np.diff(self.pre_ptr))

    def liquid_adjacency(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR ``(ptr, targets)`` of the liquid-to-liquid synapses only."""
        ptr = self.pre_ptr[: self.n_liquid + 1]
        return ptr, self.post[: ptr[-1]]


def liquid_network(spec: LiquidSpec, seed: int) -> RunConfig:
    """The liquid's structure as a network description (no dynamics: the
    reservoir steps it with its own constants, :class:`Dynamics`).

    Populations ``exc`` and ``inh`` share one shuffled grid and connect by
    rule ``distance``; ``input`` (spikes given per sample) projects onto both
    with rule ``fixed_probability`` and a ``random_sign`` weight.  Inhibitory
    synapses carry their sign (``lif_discrete`` adds both receptors).
    """
    liquid_pops = {"exc": spec.n_exc, "inh": spec.n_liquid - spec.n_exc}
    populations = {name: {"size": size, "model": "lif_discrete"}
                   for name, size in liquid_pops.items()}
    populations["input"] = {"size": spec.n_inputs, "model": "spike_generator",
                            "params": {"times": []}}
    c = {("exc", "exc"): spec.c_ee, ("exc", "inh"): spec.c_ei, ("inh", "exc"): spec.c_ie,
         ("inh", "inh"): spec.c_ii}
    projections = {
        f"{pre[0]}{post[0]}": {
            "source": pre, "target": post, "receptor": pre,
            "connect": {"rule": "distance", "C": p, "lambda": spec.lam},
            "weight": spec.w_init if pre == "exc" else -spec.w_init}
        for (pre, post), p in c.items()}
    for post in liquid_pops:
        projections[f"input_{post}"] = {
            "source": "input", "target": post, "receptor": "exc",
            "connect": {"rule": "fixed_probability", "p": spec.input_density},
            "weight": {"dist": "random_sign", "magnitude": spec.w_init}}
    return RunConfig.model_validate({
        # The duration is never run: the reservoir drives the liquid per sample.
        "name": "liquid", "seed": seed, "duration": "1 ms", "precision": "float32",
        "populations": populations,
        "grids": {"liquid": {"shape": list(spec.grid), "populations": list(liquid_pops)}},
        "projections": projections})


def build_liquid(spec: LiquidSpec, seed: int) -> Liquid:
    """Build the liquid of :func:`liquid_network` for a run's root ``seed``."""
    cfg = liquid_network(spec, seed)
    net = build_network(cfg)
    syn = net.synapses()
    order = np.lexsort((syn["post"], syn["pre"]))
    n = spec.n_liquid
    kind = np.full(n + spec.n_inputs, INPUT, dtype=np.int8)
    kind[: spec.n_exc] = EXC
    kind[spec.n_exc : n] = INH
    positions = grid_positions(cfg)
    position = np.concatenate([positions["exc"], positions["inh"]])
    return from_synapses(spec, kind, position, syn["pre"][order], syn["post"][order],
                         syn["weight"][order])


def from_synapses(spec: LiquidSpec, kind: np.ndarray, position: np.ndarray, pre: np.ndarray,
                  post: np.ndarray, weight: np.ndarray) -> Liquid:
    """Assemble a :class:`Liquid` from synapse lists sorted by ``(pre, post)``.

    ``kind`` covers liquid then input neurons; ``post`` must be liquid neurons.
    """
    n, n_total = spec.n_liquid, kind.size
    pre = np.asarray(pre, np.int64)
    post = np.asarray(post, np.int32)
    pre_ptr = np.zeros(n_total + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n_total), out=pre_ptr[1:])
    in_syn = np.argsort(post, kind="stable").astype(np.int64)
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(post, minlength=n), out=in_ptr[1:])
    w_lo = np.where(kind == EXC, 0.0, -spec.w_max).astype(np.float32)
    w_hi = np.where(kind == INH, 0.0, spec.w_max).astype(np.float32)
    in_pre = pre[in_syn].astype(np.int32)
    return Liquid(spec, np.asarray(kind, np.int8), position, pre_ptr, post,
                  np.asarray(weight, np.float32), in_ptr, in_syn, in_pre, w_lo, w_hi)
