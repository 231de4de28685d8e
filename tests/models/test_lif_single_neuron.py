"""Single LIF neurons against closed-form solutions of their equations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from conftest import config, run

C_M, TAU_M, E_L, V_RESET = 250e-12, 20e-3, -70e-3, -70e-3
R_M = TAU_M / C_M
TAU_E, TAU_I = 2e-3, 8e-3
DT = 1e-4

NEURON = f"""
seed: 3
dt: 0.1 ms
precision: float64
populations:
  n:
    size: 1
    model: lif_exp
    params: {{C_m: 250 pF, tau_m: 20 ms, E_L: -70 mV, V_th: {{vth}}, V_reset: -70 mV,
              t_ref: 2 ms, tau_syn_e: 2 ms, tau_syn_i: 8 ms, I_e: {{ie}}}}
record:
  traces:
    n: {{population: n, neurons: [0], variables: [v, I_syn_e]}}
"""


def neuron(duration="100 ms", vth="0 mV", ie="0 pA", extra=""):
    return config(NEURON.replace("{vth}", vth).replace("{ie}", ie) + extra + f"duration: {duration}\n")


def test_step_current_subthreshold_matches_exponential_charging():
    amp, t_on = 300e-12, 10e-3
    cfg = neuron(extra="currents:\n  step: {target: n, times: [10 ms], amplitudes: [300 pA]}\n")
    _, res = run(cfg)
    tr = res.traces["n"]
    t = tr.times
    expected = E_L + R_M * amp * -np.expm1(-np.clip(t - t_on, 0, None) / TAU_M)
    np.testing.assert_allclose(tr.data[:, 0, 0], expected, rtol=0, atol=1e-12)
    assert res.counters["populations"]["n"]["spikes"] == 0


def test_first_spike_time_under_constant_current_matches_closed_form():
    amp, v_th = 1000e-12, -55e-3
    cfg = neuron(duration="200 ms", vth="-55 mV", ie="1000 pA")
    _, res = run(cfg)
    v_inf = E_L + R_M * amp
    t_first = -TAU_M * math.log(1 - (v_th - E_L) / (R_M * amp))
    times = res.spikes["n"].times
    # Spikes are stamped at the end of the step in which V crossed threshold.
    assert times[0] == pytest.approx(math.ceil(t_first / DT) * DT, abs=1e-12)
    # Later intervals: refractory clamp, then charging from V_reset.
    t_charge = TAU_M * math.log((v_inf - V_RESET) / (v_inf - v_th))
    isi = np.diff(times)
    assert np.all(np.abs(isi - (2e-3 + t_charge)) <= DT + 1e-12)


@pytest.mark.parametrize("t_ref_ms", [0.0, 0.1, 2.0])
def test_interspike_interval_is_refractory_period_plus_charging_time(t_ref_ms):
    # t_ref of zero and of one step are the edge cases of the held-step count.
    amp, v_th = 1000e-12, -55e-3
    text = (NEURON.replace("{vth}", "-55 mV").replace("{ie}", "1000 pA")
            .replace("t_ref: 2 ms", f"t_ref: {t_ref_ms} ms"))
    _, res = run(config(text + "duration: 200 ms\n"))
    v_inf = E_L + R_M * amp
    t_charge = TAU_M * math.log((v_inf - V_RESET) / (v_inf - v_th))
    isi = np.diff(res.spikes["n"].times)
    assert isi.size >= 10
    assert np.all(np.abs(isi - (t_ref_ms * 1e-3 + t_charge)) <= DT + 1e-12)


def test_refractory_clamp_holds_v_at_reset_for_t_ref():
    cfg = neuron(duration="100 ms", vth="-55 mV", ie="1000 pA")
    _, res = run(cfg)
    tr = res.traces["n"]
    for t_spike in res.spikes["n"].times:
        # Reset at the spike, then clamped until integration resumes t_ref later.
        window = (tr.times >= t_spike - 1e-12) & (tr.times <= t_spike + 2e-3 + 1e-12)
        assert window.sum() == 21
        assert np.all(tr.data[window, 0, 0] == V_RESET)
        after = np.searchsorted(tr.times, t_spike + 2e-3 + 1e-12)
        if after < tr.times.size:
            assert tr.data[after, 0, 0] > V_RESET


@pytest.mark.parametrize("weight_pa,delay_ms", [(500.0, 0.1), (500.0, 1.5), (-300.0, 2.0)])
def test_psp_is_the_analytic_difference_of_exponentials(weight_pa, delay_ms):
    receptor, tau_s = ("exc", TAU_E) if weight_pa > 0 else ("inh", TAU_I)
    t_spike = 5e-3
    extra = f"""
