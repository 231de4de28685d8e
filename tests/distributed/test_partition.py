"""Round-robin partition and exchange intervals of distributed runs (no MPI needed)."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.config import load_config
from neurosim.distributed.simulation import exchange_interval
from neurosim.errors import ConfigError
from neurosim.network import build_network
from neurosim.network.partition import Partition


def test_round_robin_covers_every_neuron_once():
    parts = [Partition(r, 3, 10) for r in range(3)]
    owned = np.concatenate([p.owned() for p in parts])
    assert sorted(owned) == list(range(10))
    assert [p.n_local for p in parts] == [4, 3, 3]
    # A global range's local neurons are a contiguous local range.
    p = parts[1]
    local = p.local_slice(2, 8)
    assert list(p.to_global(np.arange(local.start, local.stop))) == [4, 7]


def test_more_ranks_than_neurons_is_refused():
    with pytest.raises(ConfigError, match="3 ranks for 2 neurons"):
        Partition(0, 3, 2)


def test_ranks_together_hold_the_one_process_synapses():
    cfg = load_config("cuba", overrides=["duration=0.01s"])
    whole = build_network(cfg).synapses()
    shares = [build_network(cfg, ranks=(r, 2)).synapses() for r in range(2)]
    key = lambda s: np.lexsort((s["post"], s["receptor"], s["delay"], s["pre"]))  # noqa: E731
    joined = {k: np.concatenate([s[k] for s in shares]) for k in whole}
    order, ref = key(joined), key(whole)
    for k in ("pre", "post", "receptor", "delay", "weight"):
        np.testing.assert_array_equal(joined[k][order], whole[k][ref])


def test_exchange_interval_defaults_to_the_minimum_delay_and_is_bounded_by_it():
    cfg = load_config("cuba", overrides=["duration=0.01s"] + [
        f"projections.{p}.delay=0.5ms" for p in ("ee", "ei", "ie", "ii")])
    net = build_network(cfg)
    assert exchange_interval(net, None) == 5
    assert exchange_interval(net, 0.2e-3) == 2
    with pytest.raises(ConfigError, match="longer than the network's minimum delay of 5"):
        exchange_interval(net, 0.6e-3)


def test_plastic_networks_exchange_every_step():
    net = build_network(load_config("cuba_stdp", overrides=["duration=0.01s"]))
    assert exchange_interval(net, None) == 1
