"""Spike delivery: exact delays, delivery order, external inputs, counters."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import config, run

TAU_E = 2e-3


def test_each_delay_arrives_exactly_that_many_steps_after_the_spike():
    # Three generator neurons fire together at 1 ms into one neuron through
    # synapses of 0.1, 0.5 and 1.2 ms delay with weights 1, 10 and 100 pA.
    text = """
    seed: 0
    dt: 0.1 ms
    duration: 5 ms
    precision: float64
    populations:
      src: {size: 3, model: spike_generator, params: {times: [1 ms, 1 ms, 1 ms], indices: [0, 1, 2]}}
      n: {size: 1, model: lif_exp, params: {V_th: 0 mV, tau_syn_e: 2 ms}}
    projections:
      p:
        source: src
        target: n
        receptor: exc
        weight: 1 pA
        connect: {rule: arrays, pre: [0, 1, 2], post: [0, 0, 0], weight: [1 pA, 10 pA, 100 pA],
                  delay: [0.1 ms, 0.5 ms, 1.2 ms]}
    record:
      traces:
        n: {population: n, neurons: [0], variables: [I_syn_e]}
    """
    _, res = run(config(text))
    tr = res.traces["n"]
    arrivals = np.array([1.1e-3, 1.5e-3, 2.2e-3])
    weights = np.array([1e-12, 10e-12, 100e-12])
    lag = tr.times[:, None] - arrivals[None, :]
    expected = np.where(lag >= -1e-12, weights * np.exp(-np.clip(lag, 0, None) / TAU_E), 0).sum(1)
    np.testing.assert_allclose(tr.data[:, 0, 0], expected, rtol=1e-9, atol=1e-18)


POISSON = """
seed: 4
dt: 0.1 ms
duration: 400 ms
populations:
  noise: {size: 200, model: poisson, params: {rate: 30 Hz}}
  n: {size: 1, model: lif_exp}
"""


def test_poisson_source_has_its_rate_and_exponential_intervals():
    text = POISSON.replace("size: 200", "size: 500").replace("30 Hz", "20 Hz")
    _, res = run(config(text, seed=5, duration="5s"))
    count = res.counters["populations"]["noise"]["spikes"]
    expected = 500 * 5 * 20
    assert abs(count - expected) < 4 * np.sqrt(expected)
    sp = res.spikes["noise"]
    isi = np.concatenate([np.diff(sp.times[sp.indices == i]) for i in range(50)])
    assert isi.std() / isi.mean() == pytest.approx(1.0, abs=0.05)
    assert res.rates["noise"].mean() == pytest.approx(20, rel=0.02)


def test_poisson_drive_counts_synaptic_events_per_projection():
    text = """
    seed: 2
    duration: 200 ms
    populations:
      noise: {size: 100, model: poisson, params: {rate: 50 Hz}}
      n: {size: 20, model: lif_exp}
    projections:
      drive: {source: noise, target: n, receptor: exc, connect: {rule: fixed_outdegree, k: 7},
              weight: 1 pA}
    """
    net, res = run(config(text))
    spikes = res.counters["populations"]["noise"]["spikes"]
    proj = res.counters["projections"]["drive"]
    assert proj["synapses"] == 700
    assert proj["synaptic_events"] == 7 * spikes
    assert res.counters["populations"]["n"]["neuron_updates"] == 20 * 2000
    # Everything emitted before the last step has been delivered.
    assert res.metadata["delivered_events"] <= proj["synaptic_events"]
    last = res.spikes["noise"].times > 0.2 - 0.5e-4  # emitted in the final step
    assert res.metadata["delivered_events"] == 7 * (spikes - last.sum())



def test_poisson_trains_do_not_depend_on_chunking_or_other_inputs():
    _, whole = run(config(POISSON))
    cfg = config(POISSON)
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    sim = Simulation(build_network(cfg), cfg)
    sim.run(0.13)
    halves = sim.run(0.27)
    assert halves.duration == pytest.approx(0.4)
    np.testing.assert_array_equal(whole.spikes["noise"].times, halves.spikes["noise"].times)
    np.testing.assert_array_equal(whole.spikes["noise"].indices, halves.spikes["noise"].indices)
    # A step current splits chunks; another Poisson population draws too.
    extra = POISSON + ("  other: {size: 50, model: poisson, params: {rate: 80 Hz}}\n"
                       "currents:\n  c: {target: n, times: [17.3 ms], amplitudes: [10 pA]}\n")
    _, more = run(config(extra))
    np.testing.assert_array_equal(whole.spikes["noise"].indices, more.spikes["noise"].indices)


def test_poisson_rate_is_exact_even_above_one_spike_per_step():
    text = POISSON.replace("30 Hz", "8000 Hz").replace("400 ms", "100 ms")
    _, res = run(config(text))
    expected = 200 * 0.1 * 8000
    assert abs(res.counters["populations"]["noise"]["spikes"] - expected) < 4 * np.sqrt(expected)


def test_duration_shorter_than_a_step_is_refused():
    from neurosim.driver.simulation import Simulation
    from neurosim.errors import ConfigError
    from neurosim.network import build_network

    cfg = config(POISSON)
    with pytest.raises(ConfigError, match="duration"):
        Simulation(build_network(cfg), cfg).run(0.00001)


def test_silent_network_state_flushes_subnormals_and_restores_fp_mode():
    # A synaptic current left to decay for seconds passes through the
    # subnormal range; the kernels flush it to zero, and leave the caller's
    # floating-point mode as they found it.
    from neurosim.engine.fpu import get_fp_mode
    from numba import njit

    mode = njit(lambda: get_fp_mode())
    before = mode()
    text = """
    seed: 0
    duration: 3 s
    populations:
      src: {size: 1, model: spike_generator, params: {times: [1 ms]}}
      n: {size: 1, model: lif_exp, params: {V_th: 0 mV, tau_syn_e: 2 ms}}
    projections:
      p: {source: src, target: n, receptor: exc, connect: {rule: all_to_all}, weight: 1 pA}
    record:
      traces:
        n: {population: n, neurons: [0], variables: [I_syn_e], interval: 100 ms}
    """
    _, res = run(config(text))
    assert res.traces["n"].data[-1, 0, 0] == 0.0
    assert mode() == before
