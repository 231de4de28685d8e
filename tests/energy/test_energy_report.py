"""Counters -> energy: exact arithmetic, known spike counts, and published estimation methods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import config, run

from neurosim.energy import add_counters, estimate, estimate_result, load_profile
from neurosim.energy.profile import parse_profile


def _profile(**extra):
    def c(value):
        return {"value": value, "basis": "estimate", "source": "hand-made test profile"}

    raw = {"name": "toy", "title": "toy",
           "energy": {"synaptic_events": c("2 pJ"), "neuron_updates": c("5 pJ"),
                      "spikes": c("1 pJ"), "bytes_moved": c("0.5 pJ"),
                      "adc_conversions": c("3 pJ"), "dac_conversions": c("0.25 pJ")},
           "time": {"synaptic_events": c("1 ns"), "neuron_updates": c("2 ns")},
           "parallel_units": c(4), "step_overhead": c("1 us"), "static_power": c("0.5 W")}
    raw.update(extra)
    return parse_profile(raw, "'toy'")


COUNTERS = {
    "populations": {"a": {"neurons": 10, "neuron_updates": 1000, "spikes": 30},
                    "b": {"neurons": 5, "neuron_updates": 500, "spikes": 7}},
    "projections": {"ab": {"synapses": 50, "synaptic_events": 150}},
    "hardware": {"ab": {"bytes_moved": 1200, "adc_conversions": 40, "dac_conversions": 8,
                        "digital_accumulations": 150}},
}


def test_hand_computed_case_is_exact():
    r = estimate(COUNTERS, _profile(), duration=0.01, dt=1e-4, samples=2)
    dynamic = {"synaptic operations": 150 * 2e-12, "neuron updates": 1500 * 5e-12,
               "spike routing": 37 * 1e-12, "memory traffic": 1200 * 0.5e-12,
               "ADC/DAC": 40 * 3e-12 + 8 * 0.25e-12}
    latency = (150 * 1e-9 + 1500 * 2e-9) / 4 + 100 * 1e-6
    assert r.latency == pytest.approx(latency, rel=1e-15)
    assert r.static_energy == pytest.approx(0.5 * latency, rel=1e-15)
    for category, energy in dynamic.items():
        assert r.breakdown[category] == pytest.approx(energy, rel=1e-15)
    assert r.breakdown["crossbar reads"] == 0.0
    assert r.total == pytest.approx(math.fsum([*dynamic.values(), 0.5 * latency]), rel=1e-15)
    assert r.energy_per_sample == r.total / 2
    assert r.energy_per_second == r.total / 0.01
    assert r.average_power == r.total / r.latency
    # digital_accumulations has no price and is not declared included: reported, not guessed.
    assert any(item.startswith("digital_accumulations: 150 counted") for item in r.not_modelled)
    assert r.to_dict()["breakdown.adc_dac_J"] == r.breakdown["ADC/DAC"]


def test_zero_activity_leaves_only_static_energy():
    zero = {section: {name: dict.fromkeys(row, 0) for name, row in rows.items()}
            for section, rows in COUNTERS.items()}
    r = estimate(zero, _profile(), duration=0.01, dt=1e-4)
    assert r.latency == pytest.approx(100 * 1e-6)
    assert r.total == r.static_energy == pytest.approx(0.5 * 100e-6)
    assert all(v == 0 for k, v in r.breakdown.items() if k != "static")


def test_real_time_floor_and_required_counters():
    r = estimate(COUNTERS, _profile(real_time=True), duration=0.5, dt=1e-4)
    assert r.latency == 0.5  # the chip paces itself: no faster than simulated time
    crossbar = _profile(requires=["adc_conversions"])
    without = {**COUNTERS, "hardware": {"ab": {"digital_accumulations": 150}}}
    r = estimate(without, crossbar, duration=0.01, dt=1e-4)
    assert r.breakdown["synaptic operations"] == 0  # not priced without crossbar counts
    assert any("150 synaptic events without adc_conversions" in i for i in r.not_modelled)


def test_add_counters_sums_work_and_keeps_sizes():
    total = add_counters(COUNTERS, COUNTERS)
    assert total["populations"]["a"] == {"neurons": 10, "neuron_updates": 2000, "spikes": 60}
    assert total["projections"]["ab"]["synapses"] == 50
    assert total["hardware"]["ab"]["adc_conversions"] == 80
    two = estimate(total, _profile(), duration=0.02, dt=1e-4, samples=2)
    one = estimate(COUNTERS, _profile(), duration=0.01, dt=1e-4)
    assert two.breakdown["neuron updates"] == pytest.approx(2 * one.breakdown["neuron updates"])


def test_known_spike_counts_into_known_fan_out():
    """Spike generator with 5 known spikes, all-to-all onto 7 neurons: 35 events, hand-priced on Loihi."""
    cfg = config("""
        duration: 10 ms
        populations:
          src: {size: 3, model: spike_generator, params: {times: [1 ms, 2 ms, 2 ms, 4 ms, 6 ms], indices: [0, 1, 2, 0, 2]}}
          dst: {size: 7, model: lif_exp}
        projections:
          p: {source: src, target: dst, receptor: exc, connect: {rule: all_to_all}, weight: 0.1 mV}
    """)
    _, result = run(cfg)
    steps = 100
    assert result.counters["populations"]["src"]["spikes"] == 5
    assert result.counters["projections"]["p"]["synaptic_events"] == 5 * 7
    assert result.counters["populations"]["dst"]["neuron_updates"] == 7 * steps
    assert result.counters["populations"]["dst"]["spikes"] == 0  # 0.1 mV cannot reach threshold
    r = estimate_result(result, "loihi")
    assert r.total == pytest.approx(35 * 23.6e-12 + 700 * 81e-12 + 5 * 1.7e-12, rel=1e-12)


FEED_FORWARD = """
    duration: 200 ms
    populations:
      inp: {size: 60, model: poisson, params: {rate: 80 Hz}}
      hid: {size: 30, model: lif_exp, params: {tau_m: 10 ms}}
      out: {size: 10, model: lif_exp, params: {tau_m: 10 ms}}
    projections:
      ih: {source: inp, target: hid, receptor: exc, connect: {rule: all_to_all}, weight: 1.5 mV}
      ho: {source: hid, target: out, receptor: exc, connect: {rule: all_to_all}, weight: 3 mV}
