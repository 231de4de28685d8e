"""STDP and the astrocytes on network projections: the pair window in closed form,
a step-by-step transcription of the rules, both backends, threads and results."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import config, run
from neurosim.backends import cpu as cpu_backend
from neurosim.backends.base import SHARED_STATE
from neurosim.driver.simulation import Simulation
from neurosim.errors import ConfigError
from neurosim.io import load, save
from neurosim.network import build_network

DT = 1e-4
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS = 0.01e-3, 0.012e-3, 20e-3, 30e-3

PAIRS = """
seed: 2
dt: 0.1 ms
precision: float64
duration: 200 ms
populations:
  pre: {size: 1, model: spike_generator, params: {times: [10 ms, 52 ms, 95 ms, 140 ms]}}
  kick: {size: 1, model: spike_generator, params: {times: [30 ms, 50 ms, 100 ms, 170 ms]}}
  post: {size: 1, model: lif_exp, params: {E_L: -70 mV, V_th: -55 mV, V_reset: -70 mV, t_ref: 15 ms}}
projections:
  drive: {source: kick, target: post, receptor: exc, connect: {rule: all_to_all}, weight: 400 mV}
  learn:
    source: pre
    target: post
    receptor: exc
    connect: {rule: all_to_all}
    weight: 0.5 mV
    plasticity: {rule: stdp, a_plus: 0.01 mV, a_minus: 0.012 mV, tau_plus: 20 ms,
                 tau_minus: 30 ms, w_min: 0 mV, w_max: 1 mV}
record:
  spikes: all
"""


def steps_of(record, index=0):
    return np.rint(record.times[record.indices == index] / DT).astype(np.int64) - 1


def test_pair_window_is_the_sum_of_all_pairs_in_closed_form():
    net, res = run(config(PAIRS))
    pre, post = steps_of(res.spikes["pre"]), steps_of(res.spikes["post"])
    assert post.size == 4 and pre.size == 4
    factor = net.projection("learn").weight_factor
    change = 0.0
    for t in post:  # potentiation: every earlier pre spike
        change += A_PLUS * np.sum(np.exp(-(t - pre[pre < t]) * DT / TAU_PLUS))
    for s in pre:  # depression: every earlier post spike
        change -= A_MINUS * np.sum(np.exp(-(s - post[post < s]) * DT / TAU_MINUS))
    got = res.weights["learn"]["weight"]
    np.testing.assert_allclose(got, [0.5e-3 + change], rtol=1e-12)
    assert change != 0
    assert net.weights[net.plasticity.position[0]] == pytest.approx(0.5e-3 * factor)  # untouched


NET = """
seed: 7
dt: 0.1 ms
precision: PRECISION
duration: 120 ms
populations:
  src: {size: 40, model: poisson, params: {rate: 30 Hz}}
  exc: {size: 60, model: lif_exp, params: {tau_m: 20 ms, E_L: -49 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 2 ms},
        initial: {v: {dist: uniform, low: -60 mV, high: -50 mV}}}
  inh: {size: 15, model: lif_exp, params: {tau_m: 20 ms, E_L: -49 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 2 ms}}
projections:
  in: {source: src, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.3}, weight: 1 mV,
       plasticity: {rule: stdp, a_plus: 0.05 mV, a_minus: 0.06 mV, w_min: 0.2 mV, w_max: 1.2 mV}}
  ee: {source: exc, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.2},
       weight: {dist: uniform, low: 0.5 mV, high: 1.5 mV}, delay: {dist: uniform, low: 0.1 ms, high: 0.4 ms},
       plasticity: {rule: stdp, a_plus: 0.1 mV, a_minus: 0.1 mV, tau_plus: 15 ms, tau_minus: 25 ms,
                    w_min: 0 mV, w_max: 1.6 mV}}
  ei: {source: exc, target: inh, receptor: exc, connect: {rule: fixed_probability, p: 0.2}, weight: 1 mV}
  ie: {source: inh, target: exc, receptor: inh, connect: {rule: fixed_probability, p: 0.3}, weight: -4 mV}
