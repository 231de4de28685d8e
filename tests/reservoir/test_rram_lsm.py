"""The zero-shot RRAM LSM: LIF difference equation, ideal crossbar == software,
the crossbar read as the backend reads it, random-device weight statistics,
a small run, bad configs."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurosim.config import load_config_text
from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.rram_lsm import EncoderSection
from neurosim.crossbar.random_device import expected_sparsity
from neurosim.errors import ConfigError
from neurosim.reservoir.rram_lsm import (
    CrossbarSynapses,
    DigitalSynapses,
    device_weight_std,
    image_frames,
    run_liquid,
    software_weights,
)

N_IN, N = 30, 12


def _frames(n=5, steps=20, p=0.3, seed=0):
    return np.random.default_rng(seed).random((n, steps, N_IN)) < p


def _weights(scale=0.1, seed=1):
    return software_weights(N_IN + N, N, 6.6e-6, scale, np.random.default_rng(seed))


def test_lif_matches_difference_equation():
    frames, w = _frames(), _weights(scale=0.3)
    counts, raster = run_liquid(frames, DigitalSynapses(w), N, 0.9, 5.0, batch=2, record=True)
    assert 0 < raster.mean() < 0.9  # the neurons do fire, and not always
    for k in range(len(frames)):
        v, s = [0.0] * N, [0] * N
        for t in range(frames.shape[1]):
            inputs = list(frames[k, t]) + s
            current = [sum(inputs[i] * w[i, j] for i in range(N_IN + N)) for j in range(N)]
            v = [0.9 * v[j] * (1 - s[j]) + current[j] for j in range(N)]
            s = [int(v[j] >= 5.0) for j in range(N)]
            assert raster[k, t].tolist() == [bool(x) for x in s]
    np.testing.assert_array_equal(counts, raster.sum(axis=1))


def test_ideal_crossbar_liquid_equals_software_liquid():
    frames, w = _frames(n=8), _weights(scale=0.3)
    cfg = CrossbarConfig(ideal=True, mode="programmed", tile_rows=16, tile_cols=8)
    xbar = CrossbarSynapses(cfg, seed=3, weights=w)
    x = np.concatenate([frames[:, 0], frames[:, 1, :N] > 0], axis=1).astype(float)
    np.testing.assert_allclose(xbar.read(x, np.arange(len(x))), x @ w, rtol=1e-12, atol=1e-12)
    sw, _ = run_liquid(frames, DigitalSynapses(w), N, 0.9, 5.0, record=True)
    hw, _ = run_liquid(frames, xbar, N, 0.9, 5.0, record=True)
    assert sw.sum() > 0
    np.testing.assert_array_equal(hw, sw)
    # the non-ideal chain changes the liquid
    noisy = CrossbarSynapses(cfg.model_copy(update={"ideal": False, "levels": 4}), 3, weights=w)
    assert not np.array_equal(run_liquid(frames, noisy, N, 0.9, 5.0), sw)


def test_crossbar_liquid_reads_the_backends_projection_whatever_the_batch():
    from neurosim.crossbar.projection import CrossbarProjection

    frames, w = _frames(n=7), _weights(scale=0.3)
    cfg = CrossbarConfig(mode="programmed", tile_rows=16, tile_cols=8, read_noise=0.02)
    syn = CrossbarSynapses(cfg, seed=3, weights=w, dtype=np.float32)
    assert type(syn.projection) is CrossbarProjection  # the crossbar backend's too
    whole = run_liquid(frames, syn, N, 0.9, 5.0, batch=7)
    assert syn.samples_read == 7
    again = run_liquid(frames, syn, N, 0.9, 5.0, batch=7)  # new samples: new read noise
    assert syn.samples_read == 14 and not np.array_equal(again, whole)
    # Read noise is keyed by sample and step: batches and threads change nothing.
    np.testing.assert_array_equal(run_liquid(frames, syn, N, 0.9, 5.0, batch=3, first_sample=0),
                                  whole)
    quiet = CrossbarSynapses(cfg.model_copy(update={"read_noise": 0.0}), 3, weights=w,
                             dtype=np.float32)
    assert not np.array_equal(run_liquid(frames, quiet, N, 0.9, 5.0), whole)


def test_random_device_read_is_scaled_conductance():
    cfg = CrossbarConfig(ideal=True, mode="random_device", tile_rows=16, tile_cols=8)
    syn = CrossbarSynapses(cfg, seed=5, shape=(N_IN + N, N), scale=0.2)
    x = (_frames(n=6)[:, 0].astype(float))
    x = np.concatenate([x, np.ones((6, N))], axis=1)
    expected = x @ (syn.conductance_weights() * 1e6 * 0.2)
    np.testing.assert_allclose(syn.read(x, np.arange(6)), expected, rtol=1e-10, atol=1e-12)


def test_random_device_weight_statistics():
    cfg = CrossbarConfig(mode="random_device")  # 256 x 256 tiles, the task's defaults
    shape = (456, 200)
    g = CrossbarSynapses(cfg, seed=11, shape=shape, scale=0.1).conductance_weights()
    assert g.shape == shape
    n = g.size
    std = device_weight_std(cfg)
    assert std == pytest.approx(6.6e-6, rel=0.02)  # the paper's ~6.6 uS
    assert abs(g.mean()) < 4 * std / np.sqrt(n)  # zero mean
    assert g.std() == pytest.approx(std, rel=0.02)
    p0 = expected_sparsity(cfg.random_device)
    assert np.mean(g == 0) == pytest.approx(p0, abs=4 * np.sqrt(p0 * (1 - p0) / n))
    w = software_weights(*shape, std, 0.1, np.random.default_rng(0))
    assert w.std() == pytest.approx(std * 1e6 * 0.1, rel=0.02)
    assert abs(w.mean()) < 4 * w.std() / np.sqrt(n)


def test_frames_polarities_and_bins():
    img = np.zeros((28, 28), np.uint8)
    img[8:20, 10:18] = 255
    both = image_frames(img, EncoderSection(polarity="both"))
    merged = image_frames(img, EncoderSection(polarity="merged"))
    on = image_frames(img, EncoderSection(polarity="on"))
    assert both.shape == (50, 512) and merged.shape == (50, 256)
    np.testing.assert_array_equal(merged, both[:, :256] | both[:, 256:])
    np.testing.assert_array_equal(on, both[:, :256])
    assert both[:, :256].any() and both[:, 256:].any()
    crop = image_frames(img, EncoderSection(frame="crop"))
    assert crop.shape == (50, 256) and crop.any()


_SMALL = """
task: rram_lsm
threads: 1
data: {train: 200, validation: 100, test: 100}
readout: {epochs: 15}
"""


def test_small_run_above_chance(tmp_path):
    from neurosim.reservoir.rram_lsm_run import run_task

    cfg = load_config_text(_SMALL, "small")
    out = tmp_path / "small.h5"
    text = run_task(cfg, output=str(out), threads=1, quiet=True, plot=False)
    assert "software" in text and "crossbar" in text and str(out) in text
    with h5py.File(out) as f:
        assert f.attrs["format"] == "neurosim-rram-lsm-result"
        assert "task: rram_lsm" in f.attrs["config"]
        for src in ("software", "crossbar"):
            acc = f[f"accuracy/{src}"].attrs
            assert acc["ridge_test"] > 0.4 and acc["softmax_test"] > 0.4  # chance is 0.1
            assert f[f"features/{src}/test"].shape == (100, 200)
        assert f["labels/train"].shape == (200,)


@pytest.mark.parametrize("text, message", [
    ("liquid: {neurons: 10, leak: 0.5}", "liquid.leak: unknown key"),
    ("encoder: {steps: 200}", "encoder.steps: 200 bins for 51 ms"),
    ("encoder: {saccade: 2.5 ms}", "encoder.saccade: 2.5 ms is not a whole number"),
    ("crossbar: {g_min: -1 uS}", "crossbar.g_min: negative conductance"),
    ("crossbar: {mode: magic}", "crossbar.mode"),
    ("encoder: {frame: zoom}", "encoder.frame"),
    ("data: {train: 0}", "data.train"),
])
def test_bad_config_names_the_key(text, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config_text("task: rram_lsm\n" + text, "bad")


def test_crossbar_section_keeps_random_device_mode():
    cfg = load_config_text("task: rram_lsm\ncrossbar: {read_noise: 0.01}", "x")
    assert cfg.crossbar.mode == "random_device" and cfg.crossbar.read_noise == 0.01


def test_builtin_config_validates_and_round_trips():
    from pathlib import Path

    from neurosim.config import dump_config, load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "rram_lsm.yaml")
    assert (cfg.liquid.neurons, cfg.encoder.steps, cfg.encoder.n_inputs) == (200, 50, 256)
    assert (cfg.liquid.decay, cfg.liquid.threshold) == (0.9, 5.0)
    assert cfg.crossbar.mode == "random_device"
    assert load_config_text(dump_config(cfg), cfg.name) == cfg


def test_more_samples_than_the_data_set_holds_is_one_data_error(tmp_path):
    import sys
    from pathlib import Path

    from neurosim.errors import DataError
    from neurosim.reservoir.rram_lsm_run import load_events

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
    from test_fashion_mnist import write_dataset

    write_dataset(tmp_path, n_train=12, n_test=6)
    cfg = load_config_text(f"task: rram_lsm\ndata: {{path: {tmp_path}, train: 8, validation: 2, "
                           "test: 7}\n", "small")
    with pytest.raises(DataError, match="data.test: 7 samples asked, the data set has 6"):
        load_events(cfg, threads=1)
