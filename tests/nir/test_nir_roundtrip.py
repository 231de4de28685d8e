"""neurosim -> NIR -> neurosim: the same network, the same spikes, bit for bit."""

from __future__ import annotations

import numpy as np
import nir
import pytest

from neurosim.config import validate_config
from neurosim.driver.simulation import Simulation
from neurosim.network import build_network
from neurosim.nir.export import network_graph
from neurosim.nir.files import read_graph, write_graph
from neurosim.nir.importer import import_graph

from nir_helpers import run_imported

STEPS, N_IN = 60, 8


def _network(integrate: dict) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(1)
    spikes = rng.random((STEPS, N_IN)) < 0.3
    t, i = np.nonzero(spikes)
    raw = {
        "name": "roundtrip", "duration": f"{STEPS} ms", "dt": "1 ms", "seed": 3,
        "populations": {
            "inp": {"size": N_IN, "model": "spike_generator",
                    "params": {"times": [f"{k + 1} ms" for k in t.tolist()],
                               "indices": i.tolist()}},
            "hid": {"size": 6, "model": "lif_discrete",
                    "params": {"beta": 0.9, "threshold": 1.0, "reset": "subtract"}},
            "out": {"size": 3, "model": "lif_discrete", "params": integrate},
        },
        "projections": {
            "ih": {"source": "inp", "target": "hid", "receptor": "exc",
                   "connect": {"rule": "all_to_all"},
                   "weight": {"dist": "uniform", "low": -0.3, "high": 0.9}},
            # A recurrent projection with a delay, per-synapse delays, and a cycle.
            "hh": {"source": "hid", "target": "hid", "receptor": "inh", "delay": "2 ms",
                   "connect": {"rule": "fixed_probability", "p": 0.5, "multapses": False},
                   "weight": -0.2},
            "ho": {"source": "hid", "target": "out", "receptor": "exc",
                   "connect": {"rule": "all_to_all"},
                   "weight": {"dist": "uniform", "low": 0.0, "high": 0.8},
                   "delay": {"dist": "uniform", "low": "1 ms", "high": "3 ms"}},
            "oh": {"source": "out", "target": "hid", "receptor": "exc",
                   "connect": {"rule": "all_to_all"}, "weight": 0.3},
        },
    }
    return raw, spikes


@pytest.mark.parametrize("out_params", [
    {"beta": 0.8, "alpha": 0.5, "bias": 0.05, "threshold": 0.7, "reset": "zero", "t_ref": "2 ms"},
    {"beta": 0.95, "gain": 0.7, "bias": -0.01, "threshold": 0.4},
    {"beta": 1.0, "gain": 0.3, "threshold": 0.9},
], ids=["CubaLIF", "LIF", "IF"])
def test_round_trip_gives_identical_spikes(tmp_path, out_params):
    raw, spikes = _network(out_params)
    cfg = validate_config(raw)
    net = build_network(cfg)
    before = Simulation(net, cfg).run(progress=False)
    path = write_graph(network_graph(net, name=cfg.name), tmp_path / "net.nir")
    graph = read_graph(path)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert kinds["inp"] == "Input"
    assert kinds["out"] == {"CubaLIF": "CubaLIF", "LIF": "LIF", "IF": "IF"}[
        "CubaLIF" if "alpha" in out_params else "IF" if out_params["beta"] == 1 else "LIF"]
    assert {"ho.d1", "ho.d2", "ho.d3", "hid.output", "out.output"} <= set(kinds)
    imported = import_graph(graph, inputs={"inp": spikes}, steps=STEPS)
    assert set(imported.shifts.values()) == {0}  # the engine's own delays come back
    _, after = run_imported(imported)
    for pop in ("hid", "out"):
        assert before.spikes[pop].count > 5
        np.testing.assert_array_equal(before.spikes[pop].times, after.spikes[pop].times)
        np.testing.assert_array_equal(before.spikes[pop].indices, after.spikes[pop].indices)


def test_export_maps_lif_discrete_by_forward_euler():
    raw, _ = _network({"beta": 0.8, "alpha": 0.5, "gain": 2.0, "bias": 0.1, "threshold": 0.7})
    net = build_network(validate_config(raw))
    out = network_graph(net).nodes["out"]
    dt = 1e-3
    np.testing.assert_allclose(1 - dt / out.tau_mem, 0.8, rtol=1e-15)
    np.testing.assert_allclose(1 - dt / out.tau_syn, 0.5, rtol=1e-15)
    np.testing.assert_allclose(out.r * dt / out.tau_mem, 2.0, rtol=1e-15)
    np.testing.assert_allclose(out.v_leak * dt / out.tau_mem, 0.1, rtol=1e-15)
    np.testing.assert_allclose(out.w_in * dt / out.tau_syn, 1.0, rtol=1e-15)
    np.testing.assert_array_equal(out.v_threshold, 0.7)


def test_lif_exp_exports_as_cuba_lif():
    raw = {"duration": "10 ms", "dt": "0.1 ms", "populations": {
        "src": {"size": 2, "model": "poisson", "params": {"rate": "100 Hz"}},
        "n": {"size": 3, "model": "lif_exp", "params": {"tau_m": "20 ms", "C_m": "200 pF",
                                                       "I_e": "10 pA", "tau_syn_e": "5 ms"}}},
        "projections": {"p": {"source": "src", "target": "n", "receptor": "exc",
                              "connect": {"rule": "all_to_all"}, "weight": "50 pA"}}}
    graph = network_graph(build_network(validate_config(raw)))
    node = graph.nodes["n"]
    assert isinstance(node, nir.CubaLIF)
    np.testing.assert_allclose(node.r, 0.02 / 200e-12)
    np.testing.assert_allclose(node.v_leak, -70e-3 + 1e8 * 10e-12)
    np.testing.assert_allclose(node.tau_syn, 5e-3)
    np.testing.assert_allclose(node.metadata["neurosim_t_ref"], 2e-3)
    # A spike raises the current by its weight: (dt / tau_syn) w_in W = 50 pA.
    weight = graph.nodes["p"].weight
    np.testing.assert_allclose(1e-4 / node.tau_syn[0] * node.w_in[0] * weight, 50e-12, rtol=1e-6)
