"""The torch backend against the cpu (numba) backend: same config, same spikes.

The sparse path adds events in the numba engine's order, so on the CPU it is
bit-identical; the dense path sums each target's inputs in a matrix product
(another order), so it agrees to rounding: spike trains stay identical over
these short runs in float64 and states agree within float tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import config
from neurosim.backends.base import SHARED_STATE
from neurosim.driver.simulation import Simulation
from neurosim.network import build_network

torch = pytest.importorskip("torch")
torch_backend = pytest.importorskip("neurosim.backends.torch_backend")

# Poisson input first, so external events have lower indices than the
# simulated neurons (the delivery order must still be the engine's);
# random weights and delays over several slots; 1500 steps.
NET = """
seed: 5
duration: 150 ms
dt: 0.1 ms
populations:
  src: {size: 30, model: poisson, params: {rate: 40 Hz}}
  exc: {size: 80, model: MODEL, params: PARAMS, initial: INITIAL}
  inh: {size: 20, model: MODEL, params: PARAMS}
projections:
  in: {source: src, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.3}, weight: {dist: uniform, low: WIN_LO, high: WIN_HI}, delay: {dist: uniform, low: 0.1 ms, high: 0.5 ms}}
  ee: {source: exc, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.2}, weight: {dist: uniform, low: WEE_LO, high: WEE_HI}, delay: 0.3 ms}
  ei: {source: exc, target: inh, receptor: exc, connect: {rule: fixed_probability, p: 0.2}, weight: {dist: uniform, low: WEE_LO, high: WEE_HI}, delay: {dist: uniform, low: 0.1 ms, high: 0.4 ms}}
  ie: {source: inh, target: exc, receptor: inh, connect: {rule: fixed_probability, p: 0.3}, weight: {dist: uniform, low: WIE_LO, high: WIE_HI}}
record:
  spikes: all
  traces:
    probe: {population: exc, neurons: [0, 7, 40], variables: VARS}
"""
MEMBRANE = "{v: {dist: uniform, low: -60 mV, high: -50 mV}}"
LIF_EXP = dict(MODEL="lif_exp", INITIAL=MEMBRANE,
               PARAMS="{tau_m: 20 ms, E_L: -49 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 2 ms}",
               WIN_LO="1 mV", WIN_HI="3 mV", WEE_LO="0.5 mV", WEE_HI="1.5 mV",
               WIE_LO="-5 mV", WIE_HI="-3 mV", VARS="[v, I_syn_e, I_syn_i]")
LIF_COND = dict(MODEL="lif_cond_exp", INITIAL=MEMBRANE,
                PARAMS="{E_L: -60 mV, V_th: -50 mV, V_reset: -60 mV, I_e: 0.3 nA, t_ref: 2 ms}",
                WIN_LO="2 nS", WIN_HI="4 nS", WEE_LO="1 nS", WEE_HI="3 nS",
                WIE_LO="4 nS", WIE_HI="8 nS", VARS="[v, g_e, g_i]")
ALIF = dict(LIF_EXP, MODEL="alif", VARS="[v, I_syn_e, I_syn_i, b]",
            PARAMS="{tau_m: 20 ms, E_L: -49 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 2 ms, "
                   "tau_b: 30 ms, beta: 1 mV}")
LIF_DISCRETE = dict(MODEL="lif_discrete", INITIAL="{v: {dist: uniform, low: 0, high: 1}}",
                    PARAMS="{beta: 0.95, alpha: 0.6, bias: 0.06, threshold: 1, t_ref: 0.3 ms}",
                    WIN_LO="0.1", WIN_HI="0.3", WEE_LO="0.05", WEE_HI="0.15",
                    WIE_LO="-0.5", WIE_HI="-0.2", VARS="[v, I_e, I_i]")


def net_config(model: dict, precision: str, **overrides):
    text = NET
    for key, value in model.items():
        text = text.replace(key, value)
    return config(text, precision=precision, **overrides)


def simulate(cfg, backend):
    sim = Simulation(build_network(cfg), cfg, backend=backend)
    return sim, sim.run()


def same_trains(a, b) -> np.ndarray:
    """Per neuron of every population: are its spike times identical?"""
    out = []
    for name, rec in a.spikes.items():
        other = b.spikes[name]
        size = a.populations[name]["size"]
        for i in range(size):
            out.append(np.array_equal(rec.times[rec.indices == i],
                                      other.times[other.indices == i]))
    return np.array(out)


def force(monkeypatch, path: str) -> None:
    """Make the torch backend take ``path`` whatever the network's density."""
    for device in ("cpu", "cuda"):
        monkeypatch.setitem(torch_backend.DENSE_MIN_DENSITY, device,
                            0.0 if path == "dense" else np.inf)


