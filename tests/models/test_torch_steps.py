"""The neuron models' torch steps (pure functions), each against its difference
equation written out element by element."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.models import implementation  # noqa: E402

B, N = 3, 7
RNG = np.random.default_rng(7)


def t64(x):
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def step_of(model):
    return implementation(model, "torch").step


def test_lif_exp_step_integrates_thresholds_resets_and_clamps():
    p22, p21e, p21i, p11e, p11i = 0.99, 0.004, 0.003, 0.98, 0.97
    drive, v_th, v_reset, resume = 0.0002, -0.05, -0.06, 3  # t_ref = 2 steps
    v = RNG.uniform(-0.062, -0.049, (B, N))
    e = RNG.uniform(0, 0.5, (B, N))
    i = RNG.uniform(-0.5, 0, (B, N))
    until = np.zeros((B, N), dtype=np.int32)
    tv, te, ti, tu = t64(v), t64(e), t64(i), torch.tensor(until)
    par = tuple(t64(np.full(N, x)) for x in (p22, p21e, p21i, p11e, p11i, drive, v_th, v_reset))
    par += (torch.full((N,), resume, dtype=torch.int32),)
    n_spikes = 0
    for step in range(30):
        spiked, tv, (te, ti), tu = step_of("lif_exp")(tv, (te, ti), tu, step, par)
        spiked = spiked.numpy()
        for b in range(B):
            for n in range(N):
                new = p22 * v[b, n] + p21e * e[b, n] + p21i * i[b, n] + drive
                e[b, n] *= p11e
                i[b, n] *= p11i
                if until[b, n] > step:  # refractory: held at reset
                    new = v_reset
                fired = new >= v_th
                assert spiked[b, n] == fired
                v[b, n] = v_reset if fired else new
                if fired:
                    until[b, n] = step + resume
                    n_spikes += 1
        np.testing.assert_array_equal(tv.numpy(), v)
        np.testing.assert_array_equal(te.numpy(), e)
        np.testing.assert_array_equal(tu.numpy(), until)
    assert n_spikes > 5


def test_lif_cond_exp_step_relaxes_exactly_to_the_momentary_equilibrium():
    dt_c, g_l, e_l, e_e, e_i = 1e-4 / 200e-12, 10e-9, -0.06, 0.0, -0.08
    p11e, p11i, v_th, v_reset, resume = 0.98, 0.99, -0.05, -0.06, 2
    v = RNG.uniform(-0.065, -0.05, (B, N))
    ge = RNG.uniform(0, 30e-9, (B, N))
    gi = RNG.uniform(0, 10e-9, (B, N))
    until = np.zeros((B, N), dtype=np.int32)
    tv, tge, tgi, tu = t64(v), t64(ge), t64(gi), torch.tensor(until)
    par = tuple(t64(np.full(N, x)) for x in
                (dt_c, g_l, g_l * e_l, e_e, e_i, p11e, p11i, v_th, v_reset))
    par += (torch.full((N,), resume, dtype=torch.int32),)
    for step in range(20):
        spiked, tv, (tge, tgi), tu = step_of("lif_cond_exp")(tv, (tge, tgi), tu, step, par)
        spiked = spiked.numpy()
        for b in range(B):
            for n in range(N):
                g_tot = g_l + ge[b, n] + gi[b, n]
                v_inf = (g_l * e_l + ge[b, n] * e_e + gi[b, n] * e_i) / g_tot
                new = v_inf + (v[b, n] - v_inf) * math.exp(-dt_c * g_tot)
                ge[b, n] *= p11e
                gi[b, n] *= p11i
                if until[b, n] > step:
                    new = v_reset
                assert spiked[b, n] == (new >= v_th)
                if new >= v_th:
                    new, until[b, n] = v_reset, step + resume
                v[b, n] = new
        np.testing.assert_allclose(tv.numpy(), v, rtol=1e-13)
        np.testing.assert_array_equal(tu.numpy(), until)



class FastSigmoid(torch.autograd.Function):
    """Heaviside forward, fast-sigmoid derivative backward (Zenke & Ganguli 2018)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + 100 * x.abs()) ** 2


@pytest.mark.parametrize("name", ["lif_exp", "lif_cond_exp", "alif", "lif_discrete"])
def test_every_torch_step_is_differentiable_with_a_surrogate(name):
    from neurosim.models import get_model
    model = get_model(name)
    defaults = {k: np.array([v]) for k, v in model.params().model_dump().items()}  # one group
    table = model.discretise(defaults, 1e-4, np.zeros(1))[0]
    resume = int(np.asarray(model.refractory_steps(defaults, 1e-4)).ravel()[0]) + 1
    par = tuple(t64(np.full(N, c)) for c in table) + (torch.full((N,), resume),)
    rest = float(np.asarray(model.resting_potential(defaults)).ravel()[0])
    threshold = float(defaults.get("V_th", defaults.get("threshold"))[0])
    v0 = t64(np.linspace(rest, threshold + 0.2 * abs(threshold - rest), N)).requires_grad_()
    rows = tuple(t64(np.full(N, 1e-9 if name != "lif_discrete" else 0.1))
                 for _ in range(model.state_rows))
    until = torch.zeros(N, dtype=torch.int64)
    v, total = v0, 0
    for step in range(5):
        spikes, v, rows, until = step_of(name)(v, rows, until, step, par, FastSigmoid.apply)
        total = total + spikes.sum() + v.sum()
    assert spikes.dtype == torch.float64
    total.backward()
    assert torch.isfinite(v0.grad).all() and v0.grad.abs().sum() > 0
