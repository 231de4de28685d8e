"""A trained layer's neurons: the engine's spikes, autograd's gradients, and the
exact gradient of the smooth stand-in network."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.models.lif_discrete import LifDiscreteParams  # noqa: E402
from neurosim.models.lif_discrete import numba_kernels  # noqa: E402
from neurosim.training.neurons import layer_neurons, lif_sequence  # noqa: E402
from neurosim.training.surrogates import Atan, FastSigmoid, Triangle  # noqa: E402

T, B, F, N = 12, 3, 7, 5
F64 = torch.float64


def engine_spikes(currents: np.ndarray, params: LifDiscreteParams) -> np.ndarray:
    """The numba engine's lif_discrete on per-step input currents ``(T, n)``."""
    p = {k: np.array([v]) for k, v in params.model_dump().items()}
    from neurosim.models.lif_discrete import MODEL

    par = MODEL.discretise(p, 1.0, np.zeros(1))[0]
    n = currents.shape[1]
    v, x = np.zeros(n), np.zeros((3, n))
    out = np.zeros(currents.shape, dtype=bool)
    for t, current in enumerate(currents):
        x[0] += current  # the step's synaptic current: what arrived for this step
        numba_kernels.update_block(0, n, v, x, par, 0, np.zeros(1, np.int64), 0, 0)
        out[t] = x[2] == numba_kernels.spike_mark(0)
    return out


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_training_forward_spikes_as_the_engine(reset, alpha):
    rng = np.random.default_rng(3)
    params = LifDiscreteParams(beta=0.9, alpha=alpha, bias=0.02, reset=reset)
    inputs = (rng.random((T, B, F)) < 0.4).astype(np.float64)
    weights = rng.normal(0.25, 0.3, (N, F)) * (1 - alpha)  # alpha carries input over
    current = torch.from_numpy(inputs) @ torch.from_numpy(weights).T
    w = torch.from_numpy(weights).requires_grad_()
    for backward in ("fused", "autograd"):
        spikes, _, _ = lif_sequence(torch.from_numpy(inputs) @ w.T, T, None,
                                 layer_neurons(params, F64), Atan(), backward=backward)
        expected = engine_spikes(current.numpy().reshape(T, B * N), params).reshape(T, B, N)
        np.testing.assert_array_equal(spikes.detach().numpy(), expected)
    assert 0.1 < expected.mean() < 0.9


def run(surrogate, backward, reset="subtract", alpha=0.0, recurrent=True, constant=False,
        seed=0):
    """Spikes, membrane and the gradients of a weighted sum of both."""
    gen = torch.Generator().manual_seed(seed)
    neurons = layer_neurons(LifDiscreteParams(beta=0.85, alpha=alpha, gain=1.2, bias=0.05,
                                              reset=reset), F64)
    shape = (B, N) if constant else (T, B, N)
    current = (torch.randn(shape, generator=gen, dtype=F64) * 1.5).requires_grad_()
    rec = ((torch.randn((N, N), generator=gen, dtype=F64) * 0.4).requires_grad_()
           if recurrent else None)
    g_s, g_m = (torch.randn((T, B, N), generator=gen, dtype=F64) for _ in range(2))
    spikes, membrane, _ = lif_sequence(current, T, rec, neurons, surrogate, membrane=True,
                                       backward=backward)
    ((spikes * g_s).sum() + (membrane * g_m).sum()).backward()
    return spikes.detach(), membrane.detach(), current.grad, rec.grad if recurrent else None


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("recurrent,constant", [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize("surrogate", [Atan(), FastSigmoid(), Triangle(0.8)], ids=repr)
def test_fused_backward_gives_autograds_gradients(reset, alpha, recurrent, constant, surrogate):
    fused = run(surrogate, "fused", reset, alpha, recurrent, constant)
    reference = run(surrogate, "autograd", reset, alpha, recurrent, constant)
    torch.testing.assert_close(fused[0], reference[0], rtol=0, atol=0)  # the same steps
    torch.testing.assert_close(fused[1], reference[1], rtol=0, atol=0)
    for mine, theirs in zip(fused[2:], reference[2:]):
        if theirs is not None:
            torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-12)
    assert 0.05 < fused[0].mean() < 0.95


class SmoothAtan(Atan):
    """The atan stand-in as the forward spike too: the network is then smooth, and the
    surrogate backward is its exact gradient."""

    def spike(self, x):
        return self.smooth(x)


def test_surrogate_gradient_is_the_exact_gradient_of_the_smooth_network():
    # Two layers, the first recurrent; with a smooth spike the step counts every neuron
    # as fired, so the (detached) reset is the same constant whatever the weights.
    gen = torch.Generator().manual_seed(1)
    x = torch.rand((T, B, F), generator=gen, dtype=F64)
    w1 = torch.randn((N, F), generator=gen, dtype=F64) * 0.8
    r1 = torch.randn((N, N), generator=gen, dtype=F64) * 0.3
    w2 = torch.randn((3, N), generator=gen, dtype=F64) * 0.8
    labels = torch.tensor([0, 2, 1])
    neurons = layer_neurons(LifDiscreteParams(beta=0.8, alpha=0.3), F64)
    surrogate = SmoothAtan(alpha=1.0)

    def loss(w1, r1, w2):
        s1, _, _ = lif_sequence(x @ w1.T, T, r1, neurons, surrogate)
        s2, m2, _ = lif_sequence(s1 @ w2.T, T, None, neurons, surrogate, membrane=True)
        return (torch.nn.functional.cross_entropy(m2.sum(0), labels)
                + (s2.sum(0) ** 2).mean())

    params = [p.clone().requires_grad_() for p in (w1, r1, w2)]
    loss(*params).backward()
    with torch.no_grad():
        for k, p in enumerate((w1, r1, w2)):
            for index in [(0, 0), (1, 2), (2, 4)]:
                h = 1e-6
                up, down = [q.clone() for q in (w1, r1, w2)], [q.clone() for q in (w1, r1, w2)]
                up[k][index] += h
                down[k][index] -= h
                numeric = (loss(*up) - loss(*down)) / (2 * h)
                assert float(params[k].grad[index]) == pytest.approx(float(numeric), rel=1e-6,
                                                                     abs=1e-9)


@pytest.mark.parametrize("surrogate", [Atan(), Atan(3.0), FastSigmoid(), FastSigmoid(5.0),
                                       Triangle(), Triangle(0.5)], ids=repr)
def test_each_surrogate_derivative_is_its_stand_ins_slope(surrogate):
    x = torch.linspace(-2, 2, 401, dtype=F64)[1::2]  # off the triangle's kinks at 0, +-w
    h = 1e-6
    numeric = (surrogate.smooth(x + h) - surrogate.smooth(x - h)) / (2 * h)
    torch.testing.assert_close(surrogate.derivative(x), numeric, rtol=1e-6, atol=1e-8)
    assert surrogate.smooth(torch.tensor(-50.0)) < 0.5 < surrogate.smooth(torch.tensor(50.0))