@pytest.fixture
def dense(monkeypatch):
    force(monkeypatch, "dense")


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_sparse_path_is_bit_identical_to_cpu(precision, monkeypatch):
    force(monkeypatch, "sparse")
    cfg = net_config(LIF_EXP, precision)
    cpu_sim, cpu = simulate(cfg, "cpu")
    sim, res = simulate(cfg, "torch")
    assert sim.backend.path == "sparse" and sim.backend.path_calls["sparse"] > 0
    assert sim.backend.path_calls["dense"] == 0
    assert sum(r.indices.size for r in cpu.spikes.values()) > 200
    for name, rec in cpu.spikes.items():
        np.testing.assert_array_equal(res.spikes[name].times, rec.times)
        np.testing.assert_array_equal(res.spikes[name].indices, rec.indices)
    theirs = sim.backend.state()
    for key, value in cpu_sim.backend.state().items():
        if key in SHARED_STATE:
            np.testing.assert_array_equal(theirs[key], value)
    np.testing.assert_array_equal(res.traces["probe"].data, cpu.traces["probe"].data)
    assert sim.backend.delivered_events() == cpu_sim.backend.delivered_events()
    for name, counts in cpu.counters["populations"].items():
        assert res.counters["populations"][name] == counts
    np.testing.assert_array_equal(res.rates["exc"], cpu.rates["exc"])


