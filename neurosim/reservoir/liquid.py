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

The synapses are stored once, in CSR order by presynaptic neuron (``pre_ptr``,
``post``, ``weight``), with a CSC index over the same synapse ids
(``in_ptr``, ``in_syn``), so a spike touches only its own outgoing synapses
(delivery, depression) and its own incoming ones (potentiation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXC, INH, INPUT = 0, 1, 2

# Pairs per block when drawing the recurrent synapses: bounds the temporary
# distance matrix (8000 x 512 float64 = 32 MB) for large grids.
_BLOCK_ROWS = 512


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


def connection_probability(spec: LiquidSpec, kind_pre: np.ndarray, kind_post: np.ndarray,
                           distance: np.ndarray) -> np.ndarray:
    """``C[type_pre, type_post] * exp(-(D / lambda)^2)`` elementwise."""
    c = np.array([[spec.c_ee, spec.c_ei], [spec.c_ie, spec.c_ii]])
    return c[kind_pre, kind_post] * np.exp(-((distance / spec.lam) ** 2))


def build_liquid(spec: LiquidSpec, seed: int | np.random.SeedSequence) -> Liquid:
    """Draw a liquid from the seeded generator tree (positions, recurrent, input)."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    rng_pos, rng_rec, rng_inp = (np.random.default_rng(s) for s in root.spawn(3))
    n, n_in = spec.n_liquid, spec.n_inputs
    kind = np.full(n + n_in, INPUT, dtype=np.int8)
    kind[: spec.n_exc] = EXC
    kind[spec.n_exc : n] = INH
    grid = np.stack(np.meshgrid(*(np.arange(g) for g in spec.grid), indexing="ij"), -1)
    position = grid.reshape(-1, 3)[rng_pos.permutation(n)].astype(np.float64)

    pres, posts = [], []
    for start in range(0, n, _BLOCK_ROWS):
        rows = np.arange(start, min(start + _BLOCK_ROWS, n))
        dist = np.linalg.norm(position[rows, None, :] - position[None, :, :], axis=-1)
        p = connection_probability(spec, kind[rows, None], kind[None, :n], dist)
        p[np.arange(rows.size), rows] = 0.0  # no autapses
        i, j = np.nonzero(rng_rec.random(p.shape) < p)
        pres.append(rows[i])
        posts.append(j)
    inp_mask = rng_inp.random((n_in, n)) < spec.input_density
    i, j = np.nonzero(inp_mask)
    pres.append(n + i)
    posts.append(j)
    pre = np.concatenate(pres).astype(np.int64)
    post = np.concatenate(posts).astype(np.int32)  # already sorted by (pre, post)

    sign = np.where(kind[pre] == INH, -1.0, 1.0)
    is_inp = kind[pre] == INPUT
    sign[is_inp] = np.where(rng_inp.random(int(is_inp.sum())) < 0.5, -1.0, 1.0)
    weight = (sign * spec.w_init).astype(np.float32)

    return from_synapses(spec, kind, position, pre, post, weight)


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
