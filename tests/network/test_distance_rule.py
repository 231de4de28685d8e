"""``connect: {rule: distance}`` over populations on a ``grids:`` grid."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import config
from neurosim.errors import ConfigError
from neurosim.network import build_network
from neurosim.network.grid import grid_positions

GRID = """
seed: 3
duration: 10 ms
populations:
  exc: {size: 800, model: lif_exp}
  inh: {size: 200, model: lif_exp}
grids:
  liquid: {shape: [10, 10, 10], populations: [exc, inh]}
projections:
  ee: {source: exc, target: exc, receptor: exc, connect: {rule: distance, C: 0.3, lambda: 2.5},
       weight: 1 mV}
  ie: {source: inh, target: exc, receptor: inh, connect: {rule: distance, C: 0.6, lambda: 1.5},
       weight: -1 mV}
"""


def pair_distances(pos_pre, pos_post):
    return np.linalg.norm(pos_pre[:, None, :] - pos_post[None, :, :], axis=-1)


@pytest.mark.parametrize("name, c, lam", [("ee", 0.3, 2.5), ("ie", 0.6, 1.5)])
def test_connection_frequency_follows_c_exp_minus_d_over_lambda_squared(name, c, lam):
    cfg = config(GRID)
    net = build_network(cfg)
    pos = grid_positions(cfg)
    source, target = cfg.projections[name].source, cfg.projections[name].target
    dist = pair_distances(pos[source], pos[target])
    p = c * np.exp(-(dist / lam) ** 2)
    if source == target:
        np.fill_diagonal(p, 0.0)  # no autapses by default
    syn = net.synapses(name)
    made = np.zeros(dist.shape, dtype=bool)
    made[syn["pre"], syn["post"]] = True
    assert made.sum() == syn["pre"].size, "no pair twice"
    # The total within 4 standard deviations of its expectation ...
    assert abs(made.sum() - p.sum()) < 4 * np.sqrt(np.sum(p * (1 - p)))
    # ... and so is every distance shell's count.
    shells = np.round(dist ** 2).astype(int)
    for shell in np.unique(shells[p > 0.01]):
        inside = shells == shell
        expected, spread = p[inside].sum(), np.sqrt(np.sum(p[inside] * (1 - p[inside])))
        assert abs(made[inside].sum() - expected) < 4 * spread + 1, f"shell d^2={shell}"


def test_grid_points_are_used_once_mixed_and_seeded():
    cfg = config(GRID)
    pos = grid_positions(cfg)
    every = np.concatenate([pos["exc"], pos["inh"]])
    assert np.unique(every, axis=0).shape == (1000, 3)
    assert pos["inh"][:, 0].std() > 2, "inhibitory cells spread over the grid"
    np.testing.assert_array_equal(grid_positions(config(GRID))["inh"], pos["inh"])
    other = grid_positions(config(GRID.replace("seed: 3", "seed: 4")))
    assert not np.array_equal(other["inh"], pos["inh"])
    ordered = grid_positions(config(GRID.replace("populations: [exc, inh]}",
                                                 "populations: [exc, inh], shuffle: false}")))
    np.testing.assert_array_equal(ordered["exc"][:3], [[0, 0, 0], [0, 0, 1], [0, 0, 2]])


def test_same_seed_same_synapses():
    a, b = build_network(config(GRID)), build_network(config(GRID))
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.indptr, b.indptr)


@pytest.mark.parametrize("change, message", [
    (("shape: [10, 10, 10]", "shape: [10, 10, 9]"), "900 points, but the populations hold 1000"),
    (("populations: [exc, inh]}", "populations: [exc]}"), "rule 'distance' needs source and target on one grid"),
    (("populations: [exc, inh]}", "populations: [exc, exc, inh]}"), "already on grid"),
    (("lambda: 2.5", "lambda: 0"), "lambda"),
    (("C: 0.3", "C: 1.5"), "C"),
])
def test_bad_grids_are_refused_by_key(change, message):
    with pytest.raises(ConfigError, match=message):
        config(GRID.replace(*change))
