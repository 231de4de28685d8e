"""``task: train`` end to end on tiny generated data sets: learning, resume, errors, CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.cli import main  # noqa: E402
from neurosim.config import load_config, load_config_text  # noqa: E402
from neurosim.errors import ConfigError  # noqa: E402
from neurosim.io import load  # noqa: E402
from neurosim.training import neurons  # noqa: E402
from neurosim.training.loop import Trainer, load_samples  # noqa: E402
from neurosim.training.result import TrainResult  # noqa: E402
from neurosim.training.task import train_task  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_fashion_mnist import write_pattern_dataset  # noqa: E402


@pytest.fixture(scope="module")
def patterns(tmp_path_factory):
    """Ten learnable classes (fixed random patterns, 5 % pixel noise)."""
    folder = tmp_path_factory.mktemp("patterns")
    write_pattern_dataset(folder, n_train=600, n_test=200, seed=0)
    return folder


def tiny(data: Path, *extra: str) -> list[str]:
    """snn_fashion shrunk: 784-64-10, 10 steps, 400 training samples."""
    return [f"data.path={data}", "data.train=400", "data.validation=100", "data.test=200",
            "batch_size=50", "steps=10", "compile=false", "network.layers.hidden.out_features=64",
            "network.layers.out.in_features=64", *extra]


@pytest.mark.parametrize("extra", [
    [],
    ["loss=rate", "encoding.kind=bernoulli_rate", "surrogate={kind: fast_sigmoid}"],
    ["loss=membrane", "network.layers.hidden.recurrent=true", "surrogate={kind: triangle}",
     "network.neuron.params.reset=zero"],
    ["loss=membrane", "optimizer={kind: sgd, lr: 0.005, momentum: 0.9}", "recompute_steps=3"],
], ids=["membrane_per_step", "rate-bernoulli", "membrane-recurrent-zero", "sgd-recompute"])
def test_a_tiny_snn_learns_well_above_chance(patterns, extra):
    cfg = load_config("snn_fashion", tiny(patterns, "epochs=2", *extra))
    trainer = Trainer(cfg, load_samples(cfg))
    first = trainer.train_epoch()
    second = trainer.train_epoch()
    assert second["loss"] < first["loss"]
    assert min(trainer.evaluate("test")) > 0.5  # chance: 0.1


def test_resumed_training_gives_the_weights_of_an_unbroken_run(patterns, tmp_path):
    args = tiny(patterns, "encoding.kind=bernoulli_rate", "data.train=200")
    straight = tmp_path / "straight.h5"
    train_task(load_config("snn_fashion", [*args, "epochs=2"]), output=str(straight),
               threads=1, quiet=True)
    broken = tmp_path / "broken.h5"
    train_task(load_config("snn_fashion", [*args, "epochs=1"]), output=str(broken),
               threads=1, quiet=True)
    train_task(load_config("snn_fashion", [*args, "epochs=2"]), output=str(broken),
               threads=1, quiet=True, resume=True)
    a, b = load(straight), load(broken)
    assert b.meta["resumed_from_epoch"] == 1 and len(b.history["loss"]) == 2
    assert a.weights.keys() == b.weights.keys()
    for name in a.weights:
        np.testing.assert_array_equal(a.weights[name], b.weights[name])
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])


def test_a_checkpoint_of_another_network_is_refused(patterns, tmp_path):
    out = tmp_path / "run.h5"
    train_task(load_config("snn_fashion", tiny(patterns, "data.train=50")), output=str(out),
               threads=1, quiet=True)
    other = load_config("snn_fashion", tiny(patterns, "data.train=50", "epochs=2",
                                            "network.layers.hidden.out_features=32",
                                            "network.layers.out.in_features=32"))
    with pytest.raises(ConfigError, match="different training run: network.layers.hidden."
                                          "out_features: checkpoint 64, config 32"):
        train_task(other, output=str(out), threads=1, quiet=True, resume=True)


@pytest.mark.parametrize("override,message", [
    ("network.layers.out.in_features=63",
     "network.layers.out.in_features: linear layer 'out' takes 63 inputs, but layer 'hidden' "
     "gives 64"),
    ("network.layers.hidden.in_features=700",
     "linear layer 'hidden' takes 700 inputs, but layer 'flatten' gives 784"),
    ("network.layers.out.out_features=12", "'out' has 12 neurons, but fashion_mnist has 10"),
    ("network.layers.flatten={type: linear, in_features: 784, out_features: 784}",
     "linear layer 'flatten' gets 1x28x28 inputs: a flatten layer must come before it"),
    ("surrogate.kind=sigmoid",
     "surrogate.kind: unknown kind 'sigmoid' \\(one of atan, fast_sigmoid, triangle\\)"),
    ("network.layers.hidden.neuron={params: {t_ref: 1 ms}}",
     "network.layers.hidden.neuron.params.t_ref: must be 0 s"),
    ("network.layers.hidden.type=conv", "network.layers.hidden.type: unknown type 'conv'"),
])
def test_bad_configs_are_one_clear_error(patterns, override, message):
    with pytest.raises(ConfigError, match=message):
        load_config("snn_fashion", tiny(patterns, override))


def test_neurosim_train_end_to_end(patterns, tmp_path, capsys):
    out = tmp_path / "cli.h5"
    args = [f"--set={s}" for s in tiny(patterns, "epochs=2")]
    assert main(["train", "snn_fashion", *args, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "epoch 2:" in text and "test accuracy" in text and str(out) in text
    result = load(out)
    assert isinstance(result, TrainResult) and len(result.history["validation_count"]) == 2
    assert result.weights["layers.hidden.weight"].shape == (64, 784)
    assert load_config_text(result.config_text) == load_config("snn_fashion",
                                                                tiny(patterns, "epochs=2"))
    assert (tmp_path / "cli.ckpt").is_file()
    assert main(["train", "snn_fashion", *args, "-o", str(tmp_path / "x.h5"), "--resume"]) == 2
    assert "no checkpoint to resume from" in capsys.readouterr().err
    assert main(["train", "cuba"]) == 2
    assert "needs a 'task: train' config" in capsys.readouterr().err


def test_compiled_steps_spike_and_learn_as_the_eager_ones(patterns, monkeypatch):
    # Five steps per compiled call: the 10 steps take two calls (the state passed from
    # one to the next, forward and backward), and compile in seconds.
    monkeypatch.setattr(neurons, "_UNROLL", 5)
    runs = []
    for compiled in ("false", "true"):
        cfg = load_config("snn_fashion", tiny(patterns, "data.train=100", f"compile={compiled}",
                                              "encoding.kind=bernoulli_rate",
                                              "network.layers.hidden.recurrent=true",
                                              "network.neuron.params.alpha=0.3"))
        trainer = Trainer(cfg, load_samples(cfg))
        trainer.train_epoch()
        runs.append(trainer)
    for a, b in zip(runs[0].model.parameters(), runs[1].model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert runs[0].evaluate("test") == runs[1].evaluate("test")