def test_dense_path_float64_spike_trains_identical_state_within_rounding(dense):
    cfg = net_config(LIF_EXP, "float64")
    cpu_sim, cpu = simulate(cfg, "cpu")
    sim, res = simulate(cfg, "torch")
    assert sim.backend.path == "dense" and sim.backend.path_calls["dense"] > 0
    assert sim.backend.path_calls["sparse"] == 0
    assert same_trains(cpu, res).all()
    state, ref = sim.backend.state(), cpu_sim.backend.state()
    np.testing.assert_allclose(state["v"], ref["v"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(state["syn"], ref["syn"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(state["refractory"], ref["refractory"])
    assert sim.backend.delivered_events() == cpu_sim.backend.delivered_events()


def test_dense_path_float32_within_tolerance(dense):
    cfg = net_config(LIF_EXP, "float32", duration="50 ms")
    cpu_sim, cpu = simulate(cfg, "cpu")
    sim, res = simulate(cfg, "torch")
    assert sim.backend.path == "dense" and sim.backend.path_calls["dense"] > 0
    counts, ref = sim.backend.spike_counts(), cpu_sim.backend.spike_counts()
    # Rounding may move a spike of a neuron sitting at threshold by a step or so.
    assert np.mean(counts == ref) >= 0.9
    assert abs(int(counts.sum()) - int(ref.sum())) <= 0.02 * ref.sum()
    agree = same_trains(cpu, res)[30:]  # simulated neurons (after the 30 sources)
    v, v_ref = sim.backend.state()["v"][30:], cpu_sim.backend.state()["v"][30:]
    np.testing.assert_allclose(v[agree], v_ref[agree], rtol=0, atol=1e-5)


@pytest.mark.parametrize("model", [ALIF, LIF_DISCRETE], ids=["alif", "lif_discrete"])
@pytest.mark.parametrize("path", ["sparse", "dense"])
def test_every_model_runs_alike_on_both_backends(model, path, monkeypatch):
    force(monkeypatch, path)
    cfg = net_config(model, "float64")
    cpu_sim, cpu = simulate(cfg, "cpu")
    sim, res = simulate(cfg, "torch")
    assert sim.backend.path_calls[path] > 0
    assert sum(r.indices.size for r in cpu.spikes.values()) > 200
    assert same_trains(cpu, res).all()
    np.testing.assert_allclose(res.traces["probe"].data, cpu.traces["probe"].data,
                               rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(sim.backend.state()["refractory"],
                                  cpu_sim.backend.state()["refractory"])


@pytest.mark.parametrize("path", ["sparse", "dense"])
def test_conductance_based_network_agrees(path, monkeypatch):
    force(monkeypatch, path)
    cfg = net_config(LIF_COND, "float64")
    cpu_sim, cpu = simulate(cfg, "cpu")
    sim, res = simulate(cfg, "torch")
    assert sim.backend.path == path and sim.backend.path_calls[path] > 0
    assert sum(r.indices.size for r in cpu.spikes.values()) > 200
    # exp() may differ in the last bit between numba and torch: not bitwise.
    assert same_trains(cpu, res).all()
    np.testing.assert_allclose(res.traces["probe"].data, cpu.traces["probe"].data,
                               rtol=1e-9, atol=1e-18)


@pytest.mark.parametrize("path", ["sparse", "dense"])
def test_spike_generator_repeats_step_currents_and_chunks(path, monkeypatch):
    # Neuron 0 of the generator fires twice in one step (its row is walked
    # twice); the current changes at 3 ms (a chunk boundary and a new
    # propagator table); the run is continued by a second call.
    force(monkeypatch, path)
    cfg = config("""
        duration: 6 ms
        precision: float64
        populations:
          gen: {size: 2, model: spike_generator,
                params: {times: [1 ms, 1 ms, 1.5 ms, 2 ms, 4 ms], indices: [0, 0, 1, 0, 1]}}
          n: {size: 3, model: lif_exp, params: {V_th: -50 mV, t_ref: 0.5 ms}}
        projections:
          p: {source: gen, target: n, receptor: exc, connect: {rule: all_to_all},
              weight: {dist: uniform, low: 200 pA, high: 900 pA}, delay: {dist: uniform, low: 0.1 ms, high: 0.6 ms}}
        currents:
          step: {target: n, times: [3 ms], amplitudes: [800 pA]}
        record:
          traces:
            probe: {population: n, neurons: [0, 1, 2], variables: [v, I_syn_e]}
    """)
    runs = {}
    for backend in ("cpu", "torch"):
        sim = Simulation(build_network(cfg), cfg, backend=backend)
        sim.run()
        runs[backend] = (sim, sim.run())  # another 6 ms from where it stopped
    (cpu_sim, cpu), (sim, res) = runs["cpu"], runs["torch"]
    assert sim.backend.path == path
    assert cpu.spikes["n"].indices.size > 3
    np.testing.assert_array_equal(res.spikes["n"].times, cpu.spikes["n"].times)
    np.testing.assert_array_equal(res.spikes["gen"].indices, cpu.spikes["gen"].indices)
    # Event path: same bits; dense path: a product sums in another order.
    tol = 0 if path == "sparse" else 1e-12
    np.testing.assert_allclose(res.traces["probe"].data, cpu.traces["probe"].data,
                               rtol=tol, atol=tol * 1e-3)
    assert sim.backend.delivered_events() == cpu_sim.backend.delivered_events()


def test_hardware_counters_count_what_each_path_computes(monkeypatch):
    cfg = config("""
        duration: 30 ms
        precision: float64
        populations:
          src: {size: 20, model: poisson, params: {rate: 200 Hz}}
          dst: {size: 30, model: lif_exp}
        projections:
          p: {source: src, target: dst, receptor: exc, connect: {rule: fixed_indegree, k: 5}, weight: 0.1 mV, delay: 0.5 ms}
    """)
    sim, res = simulate(cfg, "torch")  # 5 of 20 inputs per neuron (0.25): sparse
    events = res.counters["projections"]["p"]["synaptic_events"]
    hw = res.counters["hardware"]["p"]
    assert sim.backend.path == "sparse" and events > 0
    assert hw["digital_accumulations"] == events
    assert hw["bytes_moved"] == events * (4 + 8 + 8)  # target, weight, gather index
    monkeypatch.setitem(torch_backend.DENSE_MIN_DENSITY, "cpu", 0.2)
    sim, res = simulate(cfg, "torch")  # now dense
    hw = res.counters["hardware"]["p"]
    assert sim.backend.path == "dense"
    # One 20 x 30 product per step (the first 5 steps multiply an empty ring row).
    products = 300
    assert hw["multiply_accumulates"] == products * 20 * 30
    assert hw["digital_accumulations"] == 0
    assert hw["bytes_moved"] == products * 20 * 30 * 8
    assert hw["crossbar_reads"] == hw["adc_conversions"] == hw["dac_conversions"] == 0


def test_density_picks_the_path():
    text = """
        duration: 2 ms
        populations:
          a: {size: 10, model: lif_exp}
          b: {size: 12, model: lif_exp}
        projections:
          p: {source: a, target: b, receptor: exc, connect: {rule: RULE}, weight: 1 mV}
    """
    full = config(text.replace("RULE", "all_to_all"))
    assert Simulation(build_network(full), full, backend="torch").backend.path == "dense"
    part = config(text.replace("RULE", "fixed_probability, p: 0.9"))
    assert Simulation(build_network(part), part, backend="torch").backend.path == "sparse"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("path", ["sparse", "dense"])
def test_cuda_agrees_with_cpu(path, monkeypatch):
    force(monkeypatch, path)
    cfg = net_config(LIF_EXP, "float64", device="cuda")
    cpu_sim, cpu = simulate(net_config(LIF_EXP, "float64"), "cpu")
    sim, res = simulate(cfg, "torch")
    assert sim.backend.v.device.type == "cuda"
    assert sim.backend.path == path and sim.backend.path_calls[path] > 0
    # Atomic adds on the GPU sum in no fixed order: equal to rounding.
    assert same_trains(cpu, res).mean() >= 0.98
    np.testing.assert_allclose(sim.backend.spike_counts(), cpu_sim.backend.spike_counts(),
                               atol=2)
