"""STDP and the astrocyte against closed forms and difference equations written here.

Two relay chains fire a presynaptic neuron P at step 1 + k and a
postsynaptic neuron Q at step 1 + m (each input neuron is driven every step
but a 1000-step refractory period lets every neuron fire once). The weight
of the weak synapse P -> Q after the run is then known in closed form:

    x_pre(t_post) = c d^(t_post - t_pre)                   (trace, c = 0.1, d = 0.905)
    Delta > 0: w = w0 + a_plus(t_post) * c d^Delta          (potentiation)
    Delta < 0: w = w0 - a_minus(t_pre) * c d^|Delta|        (depression)
    Delta = 0: w = w0                                       (traces lag one step)

with a_plus(t) = a_plus * r^t (per-step decay r), a_minus = a_plus for plain
STDP, and for NALSM the astrocyte A_t of the difference equation
A_{t+1} = r [A_t + (w_t (liquid spikes_t - input spikes_t) + b_t - A_t) / tau].
"""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.reservoir import Dynamics, LiquidSimulator, LiquidSpec
from neurosim.reservoir.liquid import EXC, INPUT, from_synapses

W0, DRIVE, C, D = 0.5, 25.0, 0.1, 0.905


def chains(k: int, m: int):
    """Liquid: chain a_1..a_k (P = a_k) from input 0, chain b_1..b_m (Q = b_m) from input 1."""
    n = k + m
    spec = LiquidSpec(grid=(n, 1, 1), n_inputs=2, w_init=W0, w_max=30.0)
    kind = np.array([EXC] * n + [INPUT] * 2)
    a = list(range(k))
    b = list(range(k, n))
    edges = [(n, a[0], DRIVE), (n + 1, b[0], DRIVE)]
    edges += [(x, y, DRIVE) for x, y in zip(a, a[1:])] + [(x, y, DRIVE) for x, y in zip(b, b[1:])]
    edges.append((a[-1], b[-1], W0))
    edges.sort()
    pre, post, w = (np.array(col) for col in zip(*edges))
    liquid = from_synapses(spec, kind, np.zeros((n, 3)), pre, post, w)
    plastic = int(np.nonzero((pre == a[-1]) & (post == b[-1]))[0][0])
    return liquid, plastic, a[-1], b[-1]


def run(k, m, rule, r, **astro):
    liquid, syn, p, q = chains(k, m)
    dyn = Dynamics(refractory=1000, rule=rule, lr_decay=r, **astro)
    sim = LiquidSimulator(liquid, dyn, seed=0)
    probs = np.ones((1, 2), np.float32)
    steps = max(k, m) + 4
    # The spike schedule the closed form assumes: input at 1, chain neuron i at 1 + i.
    _, raster, _ = sim.run(probs, np.array([0]), steps, record=np.array([True]))
    assert np.nonzero(raster[0][:, p])[0].tolist() == [1 + k]
    assert np.nonzero(raster[0][:, q])[0].tolist() == [1 + m]
    sim.initialise(probs, np.array([0]), steps, lr_decay=r)
    return float(sim.weights[syn]), liquid


@pytest.mark.parametrize("k,m", [(1, 2), (1, 4), (2, 9), (3, 3), (4, 1), (7, 2)])
def test_pair_stdp_matches_closed_form(k, m):
    r, a_plus = 0.99, 0.15
    w, _ = run(k, m, "stdp", r)
    t_pre, t_post = 1 + k, 1 + m
    lag = t_post - t_pre
    if lag > 0:
        expected = W0 + a_plus * r**t_post * C * D**lag
    elif lag < 0:
        expected = W0 - a_plus * r**t_pre * C * D**(-lag)
    else:
        expected = W0
    assert w == pytest.approx(expected, rel=1e-5)


def test_inhibitory_presynaptic_neuron_swaps_the_signs():
    liquid, syn, p, q = chains(1, 3)
    kind = liquid.kind.copy()
    kind[p] = 1  # INH: weight -W0, bounds [-w_max, 0]
    w = liquid.weight.copy()
    w[syn] = -W0
    pre = liquid.pre()
    inh = from_synapses(liquid.spec, kind, liquid.position, pre, liquid.post, w)
    sim = LiquidSimulator(inh, Dynamics(refractory=1000, rule="stdp", lr_decay=1.0), seed=0)
    sim.initialise(np.ones((1, 2), np.float32), np.array([0]), 8)
    # pre at 2, post at 4: for an inhibitory pre, post-after-pre depresses (more negative).
    assert sim.weights[syn] == pytest.approx(-W0 - 0.15 * C * D**2, rel=1e-5)


@pytest.mark.parametrize("k,m", [(3, 1), (9, 2), (12, 5)])
def test_astrocyte_sets_the_depression_rate(k, m):
    r, w_astro, bias, tau, a0 = 0.99, 0.5, 0.15, 20.0, 0.15
    w, liquid = run(k, m, "astro_stdp", r, w_astro=w_astro, astro_bias=bias, tau_astro=tau,
                    astro_initial=a0)
    t_pre, t_post = 1 + k, 1 + m
    # Spikes per step: both inputs at 1; chain neuron i of either chain at 1 + i.
    liquid_spikes = np.zeros(t_pre + 1)
    for i in list(range(1, k + 1)) + list(range(1, m + 1)):
        liquid_spikes[1 + i] += 1
    input_spikes = np.zeros(t_pre + 1)
    input_spikes[1] = 2
    a, wa, b = a0, w_astro, bias
    for t in range(t_pre):  # A used at step t_pre: after the updates of steps 0 .. t_pre-1
        a = a + (wa * (liquid_spikes[t] - input_spikes[t]) + b - a) / tau
        a, wa, b = a * r, wa * r, b * r
    expected = W0 - a * C * D**(t_pre - t_post)
    assert w == pytest.approx(expected, rel=1e-5)
    # The integrator moved A measurably away from its start, so the test sees it.
    assert abs(a - a0 * r**t_pre) > 1e-3
