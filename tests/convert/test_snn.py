"""The converted network's neurons against closed forms: integrate-and-fire with reset
by subtraction, rates within ``max(u, 1 - u) / T`` of the clipped normalised activation
in the first layer (exact), QCFS after ``L`` steps, convergence of deeper layers, and
the two data-based normalisations."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from neurosim.config.convert import Maximum, Percentile  # noqa: E402
from neurosim.convert.ann import QCFS  # noqa: E402
from neurosim.convert.normalise import layer_activations, thresholds  # noqa: E402
from neurosim.convert.snn import ConvertedSNN, snn_accuracy  # noqa: E402


def mlp(sizes: list[int], seed: int, activation=torch.nn.ReLU) -> torch.nn.Sequential:
    """Linear layers ``h0, h1, ...`` with activations ``h0_act, ...``, the last ``out``."""
    torch.manual_seed(seed)
    modules = OrderedDict()
    for i, (n_in, n_out) in enumerate(zip(sizes[:-2], sizes[1:-1])):
        modules[f"h{i}"] = torch.nn.Linear(n_in, n_out)
        modules[f"h{i}_act"] = activation()
    modules["out"] = torch.nn.Linear(sizes[-2], sizes[-1])
    return torch.nn.Sequential(modules)


def first_layer_counts(model, theta: float, u: float, x: torch.Tensor, steps: int):
    snn = ConvertedSNN(model, {"h0": theta}, u)
    return snn.run(x, [steps]).spike_counts["h0"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), theta=st.floats(0.05, 20), u=st.floats(0, 0.999),
       steps=st.integers(1, 300))
def test_first_layer_rates_are_within_the_bound_of_the_clipped_activation(seed, theta, u, steps):
    model = mlp([6, 40, 3], seed)
    x = torch.randn((5, 6), generator=torch.Generator().manual_seed(seed)) * 3
    with torch.no_grad():
        normalised = torch.clamp(model.h0(x) / theta, 0, 1)
    rates = first_layer_counts(model, theta, u, x, steps) / steps
    bound = max(u, 1 - u) / steps
    assert float((rates - normalised).abs().max()) <= bound + 1e-5  # float32 membrane sums


@pytest.mark.parametrize("value, u, expected", [
    (0.7, 0.0, [0, 1, 2, 2, 3, 4, 4, 5]),   # floor(0.7 t): the remainder carries over
    (0.7, 0.5, [1, 1, 2, 3, 4, 4, 5, 6]),   # floor(0.7 t + 1/2): rounded
    (1.5, 0.0, [1, 2, 3, 4, 5, 6, 7, 8]),   # above threshold: one spike per step, no more
    (-0.3, 0.5, [0] * 8),                   # below zero: silent, as the ReLU
])
def test_integrate_and_fire_resets_by_subtraction(value, u, expected):
    # One neuron, weight 1, threshold 1: the count after t steps is the closed form.
    model = mlp([1, 1, 1], 0)
    with torch.no_grad():
        model.h0.weight.fill_(1.0)
        model.h0.bias.zero_()
    x = torch.tensor([[value]])
    counts = [int(first_layer_counts(model, 1.0, u, x, t)[0, 0]) for t in range(1, 9)]
    assert counts == expected


def test_a_spike_stands_for_its_threshold_in_the_next_layer():
    # Scaling a layer's weights and threshold together leaves every spike unchanged.
    model = mlp([8, 30, 20, 4], 3)
    x = torch.rand((16, 8))
    levels = {"h0": 0.6, "h1": 0.4}
    base = ConvertedSNN(model, levels, 0.5).run(x, [50])
    with torch.no_grad():
        model.h0.weight.mul_(3.0)
        model.h0.bias.mul_(3.0)
        model.h1.weight.div_(3.0)  # the next layer sees 3x larger spikes
    scaled = ConvertedSNN(model, {"h0": 1.8, "h1": 0.4}, 0.5).run(x, [50])
    for name in levels:
        torch.testing.assert_close(base.spike_counts[name], scaled.spike_counts[name])
    torch.testing.assert_close(base.scores[50], scaled.scores[50], rtol=1e-4, atol=1e-4)


def test_qcfs_activation_is_the_if_count_after_levels_steps():
    # Dyadic inputs and clip 1: exact in float32, so ties round as floor(x + 1/2) does.
    levels = 8
    model = mlp([1, 64, 2], 0, activation=lambda: QCFS(levels, 1.0))
    with torch.no_grad():
        model.h0.weight.copy_(torch.arange(-8, 56).reshape(64, 1) / 32.0)  # -0.25 ... 1.72
        model.h0.bias.zero_()
    x = torch.ones((1, 1))
    counts = ConvertedSNN(model, {"h0": 1.0}, 0.5).run(x, [levels]).spike_counts["h0"]
    with torch.no_grad():
        torch.testing.assert_close(counts / levels, model.h0_act(model.h0(x)), rtol=0, atol=0)


def test_deeper_layers_and_the_output_converge_to_the_ann():
    # The output layer's score per step tends to the ANN's output with the thresholds'
    # clipping; its error shrinks as the steps grow.
    model = mlp([10, 50, 50, 5], 7)
    x = torch.rand((64, 10))
    levels = thresholds(model, Maximum(kind="max"), x, 64)  # nothing clips
    steps = [8, 64, 512]
    out = ConvertedSNN(model, levels, 0.5).run(x, steps)
    with torch.no_grad():
        ann = model(x)
    errors = [float((out.scores[t] / t - ann).abs().mean()) for t in steps]
    assert errors[1] < errors[0] / 2 and errors[2] < errors[1] / 2
    assert errors[2] < 0.01 * float(ann.abs().mean())


def test_max_and_percentile_normalisation():
    model = mlp([10, 200, 30, 5], 1)
    x = torch.rand((100, 10)) * 2
    acts = layer_activations(model, x, 32)
    assert set(acts) == {"h0", "h1"} and acts["h0"].shape == (100, 200)
    top = thresholds(model, Maximum(kind="max"), x, 32)
    p99 = thresholds(model, Percentile(kind="percentile", percentile=99.0), x, 32)
    p100 = thresholds(model, Percentile(kind="percentile", percentile=100.0), x, 32)
    for name, values in acts.items():
        assert top[name] == pytest.approx(float(values.max())) == pytest.approx(p100[name])
        assert p99[name] == pytest.approx(np.percentile(values.numpy(), 99.0))
        assert p99[name] < top[name]
        assert float((values > p99[name]).float().mean()) <= 0.01 + 1e-9
    # With the maximum nothing clips, so the first layer's rates are within 1/(2T) of
    # the normalised activation everywhere; at the percentile the top 1 % clip: they
    # fire in every step.
    steps = 64
    for levels in (top, p99):
        rates = ConvertedSNN(model, levels, 0.5).run(x, [steps]).spike_counts["h0"] / steps
        normalised = acts["h0"] / levels["h0"]
        assert float((rates - normalised.clamp(max=1)).abs().max()) <= 0.5 / steps + 1e-5
    clipped = acts["h0"] > p99["h0"]
    assert bool(clipped.any()) and bool((rates[clipped] == 1).all())


def test_compiled_steps_spike_as_the_eager_ones():
    model = mlp([12, 40, 20, 3], 5)
    x = torch.rand((8, 12))
    levels = {"h0": 0.5, "h1": 0.3}
    eager = ConvertedSNN(model, levels, 0.5).run(x, [6, 20])
    compiled = ConvertedSNN(model, levels, 0.5, compiled=True).run(x, [6, 20])
    for name in levels:
        torch.testing.assert_close(compiled.spike_counts[name], eager.spike_counts[name],
                                   rtol=0, atol=0)
    for t in (6, 20):
        torch.testing.assert_close(compiled.scores[t], eager.scores[t])


def test_a_short_last_batch_is_scored_on_its_own_samples():
    model = mlp([12, 40, 3], 2)
    x, labels = torch.rand((10, 12)), torch.randint(0, 3, (10,))
    snn = ConvertedSNN(model, {"h0": 0.4}, 0.5)
    accuracy, totals = snn_accuracy(snn, x, labels, [4, 16], 10)
    in_batches, batch_totals = snn_accuracy(snn, x, labels, [4, 16], 4)  # 4, 4 and 2 padded
    assert in_batches == accuracy
    torch.testing.assert_close(batch_totals["h0"], totals["h0"], rtol=0, atol=0)
    assert totals["h0"].shape == (40,)
