"""A run stopped, saved as ``Simulation.state()`` and continued in a new
Simulation gives the spikes, traces, weights and state of a run never stopped."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import config
from neurosim.driver.simulation import Simulation
from neurosim.errors import ConfigError
from neurosim.network import build_network

NET = """
seed: 11
duration: 100 ms
dt: 0.1 ms
populations:
  src: {size: 30, model: poisson, params: {rate: 60 Hz}}
  gen: {size: 2, model: spike_generator, params: {times: [5 ms, 36.9 ms, 37 ms, 37.1 ms, 80 ms]}}
  exc: {size: 60, model: lif_exp, params: {tau_m: 20 ms, E_L: -49 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 3 ms},
        initial: {v: {dist: uniform, low: -60 mV, high: -50 mV}}}
  adapt: {size: 20, model: alif, params: {E_L: -49 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 2 ms, beta: 0.5 mV}}
projections:
  in: {source: src, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.3}, weight: 1.5 mV,
       delay: {dist: uniform, low: 0.1 ms, high: 0.5 ms}}
  kick: {source: gen, target: adapt, receptor: exc, connect: {rule: all_to_all}, weight: 5 mV, delay: 0.3 ms}
  ee: {source: exc, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.2}, weight: 1 mV,
       delay: 0.2 ms PLASTIC}
  ea: {source: exc, target: adapt, receptor: exc, connect: {rule: fixed_probability, p: 0.3}, weight: 1 mV}
  ae: {source: adapt, target: exc, receptor: inh, connect: {rule: fixed_probability, p: 0.3}, weight: -3 mV}
currents:
  step: {target: exc, times: [20 ms, 60 ms], amplitudes: [30 pA, 0 pA]}
record:
  spikes: all
  traces:
    probe: {population: adapt, neurons: [0, 3], variables: [v, b], interval: 0.5 ms}
"""
STDP = ", plasticity: {rule: stdp, a_plus: 0.05 mV, a_minus: 0.055 mV, w_min: 0 mV, w_max: 2 mV}}"
ASTROCYTE = """astrocytes:
  a: {excite: [exc], inhibit: [adapt], w: 0.001 mV, b: 0.05 mV, tau: 10 ms, initial: 0.05 mV,
      modulates: [ee]}
"""


def net_config(backend, plastic):
    text = NET.replace(" PLASTIC}", STDP if plastic else "}") + (ASTROCYTE if plastic else "")
    return config(text, backend=backend)


CASES = [("cpu", True), ("torch", True), ("crossbar", False)]


@pytest.mark.parametrize("backend, plastic", CASES)
def test_stop_save_and_continue_is_a_run_never_stopped(backend, plastic):
    if backend == "torch":
        pytest.importorskip("torch")
    cfg = net_config(backend, plastic)
    whole_sim = Simulation(build_network(cfg), cfg)
    whole = whole_sim.run()
    first = Simulation(build_network(cfg), cfg)
    first.run(duration=0.037)  # mid-way through delays, refractory periods and a generator burst
    saved = first.state()
    second = Simulation(build_network(cfg), cfg)
    second.restore(saved)
    rest = second.run(duration=0.063)
    assert sum(r.count for r in whole.spikes.values()) > 300
    for name, rec in whole.spikes.items():
        np.testing.assert_array_equal(rest.spikes[name].times, rec.times, err_msg=name)
        np.testing.assert_array_equal(rest.spikes[name].indices, rec.indices, err_msg=name)
    np.testing.assert_array_equal(rest.traces["probe"].data, whole.traces["probe"].data)
    for name in whole.rates:
        np.testing.assert_array_equal(rest.rates[name], whole.rates[name])
    assert rest.counters == whole.counters
    for name, synapses in whole.weights.items():
        np.testing.assert_array_equal(rest.weights[name]["weight"], synapses["weight"])
    for name, values in whole.astrocytes.items():
        np.testing.assert_array_equal(rest.astrocytes[name], values)
    assert bool(whole.weights) == plastic
    for key, value in whole_sim.backend.state().items():
        np.testing.assert_array_equal(second.backend.state()[key], value, err_msg=key)


def test_a_state_is_refused_by_another_backend_or_network():
    cfg = net_config("cpu", False)
    sim = Simulation(build_network(cfg), cfg)
    sim.run(duration=0.01)
    state = sim.state()
    pytest.importorskip("torch")
    other = Simulation(build_network(cfg), cfg, backend="torch")
    with pytest.raises(ConfigError, match="taken on backend 'cpu'.*runs on 'torch'"):
        other.restore(state)
    bigger = config(NET.replace(" PLASTIC}", "}").replace("size: 60", "size: 61"))
    with pytest.raises(ConfigError, match="state: 'v' has shape"):
        Simulation(build_network(bigger), bigger).restore(state)
