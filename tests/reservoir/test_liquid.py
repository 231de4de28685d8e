"""3-D liquid connectivity against p = C exp(-(D/lambda)^2), counted pair by pair here,
and the liquid as the network its YAML sections describe."""

from __future__ import annotations

import numpy as np

from conftest import config
from neurosim.network import build_network
from neurosim.reservoir import LiquidSpec, build_liquid
from neurosim.reservoir.liquid import EXC, INH, INPUT

SPEC = LiquidSpec(grid=(10, 10, 10))
C = {(EXC, EXC): 0.2, (EXC, INH): 0.1, (INH, EXC): 0.3, (INH, INH): 0.05}


def test_recurrent_synapse_counts_match_the_formula():
    liquid = build_liquid(SPEC, seed=3)
    n = liquid.n_liquid
    pre = liquid.pre()
    rec = pre < n
    exists = np.zeros((n, n), bool)
    exists[pre[rec], liquid.post[rec]] = True
    assert not exists[np.arange(n), np.arange(n)].any(), "autapse"
    pos = liquid.position
    dist = np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    kind = liquid.kind[:n]
    for (a, b), c in C.items():
        for lo, hi in ((0.5, 1.5), (1.5, 2.5), (2.5, 4.0), (4.0, 20.0)):
            mask = (kind[:, None] == a) & (kind[None, :] == b) & (dist > lo) & (dist <= hi)
            p = c * np.exp(-(dist[mask] / 3.0) ** 2)
            expected, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
            assert abs(exists[mask].sum() - expected) <= 5 * sd + 1, (a, b, lo, hi)


def test_grid_positions_are_a_permutation_and_types_split_80_20():
    liquid = build_liquid(SPEC, seed=1)
    cells = {tuple(p) for p in liquid.position.astype(int)}
    assert len(cells) == 1000 and all(0 <= c < 10 for cell in cells for c in cell)
    assert (liquid.kind == EXC).sum() == 800 and (liquid.kind == INH).sum() == 200
    assert (liquid.kind == INPUT).sum() == 784
    # Excitatory cells are scattered: about 80 % of every grid slab along x.
    for x in range(10):
        frac = (liquid.kind[:1000][liquid.position[:, 0] == x] == EXC).mean()
        assert 0.6 < frac < 0.97


def test_input_synapses_density_sign_and_weights():
    liquid = build_liquid(SPEC, seed=2)
    pre = liquid.pre()
    inp = liquid.kind[pre] == INPUT
    total = 784 * 1000
    assert abs(inp.sum() - 0.15 * total) <= 5 * np.sqrt(total * 0.15 * 0.85)
    w = liquid.weight
    assert np.all(np.abs(w) == 3.0)
    assert np.all(w[liquid.kind[pre] == EXC] > 0) and np.all(w[liquid.kind[pre] == INH] < 0)
    positive = (w[inp] > 0).sum()
    assert abs(positive - inp.sum() / 2) <= 5 * np.sqrt(inp.sum() / 4)
    assert np.all(liquid.post < 1000)


def test_incoming_index_lists_every_synapse_once_by_target():
    liquid = build_liquid(LiquidSpec(grid=(5, 5, 4)), seed=0)
    assert np.array_equal(np.sort(liquid.in_syn), np.arange(liquid.n_synapses))
    for j in (0, 17, 99):
        syn = liquid.in_syn[liquid.in_ptr[j]:liquid.in_ptr[j + 1]]
        assert np.all(liquid.post[syn] == j)
        np.testing.assert_array_equal(liquid.in_pre[liquid.in_ptr[j]:liquid.in_ptr[j + 1]],
                                      liquid.pre()[syn])


def test_same_seed_same_liquid():
    a, b = build_liquid(SPEC, seed=5), build_liquid(SPEC, seed=5)
    np.testing.assert_array_equal(a.post, b.post)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert not np.array_equal(a.post, build_liquid(SPEC, seed=6).post)


def test_the_liquid_is_the_network_its_yaml_sections_describe():
    """The liquid's synapses are those of a plain network config with a
    ``grids:`` section, rule ``distance`` and ``random_sign`` input weights."""
    spec = LiquidSpec(grid=(4, 5, 6), n_inputs=30, input_density=0.2)
    text = """
        seed: 9
        duration: 1 ms
        precision: float32
        populations:
          exc: {size: 96, model: lif_discrete}
          inh: {size: 24, model: lif_discrete}
          input: {size: 30, model: spike_generator, params: {times: []}}
        grids:
          liquid: {shape: [4, 5, 6], populations: [exc, inh]}
        projections:
          ee: {source: exc, target: exc, receptor: exc, weight: 3.0,
               connect: {rule: distance, C: 0.2, lambda: 3.0}}
          ei: {source: exc, target: inh, receptor: exc, weight: 3.0,
               connect: {rule: distance, C: 0.1, lambda: 3.0}}
          ie: {source: inh, target: exc, receptor: inh, weight: -3.0,
               connect: {rule: distance, C: 0.3, lambda: 3.0}}
          ii: {source: inh, target: inh, receptor: inh, weight: -3.0,
               connect: {rule: distance, C: 0.05, lambda: 3.0}}
          input_exc: {source: input, target: exc, receptor: exc,
                      connect: {rule: fixed_probability, p: 0.2},
                      weight: {dist: random_sign, magnitude: 3.0}}
          input_inh: {source: input, target: inh, receptor: exc,
                      connect: {rule: fixed_probability, p: 0.2},
                      weight: {dist: random_sign, magnitude: 3.0}}
        """
    syn = build_network(config(text)).synapses()
    liquid = build_liquid(spec, seed=9)
    got = sorted(zip(liquid.pre(), liquid.post, liquid.weight))
    want = sorted(zip(syn["pre"], syn["post"], syn["weight"]))
    assert got == want and len(got) > 500