projections:
  p: {{source: src, target: n, receptor: {receptor}, connect: {{rule: all_to_all}},
       weight: {weight_pa} pA, delay: {delay_ms} ms}}
"""
    text = NEURON.replace("{vth}", "0 mV").replace("{ie}", "0 pA").replace(
        "populations:\n", "populations:\n  src: {size: 1, model: spike_generator, "
        "params: {times: [5 ms]}}\n")
    _, res = run(config(text + extra + "duration: 40 ms\n"))
    tr = res.traces["n"]
    t0 = t_spike + delay_ms * 1e-3
    lag = np.clip(tr.times - t0, 0, None)
    w = weight_pa * 1e-12
    psp = R_M * w * tau_s / (tau_s - TAU_M) * (np.exp(-lag / tau_s) - np.exp(-lag / TAU_M))
    np.testing.assert_allclose(tr.data[:, 0, 0] - E_L, psp, rtol=0, atol=1e-9 * abs(psp).max())
    # The input arrives exactly `delay` after the spike: nothing before t0.
    before = tr.times < t0 + 1e-12
    assert np.all(tr.data[before, 0, 0] == E_L)
    assert np.all(tr.data[~before, 0, 0] != E_L)


def test_conductance_neuron_matches_an_ode_solver():
    text = """
    seed: 1
    dt: 0.01 ms
    duration: 30 ms
    precision: float64
    populations:
      src: {size: 1, model: spike_generator, params: {times: [2 ms, 4 ms, 9 ms]}}
      n:
        size: 1
        model: lif_cond_exp
        params: {C_m: 200 pF, tau_m: 20 ms, E_L: -60 mV, V_th: 0 mV, V_reset: -60 mV,
                 t_ref: 5 ms, tau_syn_e: 5 ms, tau_syn_i: 10 ms, E_e: 0 mV, E_i: -80 mV}
    projections:
      p: {source: src, target: n, receptor: exc, connect: {rule: all_to_all}, weight: 20 nS,
          delay: 0.01 ms}
    record:
      traces:
        n: {population: n, neurons: [0], variables: [v, g_e]}
    """
    _, res = run(config(text))
    tr = res.traces["n"]
    g_l, c_m, tau_e = 10e-9, 200e-12, 5e-3
    arrivals = np.array([2e-3, 4e-3, 9e-3]) + 1e-5

    def g_e(t):
        lag = t - arrivals
        return 20e-9 * np.sum(np.exp(-lag[lag >= 0] / tau_e))

    def rhs(t, v):
        return [(g_l * (-60e-3 - v[0]) + g_e(t) * (0.0 - v[0])) / c_m]

    sol = solve_ivp(rhs, (0, tr.times[-1]), [-60e-3], t_eval=tr.times, rtol=1e-10, atol=1e-13,
                    max_step=1e-5)
    # Exponential Euler freezes g over a step: error O(dt) on the PSP.
    peak = np.abs(sol.y[0] + 60e-3).max()
    np.testing.assert_allclose(tr.data[:, 0, 0], sol.y[0], rtol=0, atol=0.01 * peak)
    np.testing.assert_allclose(tr.data[:, 0, 1], [g_e(t) for t in tr.times], rtol=1e-9,
                               atol=1e-15)
