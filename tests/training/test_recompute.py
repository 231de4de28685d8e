"""``recompute_steps``: a sequence cut into pieces, each continued from the state the
one before ended in and run again in the backward pass, gives the spikes and the
gradients of the sequence in one piece."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurosim.config import load_config  # noqa: E402
from neurosim.errors import ConfigError  # noqa: E402
from neurosim.models.lif_discrete import LifDiscreteParams  # noqa: E402
from neurosim.training.loop import LOSSES  # noqa: E402
from neurosim.training.model import SpikingNetwork  # noqa: E402
from neurosim.training.neurons import layer_neurons, lif_sequence  # noqa: E402
from neurosim.training.surrogates import Atan  # noqa: E402

T, B, N = 11, 3, 6
F64 = torch.float64
# Float64 sums of the same terms in another order (the pieces' weight gradients) agree
# to some 1e-16 relative per term; 1e-12 leaves room for the few hundred terms here.
CLOSE = {"rtol": 1e-12, "atol": 1e-12}


@pytest.mark.parametrize("backward", ["fused", "autograd"])
@pytest.mark.parametrize("reset,alpha,recurrent,constant", [
    ("subtract", 0.0, False, True), ("zero", 0.5, True, False), ("subtract", 0.4, True, True),
])
def test_a_sequence_in_pieces_is_the_sequence_in_one(backward, reset, alpha, recurrent,
                                                     constant):
    gen = torch.Generator().manual_seed(4)
    neurons = layer_neurons(LifDiscreteParams(beta=0.8, alpha=alpha, gain=1.1, bias=0.05,
                                              reset=reset), F64)
    current = torch.randn((B, N) if constant else (T, B, N), generator=gen, dtype=F64) * 1.5
    rec = torch.randn((N, N), generator=gen, dtype=F64) * 0.4 if recurrent else None
    g_s, g_m = (torch.randn((T, B, N), generator=gen, dtype=F64) for _ in range(2))

    def run(cuts):
        inputs = [current.clone().requires_grad_()] + (
            [rec.clone().requires_grad_()] if recurrent else [])
        state, spikes, membranes = None, [], []
        for first, stop in zip([0, *cuts], [*cuts, T]):
            piece = inputs[0] if constant else inputs[0][first:stop]
            s, m, state = lif_sequence(piece, stop - first, inputs[1] if recurrent else None,
                                       neurons, Atan(), start=state, membrane=True,
                                       backward=backward)
            spikes.append(s)
            membranes.append(m)
        spikes, membranes = torch.cat(spikes), torch.cat(membranes)
        ((spikes * g_s).sum() + (membranes * g_m).sum()).backward()
        return [spikes.detach(), membranes.detach()] + [x.grad for x in inputs]

    whole, pieces = run([]), run([1, 5, 9])
    torch.testing.assert_close(pieces[0], whole[0], rtol=0, atol=0)
    torch.testing.assert_close(pieces[1], whole[1], rtol=0, atol=0)
    for mine, reference in zip(pieces[2:], whole[2:]):
        torch.testing.assert_close(mine, reference, **CLOSE)
    assert 0.05 < whole[0].mean() < 0.95


@pytest.mark.parametrize("extra", [
    ["loss=membrane_per_step"],
    ["loss=rate", "encoding.kind=bernoulli_rate", "network.layers.hidden.recurrent=true",
     "network.neuron.params.alpha=0.3"],
], ids=["constant-feedforward", "bernoulli-recurrent-alpha"])
def test_a_network_with_recompute_steps_has_the_defaults_gradients(extra):
    base = ["steps=9", "network.layers.hidden.out_features=24",
            "network.layers.out.in_features=24", "compile=false", *extra]
    gen = torch.Generator().manual_seed(2)
    images = torch.rand((5, 1, 28, 28), generator=gen, dtype=F64)
    if "encoding.kind=bernoulli_rate" in extra:
        images = (torch.rand((9, *images.shape), generator=gen, dtype=F64) < images).to(F64)
    labels = torch.tensor([0, 3, 9, 3, 1])
    runs = []
    for recompute in ([], ["recompute_steps=4"]):
        cfg = load_config("snn_fashion", base + recompute)
        model = SpikingNetwork(cfg, torch.Generator().manual_seed(7), F64)
        out = model(images)
        LOSSES[cfg.loss](*out, labels).backward()
        runs.append((out, {name: p.grad for name, p in model.named_parameters()}))
    (out, grads), (out_r, grads_r) = runs
    for a, b in zip(out, out_r):
        torch.testing.assert_close(b.detach(), a.detach(), rtol=0, atol=0)
    assert grads.keys() == grads_r.keys()
    for name in grads:
        torch.testing.assert_close(grads_r[name], grads[name], **CLOSE)
    assert 0 < out[0].mean() < 1 and grads["layers.hidden.weight"].abs().sum() > 0


@pytest.mark.parametrize("value,message", [
    ("25", "recompute_steps: 25 is not below steps = 25: one piece of all steps saves no memory"),
    ("0", "recompute_steps: Input should be greater than or equal to 1"),
])
def test_a_recompute_steps_that_saves_nothing_is_one_clear_error(value, message):
    with pytest.raises(ConfigError, match=message):
        load_config("snn_fashion", [f"recompute_steps={value}"])

