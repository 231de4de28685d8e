"""``task: convert`` end to end on a tiny generated data set: a trained CNN keeps its
accuracy, QCFS thresholds are its clip values, loaded state dicts, the result file,
the command line, and bad input as one clear error."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.cli import main  # noqa: E402
from neurosim.config import load_config  # noqa: E402
from neurosim.convert.ann import build_ann  # noqa: E402
from neurosim.convert.result import ConvertResult  # noqa: E402
from neurosim.convert.task import convert  # noqa: E402
from neurosim.errors import ConfigError, DataError  # noqa: E402
from neurosim.io import load  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_fashion_mnist import write_pattern_dataset  # noqa: E402


@pytest.fixture(scope="module")
def patterns(tmp_path_factory):
    """Ten learnable classes (fixed random patterns, 5 % pixel noise)."""
    folder = tmp_path_factory.mktemp("patterns")
    write_pattern_dataset(folder, n_train=600, n_test=100, seed=1)
    return folder


def tiny(data: Path, *extra: str) -> list[str]:
    """convert_fashion shrunk: conv 4 - avgpool - conv 8 - avgpool - fc, 480 samples."""
    return [f"data.path={data}", "data.train=480", "data.test=100", "ann.epochs=2",
            "ann.batch_size=20", "ann.optimizer={kind: adam, lr: 0.003}", "ann.layers.conv1.out_channels=4",
            "ann.layers.conv2.in_channels=4", "ann.layers.conv2.out_channels=8",
            "ann.layers.out.in_features=392", "conversion.calibration=100",
            "conversion.steps=[4, 16, 32]", "threads=1", *extra]


@pytest.fixture(scope="module")
def converted(patterns) -> ConvertResult:
    return convert(load_config("convert_fashion", tiny(patterns)))


def test_a_trained_cnn_keeps_its_accuracy(converted):
    assert converted.ann_accuracy > 0.8  # chance: 0.1
    assert list(converted.steps) == [4, 16, 32]
    assert converted.snn_accuracy[-1] >= converted.ann_accuracy - 0.02
    assert set(converted.thresholds) == {"conv1", "conv2"}
    assert all(0 < rate < 1 for rate in converted.firing_rates.values())
    assert len(converted.history["loss"]) == 2


def test_the_same_seed_gives_the_same_result(patterns, converted):
    again = convert(load_config("convert_fashion", tiny(patterns)))
    np.testing.assert_array_equal(again.snn_accuracy, converted.snn_accuracy)
    assert again.thresholds == converted.thresholds
    for name, values in converted.weights.items():
        np.testing.assert_array_equal(again.weights[name], values)


def test_qcfs_thresholds_are_the_trained_clip_values(patterns):
    result = convert(load_config("convert_fashion", tiny(
        patterns, "ann.activation=qcfs", "ann.levels=4", "ann.initial_clip=2",
        "conversion.normalisation={kind: clip}", "conversion.steps=[4, 8]")))
    assert result.thresholds == {name: pytest.approx(float(result.weights[f"{name}_act.clip"]))
                                 for name in ("conv1", "conv2")}
    assert result.thresholds["conv1"] != 2.0  # trained, not the initial value
    assert result.ann_accuracy > 0.8
    assert result.snn_accuracy[-1] >= result.ann_accuracy - 0.05


def test_a_loaded_state_dict_converts_as_the_trained_one(patterns, converted, tmp_path):
    weights = tmp_path / "ann.pt"
    torch.save({k: torch.from_numpy(v) for k, v in converted.weights.items()}, weights)
    loaded = convert(load_config("convert_fashion", tiny(patterns, f"ann.weights={weights}")))
    assert loaded.ann_accuracy == converted.ann_accuracy
    np.testing.assert_array_equal(loaded.snn_accuracy, converted.snn_accuracy)
    assert loaded.history == {} and loaded.meta["weights_loaded"]


def test_neurosim_convert_end_to_end(patterns, converted, tmp_path, capsys):
    out = tmp_path / "c.h5"
    args = ["convert", "convert_fashion", "-o", str(out)]
    for item in tiny(patterns):
        args += ["--set", item]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "ANN test accuracy" in text and "   32 " in text and f"result: {out}" in text
    result = load(out)
    assert isinstance(result, ConvertResult)
    np.testing.assert_array_equal(result.snn_accuracy, converted.snn_accuracy)
    assert result.thresholds == pytest.approx(converted.thresholds)
    assert result.counters == converted.counters and result.test_samples == 100
    assert set(result.counters["snn"]["projections"]) == {"conv1", "conv2", "out"}
    assert main(["energy", str(out), "--hardware", "gpu", "--hardware", "loihi",
                 "--no-plot"]) == 0
    text = capsys.readouterr().out
    assert "energy per inference over 100 test samples" in text
    assert "gpu: the SNN takes" in text and "loihi: no SNN/ANN ratio" in text
    assert main(args) == 2  # the result exists: kept unless --force
    assert "already exists" in capsys.readouterr().err
    assert main(["validate", "convert_fashion"]) == 0
    assert "IF neurons with reset by subtraction" in capsys.readouterr().out


def _state_dict_file(tmp_path: Path, state) -> Path:
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    return path


def test_state_dicts_that_do_not_fit_are_refused(patterns, tmp_path):
    cfg = load_config("convert_fashion", tiny(patterns))
    good = build_ann(cfg).state_dict()
    cases = {
        "missing conv2.bias (8)": {k: v for k, v in good.items() if k != "conv2.bias"},
        "conv1.weight is 4x1x5x5, the config's is 4x1x3x3":
            {**good, "conv1.weight": torch.zeros(4, 1, 5, 5)},
        "unexpected bn1.running_mean (batch normalisation is not converted":
            {**good, "bn1.running_mean": torch.zeros(4)},
    }
    for message, state in cases.items():
        path = _state_dict_file(tmp_path, state)
        with pytest.raises(ConfigError, match="does not fit ann.layers: .*" + re.escape(message)):
            convert(load_config("convert_fashion", tiny(patterns, f"ann.weights={path}")))


@pytest.mark.parametrize("content, message", [
    (b"not a torch file", "is not a torch state-dict file"),
    ([1, 2, 3], "holds a list, not a state dict"),
])
def test_files_that_are_no_state_dict_are_refused(patterns, tmp_path, content, message):
    path = tmp_path / "x.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(DataError, match=message):
        convert(load_config("convert_fashion", tiny(patterns, f"ann.weights={path}")))


@pytest.mark.parametrize("override, message", [
    ("ann.layers.pool1.type=maxpool2d", "ann.layers.pool1.type: maxpool2d: max pooling has no "
                                        "integrate-and-fire counterpart"),
    ("ann.activation=sigmoid", "ann.activation: activation 'sigmoid' cannot be converted"),
    ("conversion.steps=[0, 8]", "conversion.steps.0: a step count must be at least 1, got 0"),
    ("conversion.steps=[16, 8]", "conversion.steps.1: steps must increase: 8 after 16"),
    ("conversion.normalisation={kind: clip}", "clip needs ann.activation: qcfs"),
    ("ann.layers.conv2.in_channels=16", "ann.layers.conv2.in_channels: conv2d layer 'conv2' "
                                        "takes 16 channels, but layer 'pool1' gives 32x14x14"),
    ("ann.layers.out.out_features=7", "has 7 outputs, but fashion_mnist has 10 classes"),
    ("ann.layers.conv1_act={type: flatten}", "'conv1_act' is the name of layer 'conv1'"),
])
def test_bad_configs_are_one_clear_error(tmp_path, capsys, override, message):
    out = tmp_path / "c.h5"
    assert main(["convert", "convert_fashion", "--set", override, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_neurosim_convert_takes_only_convert_configs(capsys):
    assert main(["convert", "cuba"]) == 2
    assert "neurosim convert needs a 'task: convert' config" in capsys.readouterr().err


def test_a_missing_state_dict_file_fails_before_the_data_is_read(tmp_path, capsys):
    # data.path does not exist either: the weights are checked first.
    args = ["convert", "convert_fashion", "--set", f"ann.weights={tmp_path / 'none.pt'}",
            "--set", f"data.path={tmp_path / 'no-data'}", "-o", str(tmp_path / "c.h5")]
    assert main(args) == 2
    assert "ann.weights: " in capsys.readouterr().err and not (tmp_path / "c.h5").exists()