astrocytes:
  balance: {excite: [exc, src], inhibit: [inh], w: 0.002 mV, b: 0.05 mV, tau: 20 ms, initial: 0.1 mV,
            modulates: [ee]}
record:
  spikes: all
"""


def plastic_net(precision="float64", **overrides):
    return config(NET.replace("PRECISION", precision), **overrides)


def transcription(net, cfg, res):
    """The rules step by step from the recorded spikes, in plain numpy (float64)."""
    n_steps = int(round(cfg.duration / cfg.dt))
    spiked = np.zeros((n_steps, net.n_neurons), dtype=np.int64)
    for pop in net.populations:
        rec = res.spikes[pop.name]
        np.add.at(spiked, (np.rint(rec.times / cfg.dt).astype(np.int64) - 1,
                           pop.start + rec.indices), 1)
    syn = net.synapses()
    weights, A = {}, cfg.astrocytes["balance"].initial.constant
    astro_trace = np.zeros(n_steps)
    names = [n for n, p in cfg.projections.items() if p.plasticity is not None]
    for name in names:
        keep = net.synapse_positions(name, syn)
        weights[name] = [syn["pre"][keep], syn["post"][keep], syn["weight"][keep]
                         / net.projection(name).weight_factor]
    x = {n: np.zeros(net.n_neurons) for n in names}
    y = {n: np.zeros(net.n_neurons) for n in names}
    sign = np.zeros(net.n_neurons)
    for pop in net.populations:
        sign[pop.start:pop.stop] = {"exc": 1, "src": 1, "inh": -1}[pop.name]
    for t in range(n_steps):
        s = spiked[t]
        for name in names:
            rule = cfg.projections[name].plasticity
            a_minus = A if name == "ee" else rule.a_minus.constant
            pre, post, w = weights[name]
            x[name] *= np.exp(-cfg.dt / rule.tau_plus)
            y[name] *= np.exp(-cfg.dt / rule.tau_minus)
            w[:] = np.clip(w + rule.a_plus.constant * x[name][pre] * (s[post] > 0),
                           rule.w_min.constant, rule.w_max.constant)
            for _ in range(s.max(initial=0)):  # one depression per event
                hit = s[pre] > _
                w[hit] = np.clip(w[hit] - a_minus * y[name][post[hit]],
                                 rule.w_min.constant, rule.w_max.constant)
            x[name] += s
            y[name] += s
        astro = cfg.astrocytes["balance"]
        A += (astro.w.constant * np.dot(sign, s) + astro.b.constant - A) * cfg.dt / astro.tau
        astro_trace[t] = A
    return weights, astro_trace


def test_weights_and_astrocyte_follow_a_transcription_of_the_rules():
    cfg = plastic_net()
    net, res = run(cfg)
    assert sum(r.indices.size for r in res.spikes.values()) > 300
    weights, astro = transcription(net, cfg, res)
    np.testing.assert_allclose(res.astrocytes["balance"], astro, rtol=1e-12)
    for name, (pre, post, w) in weights.items():
        got = res.weights[name]
        src = net.population(cfg.projections[name].source).start
        tgt = net.population(cfg.projections[name].target).start
        np.testing.assert_array_equal(got["pre"], pre - src)
        np.testing.assert_array_equal(got["post"], post - tgt)
        np.testing.assert_allclose(got["weight"], w, rtol=1e-9, atol=1e-15)
        initial = net.synapses(name)["weight"] / net.projection(name).weight_factor
        assert np.mean(got["weight"] != initial) > 0.2, f"{name}: the weights learned"
    assert astro.std() > 0


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_torch_learns_the_same_weights_bit_for_bit(precision):
    pytest.importorskip("torch")
    cfg = plastic_net(precision)
    cpu = Simulation(build_network(cfg), cfg, backend="cpu")
    torch_sim = Simulation(build_network(cfg), cfg, backend="torch")
    a, b = cpu.run(), torch_sim.run()
    for name in a.spikes:
        np.testing.assert_array_equal(a.spikes[name].times, b.spikes[name].times)
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name]["weight"], b.weights[name]["weight"])
    np.testing.assert_array_equal(a.astrocytes["balance"], b.astrocytes["balance"])
    theirs = torch_sim.backend.state()
    for key, value in cpu.backend.state().items():
        if key in SHARED_STATE:
            np.testing.assert_array_equal(theirs[key], value, err_msg=key)


def test_threads_and_chunks_leave_the_learning_unchanged(monkeypatch):
    cfg = plastic_net()
    _, one = run(cfg)
    monkeypatch.setattr(cpu_backend, "_MIN_NEURONS_PER_THREAD", 10)
    net = build_network(cfg)
    sim = Simulation(net, cfg, threads=2)
    assert sim.backend.parts == 2
    sim.run(duration=0.05)
    two = sim.run(duration=0.07)  # continues: two calls, several chunks
    np.testing.assert_array_equal(two.weights["ee"]["weight"], one.weights["ee"]["weight"])
    np.testing.assert_array_equal(two.astrocytes["balance"], one.astrocytes["balance"])


def test_weights_and_astrocytes_survive_the_result_file(tmp_path):
    _, res = run(plastic_net())
    back = load(save(res, tmp_path / "plastic.h5"))
    for name, synapses in res.weights.items():
        for key, values in synapses.items():
            np.testing.assert_array_equal(back.weights[name][key], values)
    np.testing.assert_array_equal(back.astrocytes["balance"], res.astrocytes["balance"])


def test_fixed_networks_have_no_plasticity_records():
    cfg = config(NET.replace("PRECISION", "float32").split("astrocytes:")[0]
                 .replace("plasticity: {rule: stdp, a_plus: 0.05 mV, a_minus: 0.06 mV, "
                          "w_min: 0.2 mV, w_max: 1.2 mV}", "delay: 0.1 ms")
                 .replace("""plasticity: {rule: stdp, a_plus: 0.1 mV, a_minus: 0.1 mV, tau_plus: 15 ms, tau_minus: 25 ms,
                    w_min: 0 mV, w_max: 1.6 mV}""", "delay: 0.1 ms") + "record: {spikes: all}\n")
    net, res = run(cfg)
    assert net.plasticity is None and res.weights == {} and res.astrocytes == {}


@pytest.mark.parametrize("change, message", [
    (("modulates: [ee]", "modulates: [ei]"), "projection 'ei' has no plasticity to modulate"),
    (("modulates: [ee]", "modulates: [xx]"), "unknown projection 'xx'"),
    (("excite: [exc, src]", "excite: [exc, nope]"), "unknown population 'nope'"),
    (("w: 0.002 mV", "w: 0.002 nA"), "w, b and initial must share one unit"),
    (("a_plus: 0.05 mV", "a_plus: 0.05 nS"), "must share one unit"),
    (("w_min: 0.2 mV, w_max: 1.2 mV", "w_min: 2 mV, w_max: 1.2 mV"), "w_min: is above w_max"),
])
def test_bad_rules_are_refused_by_key(change, message):
    with pytest.raises(ConfigError, match=message):
        config(NET.replace("PRECISION", "float64").replace(*change))


def test_plastic_projection_must_be_alone_on_its_pathway():
    text = NET.replace("PRECISION", "float64").replace(
        "  ei: {source: exc", "  ee2: {source: exc, target: exc, receptor: exc, connect: "
        "{rule: one_to_one}, weight: 1 mV}\n  ei: {source: exc")
    with pytest.raises(ConfigError, match="ee.plasticity: projection.*ee2 share"):
        config(text)


def test_crossbar_refuses_plastic_projections():
    cfg = plastic_net("float32")
    with pytest.raises(ConfigError, match="plasticity is not implemented on backend 'crossbar'"):
        Simulation(build_network(cfg), cfg, backend="crossbar")
