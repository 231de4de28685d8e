"""Connectivity rules and distributions against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conftest import config
from neurosim.network import build_network

BASE = """
seed: 11
duration: 10 ms
populations:
  a: {size: %(na)d, model: lif_exp}
  b: {size: %(nb)d, model: lif_exp}
projections:
  p: {source: a, target: %(target)s, receptor: exc, connect: %(connect)s, weight: %(weight)s,
      delay: %(delay)s}
"""


def network(connect, na=400, nb=300, target="b", weight="1 pA", delay="0.1 ms", seed=None):
    text = BASE % {"na": na, "nb": nb, "target": target, "connect": connect,
                   "weight": weight, "delay": delay}
    cfg = config(text, **({"seed": seed} if seed is not None else {}))
    return build_network(cfg)


def test_fixed_probability_counts_and_degrees_are_binomial():
    p, na, nb = 0.05, 400, 300
    syn = network(f"{{rule: fixed_probability, p: {p}}}").synapses("p")
    n = syn["pre"].size
    mean, sd = p * na * nb, np.sqrt(p * (1 - p) * na * nb)
    assert abs(n - mean) < 4 * sd
    outdeg = np.bincount(syn["pre"], minlength=na)
    # Out-degrees are Binomial(nb, p): compare mean and variance.
    assert abs(outdeg.mean() - nb * p) < 4 * np.sqrt(nb * p * (1 - p) / na)
    assert outdeg.var() == pytest.approx(nb * p * (1 - p), rel=0.25)
    # Bernoulli per pair: never the same pair twice.
    pairs = syn["pre"] * nb + syn["post"]
    assert np.unique(pairs).size == n
    # Targets uniform over the target population (chi-square).
    counts = np.bincount(syn["post"], minlength=nb)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_fixed_probability_without_autapses_never_connects_a_neuron_to_itself():
    syn = network("{rule: fixed_probability, p: 0.5, autapses: false}", target="a").synapses("p")
    assert not np.any(syn["pre"] == syn["post"])
    with_self = network("{rule: fixed_probability, p: 0.5}", target="a").synapses("p")
    assert np.any(with_self["pre"] == with_self["post"])


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_indegree_gives_every_target_exactly_k_uniform_sources(multapses):
    k, na = 30, 400
    syn = network(f"{{rule: fixed_indegree, k: {k}, multapses: {str(multapses).lower()},"
                  " autapses: false}", target="a").synapses("p")
    assert np.all(np.bincount(syn["post"], minlength=na) == k)
    assert not np.any(syn["pre"] == syn["post"])
    if not multapses:
        assert np.unique(syn["pre"] * na + syn["post"]).size == syn["pre"].size
    assert stats.chisquare(np.bincount(syn["pre"], minlength=na)).pvalue > 1e-3


def test_fixed_outdegree_gives_every_source_exactly_k_targets():
    syn = network("{rule: fixed_outdegree, k: 25, multapses: false}").synapses("p")
    assert np.all(np.bincount(syn["pre"], minlength=400) == 25)
    assert np.unique(syn["pre"] * 300 + syn["post"]).size == syn["pre"].size
    assert stats.chisquare(np.bincount(syn["post"], minlength=300)).pvalue > 1e-3


def test_all_to_all_and_one_to_one():
    syn = network("{rule: all_to_all, autapses: false}", na=50, target="a").synapses("p")
    assert syn["pre"].size == 50 * 49
    syn = network("{rule: one_to_one}", na=60, nb=60).synapses("p")
    np.testing.assert_array_equal(np.sort(syn["pre"]), np.arange(60))
    np.testing.assert_array_equal(syn["pre"], syn["post"])


def test_explicit_arrays_are_kept_exactly():
    net = network("{rule: arrays, pre: [0, 3, 3, 7], post: [1, 2, 0, 2], "
                  "weight: [1 pA, 2 pA, 3 pA, 4 pA], delay: [0.1 ms, 0.3 ms, 0.2 ms, 0.1 ms]}")
    syn = net.synapses("p")
    to_v = 10e-3 / 250e-12  # lif_exp default tau_m / C_m: pA -> internal volts
    got = sorted(zip(syn["pre"], syn["post"], np.round(syn["weight"] / to_v * 1e12, 3),
                     syn["delay"]))
    assert got == [(0, 1, 1.0, 1), (3, 0, 3.0, 2), (3, 2, 2.0, 3), (7, 2, 4.0, 1)]


@pytest.mark.parametrize("weight,check", [
    ("{dist: normal, mean: 10 pA, std: 2 pA, clip: [0 pA, null]}", lambda w: (w.mean(), w.std(), 10, 2)),
    ("{dist: uniform, low: 5 pA, high: 15 pA}", lambda w: (w.mean(), w.std(), 10, 10 / 12 ** 0.5)),
    ("{dist: lognormal, median: 10 pA, sigma: 0.5}",
     lambda w: (np.median(w), np.log(w).std(), 10, 0.5)),
])
def test_weight_distributions_match_their_definitions(weight, check):
    syn = network("{rule: fixed_indegree, k: 100}", weight=weight).synapses("p")
    w = syn["weight"].astype(np.float64) / (10e-3 / 250e-12) * 1e12  # back to pA
    got_mean, got_spread, mean, spread = check(w)
    n = w.size
    assert abs(got_mean - mean) < 5 * spread / np.sqrt(n) + 1e-3 * mean
    assert got_spread == pytest.approx(spread, rel=0.03)


def test_random_sign_weights_have_one_magnitude_and_even_signs():
    cfg = config("""
        seed: 4
        duration: 1 ms
        populations:
          a: {size: 500, model: lif_discrete}
          b: {size: 400, model: lif_discrete}
        projections:
          p: {source: a, target: b, receptor: exc, connect: {rule: fixed_indegree, k: 50},
              weight: {dist: random_sign, magnitude: 2.5}}
        """)
    w = build_network(cfg).synapses("p")["weight"]
    assert set(np.unique(w)) == {-2.5, 2.5}
    assert abs((w > 0).sum() - w.size / 2) < 5 * np.sqrt(w.size / 4)


def test_clipped_distributions_respect_their_bounds():
    syn = network("{rule: fixed_indegree, k: 100}",
                  weight="{dist: normal, mean: 10 pA, std: 8 pA, clip: [0 pA, 15 pA]}").synapses("p")
    w = syn["weight"] / (10e-3 / 250e-12) * 1e12
    assert w.min() >= 0 and w.max() <= 15 + 1e-4
    assert np.mean(w == 0) == pytest.approx(stats.norm.cdf(-10 / 8), abs=0.01)


def test_random_delays_are_whole_steps_within_bounds():
    net = network("{rule: fixed_indegree, k: 50}", delay="{dist: uniform, low: 0.1 ms, high: 2 ms}")
    d = net.synapses("p")["delay"]
    assert d.min() >= 1 and d.max() <= 20
    assert d.mean() == pytest.approx(10.5, abs=0.2)
    assert net.n_slots == d.max() - d.min() + 1


W = "{dist: normal, mean: 5 pA, std: 1 pA, clip: [0 pA, null]}"


def test_construction_is_deterministic_for_a_seed_and_changes_with_it():
    a = network("{rule: fixed_probability, p: 0.1}", weight=W)
    b = network("{rule: fixed_probability, p: 0.1}", weight=W)
    c = network("{rule: fixed_probability, p: 0.1}", weight=W,
                seed=12)
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.targets.size != c.targets.size or not np.array_equal(a.targets, c.targets)


def test_rows_are_sorted_by_target_and_use_eight_bytes_per_synapse():
    net = network("{rule: fixed_probability, p: 0.2}")
    for r in range(net.indptr.size - 1):
        row = net.targets[net.indptr[r]:net.indptr[r + 1]]
        assert np.all(np.diff(row) >= 0)
    assert (net.targets.itemsize + net.weights.itemsize) == 8


def test_tiny_connection_probability_terminates_with_few_synapses():
    syn = network("{rule: fixed_probability, p: 1.0e-19}").synapses("p")
    assert syn["pre"].size == 0


def test_constant_delay_respects_its_clip():
    net = network("{rule: one_to_one}", na=10, nb=10,
                  delay="{dist: constant, value: 5 ms, clip: [null, 2 ms]}")
    assert set(net.synapses("p")["delay"]) == {20}