"""


@pytest.fixture(scope="module")
def feed_forward():
    _, result = run(config(FEED_FORWARD))
    assert result.counters["populations"]["hid"]["spikes"] > 0  # the formula is not trivial
    return result


def test_keras_spiking_formula(feed_forward):
    """keras-spiking ModelEnergy.layer_energy (nengo/keras-spiking, keras_spiking/model_energy.py):
    energy = e_op x connections x rate x dt x steps + e_neuron x neurons x steps,
    summed over layers; rate = the layer's mean input rate (Hz). Priced with its
    'spinnaker2' device (450 pJ, 2.19 nJ), which is our spinnaker2 profile."""
    r, dt = feed_forward, feed_forward.dt
    steps = round(r.duration / dt)
    e_op, e_neuron = 450e-12, 2.19e-9
    layers = [("ih", "inp", "hid"), ("ho", "hid", "out")]
    formula = sum(e_op * r.counters["projections"][p]["synapses"] * r.mean_rate(pre) * dt * steps
                  + e_neuron * r.populations[post]["size"] * steps for p, pre, post in layers)
    counted = estimate_result(r, "spinnaker2").total
    assert counted == pytest.approx(formula, rel=0.01)


def test_hybrid_ann_snn_power_method(feed_forward):
    """Aydin et al., 'A Hybrid ANN-SNN Architecture for Low-Power and Low-Latency Visual
    Perception' (arXiv:2303.14176): SNN power = sum over layers of firing rate x
    operations x 0.38 pJ per time step (rate as spikes per neuron per step, operations =
    the layer's synapses), divided by the step length to give watts."""
    r, dt = feed_forward, feed_forward.dt
    per_step = sum(r.mean_rate(pre) * dt * r.counters["projections"][p]["synapses"] * 0.38e-12
                   for p, pre in (("ih", "inp"), ("ho", "hid")))
    profile = parse_profile({"name": "hybrid", "title": "0.38 pJ per synaptic op",
                             "energy": {"synaptic_events": {
                                 "value": "0.38 pJ", "basis": "estimate",
                                 "source": "Aydin et al. arXiv:2303.14176 energy method"}}},
                            "'hybrid'")
    counted = estimate_result(r, profile)
    assert counted.energy_per_second == pytest.approx(per_step / dt, rel=0.01)


def test_profiles_differ_only_by_prices(feed_forward):
    """The same counters priced by two profiles: the ratio of synaptic energy is the ratio of prices."""
    loihi = estimate_result(feed_forward, "loihi")
    truenorth = estimate_result(feed_forward, load_profile("truenorth"))
    assert truenorth.breakdown["synaptic operations"] / loihi.breakdown["synaptic operations"] \
        == pytest.approx(26 / 23.6)


def test_latency_without_every_time_figure_is_a_bound():
    """The toy profile times synaptic events and neuron updates but not spikes or bytes."""
    r = estimate(COUNTERS, _profile(), duration=0.01, dt=1e-4)
    assert not r.latency_complete
    assert any("latency is a lower bound" in item for item in r.not_modelled)
    assert ">= " in r.format() and "<= " in r.format()
    assert estimate(COUNTERS, _profile(real_time=True), duration=0.5, dt=1e-4).latency_complete


def test_crossbar_counters_priced_by_hand():
    """A crossbar backend's counts on rram_crossbar: rows x 2.05 pJ + ADC x 1.6 pJ + DAC x 9.1 fJ
    + partial-sum adds x 0.1 pJ + neuron updates x 23 pJ; reads timed at 18 ns each."""
    counters = {
        "populations": {"n": {"neurons": 128, "neuron_updates": 1280, "spikes": 3}},
        "projections": {"p": {"synapses": 16384, "synaptic_events": 384}},
        "hardware": {"p": {"crossbar_reads": 3, "activated_rows": 3, "adc_conversions": 48,
                           "dac_conversions": 3, "digital_accumulations": 384,
                           "bytes_moved": 0}},
    }
    r = estimate(counters, "rram_crossbar", duration=1e-3, dt=1e-4,
                 crossbar={"tile_cols": 128, "adc_bits": 5})
    assert r.breakdown["crossbar reads"] == pytest.approx(3 * 2.05e-12)
    assert r.breakdown["ADC/DAC"] == pytest.approx(48 * 1.6e-12 + 3 * 9.1e-15)
    assert r.breakdown["synaptic operations"] == pytest.approx(384 * 0.1e-12)
    assert r.breakdown["neuron updates"] == pytest.approx(1280 * 23e-12)
    # Rows, conversions and output additions happen within the 18 ns of a read;
    # neuron updates take 10 ns each: every priced operation is timed.
    assert r.latency == pytest.approx(3 * 18e-9 + 1280 * 10e-9)
    assert r.latency_complete
    assert ">=" not in r.format() and "<=" not in r.format()
    assert not any("projection 'p'" in item or "crossbar." in item for item in r.not_modelled)


KNOWN_EVENTS = """
    duration: 10 ms
    precision: float64
    populations:
      src: {size: 3, model: spike_generator, params: {times: [1 ms, 2 ms, 2 ms, 4 ms, 6 ms], indices: [0, 1, 2, 0, 2]}}
      dst: {size: 20, model: lif_exp}
    projections:
      p: {source: src, target: dst, receptor: exc, connect: {rule: fixed_probability, p: 0.3}, weight: 0.1 mV}
"""
#: Per-event prices, written out from the profiles' sources (not read from them).
EVENT_PRICES = {"cpu_core": 13.9e-9, "gpu": 9.42e-12 + 8 * 32e-12, "loihi": 23.6e-12,
                "horowitz45": 0.9e-12}


@pytest.fixture(scope="module")
def three_backends():
    """The network on the cpu backend, ideal crossbar tiles (2 x 4, so several
    tiles) and torch's dense path; and its synaptic events counted by hand:
    each source's spikes (2, 1, 2) times its out-degree in the synapse table."""
    from neurosim.backends import torch_backend

    net, cpu = run(config(KNOWN_EVENTS))
    events = int(np.dot([2, 1, 2], np.bincount(net.synapses("p")["pre"], minlength=3)))
    xbar = run(config(KNOWN_EVENTS, backend="crossbar", crossbar__ideal="true",
                      crossbar__tile_rows=2, crossbar__tile_cols=4))[1]
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(torch_backend.DENSE_MIN_DENSITY, "cpu", 0.0)
        dense = run(config(KNOWN_EVENTS, backend="torch"))[1]
    return {"cpu": cpu, "crossbar": xbar, "torch": dense}, events


def test_digital_profiles_price_the_same_synaptic_work_on_every_backend(three_backends):
    """A digital profile prices the hand-counted events x its per-event figure whichever
    backend ran, though the crossbar counted every column output of the tiles it read and
    the torch dense path every multiply-add of the 3 x 20 block in each of 100 steps."""
    results, events = three_backends
    hw = {name: r.counters["hardware"]["p"] for name, r in results.items()}
    assert hw["crossbar"]["digital_accumulations"] > events
    assert hw["torch"]["multiply_accumulates"] == 100 * 3 * 20
    for profile, price in EVENT_PRICES.items():
        for name, result in results.items():
            assert result.counters["projections"]["p"]["synaptic_events"] == events
            r = estimate_result(result, profile)
            assert r.breakdown["synaptic operations"] == pytest.approx(events * price, rel=2e-3), \
                (profile, name)
        totals = {estimate_result(r, profile).total for r in results.values()}
        assert len(totals) == 1


def test_only_the_crossbar_profile_prices_crossbar_counters(three_backends):
    results, events = three_backends
    xbar = results["crossbar"].counters["hardware"]["p"]
    r = estimate_result(results["crossbar"], "rram_crossbar")
    assert r.breakdown["crossbar reads"] == pytest.approx(xbar["activated_rows"] * 2.05e-12)
    assert r.breakdown["synaptic operations"] == pytest.approx(
        xbar["digital_accumulations"] * 0.1e-12)
    for name in ("cpu", "torch"):  # no tile work counted: synaptic work not priced, and said so
        r = estimate_result(results[name], "rram_crossbar")
        assert r.breakdown["synaptic operations"] == r.breakdown["crossbar reads"] == 0
        assert any(f"{events} synaptic events without activated_rows" in i
                   for i in r.not_modelled)


def test_crossbar_settings_unlike_the_profile_are_noted(three_backends):
    """The run's 2 x 4 tiles and default 9-bit ADC differ from the profile's 128 columns and
    5 bits: said in the notes. Matching settings leave no such note."""
    notes = estimate_result(three_backends[0]["crossbar"], "rram_crossbar").not_modelled
    assert any(n.startswith("crossbar.tile_cols: the run used 4, the profile's energies hold "
                            "for 128") for n in notes)
    assert any(n.startswith("crossbar.adc_bits: the run used 9") for n in notes)
    matching = run(config(KNOWN_EVENTS, backend="crossbar", crossbar__tile_cols=128,
                          crossbar__adc_bits=5))[1]
    assert not any(n.startswith("crossbar.")
                   for n in estimate_result(matching, "rram_crossbar").not_modelled)


def test_counters_without_a_hardware_section():
    """Hand-built counters (or results written before hardware counters): digital profiles
    price the events; the crossbar profile says what it could not price."""
    counters = {"populations": {"n": {"neurons": 10, "neuron_updates": 100, "spikes": 4}},
                "projections": {"p": {"synapses": 20, "synaptic_events": 40}}}
    r = estimate(counters, "cpu_core")
    assert r.breakdown["synaptic operations"] == pytest.approx(40 * 13.9e-9)
    assert r.total == pytest.approx(40 * 13.9e-9 + 100 * 2.25e-9)
    r = estimate(counters, "rram_crossbar")
    assert r.breakdown["synaptic operations"] == 0
    assert any("40 synaptic events without activated_rows" in i for i in r.not_modelled)
