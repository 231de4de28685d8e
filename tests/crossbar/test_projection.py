"""Spike-driven reads of the crossbar projection: the exact product when
ideal, one result whatever the storage, the batch or the read order."""

import numpy as np
import pytest
from conftest import assert_exact_product, random_layers
from hypothesis import given, settings

from neurosim.crossbar import device_params, projection
from neurosim.crossbar.periphery import noise_key
from neurosim.crossbar.projection import CELL0, CrossbarProjection, Matrix


def _sparse_weights(rng, n_in, n_out, density):
    w = rng.normal(size=(n_in, n_out)) * (rng.random((n_in, n_out)) < density)
    return w


def _rows(rng, batch, n_in, p):
    return (rng.random((batch, n_in)) < p).astype(np.float32)


@settings(max_examples=20, deadline=None)
@given(random_layers(max_in=50, max_out=30, max_batch=6))
def test_ideal_read_is_the_sum_of_the_driven_rows(layer):
    seed, rng, w, batch = layer
    x = _rows(rng, batch, w.shape[0], 0.4)
    cfg = device_params(ideal=True, tile_rows=16, tile_cols=8)
    xbar = CrossbarProjection(cfg, [Matrix(w, None, seed)], np.float64)
    assert_exact_product(xbar.read(x, np.arange(batch)), x, w)


@pytest.mark.parametrize("settings_", [
    dict(ideal=True),
    dict(),  # the default chain: noise and ADC on every read
    dict(adc_bits=None),
    dict(read_noise=0.0),
    # programming ideal (zero cells), periphery not
    dict(levels=None, programming_noise=0, d2d_variation=0, c2c_variation=0, stuck_on=0,
         stuck_off=0, wire_resistance="0 Ohm"),
], ids=["ideal", "defaults", "no_adc", "no_read_noise", "ideal_programming"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_and_dense_storage_read_the_same_bits(settings_, dtype, monkeypatch):
    rng = np.random.default_rng(4)
    w = _sparse_weights(rng, 70, 45, 0.05)
    cfg = device_params(tile_rows=16, tile_cols=8, **settings_)
    x = _rows(rng, 40, 70, 0.08)
    x[:, 3] = 1  # rows 3 and 5 share a tile row: several driven rows in one read
    x[::2, 5] = 1
    reads = np.arange(40) * 7 + 3
    out = {}
    for layout, fraction in (("dense", 0.0), ("sparse", 1.0)):
        monkeypatch.setattr(projection, "SPARSE_FRACTION", fraction)
        xbar = CrossbarProjection(cfg, [Matrix(w, None, 11)], dtype, noise_key(11, 2))
        assert (xbar.mats[0, CELL0] >= 0) == (layout == "dense")  # the path really taken
        out[layout] = (xbar.read(x, reads), xbar.counts.copy(), xbar.conductances())
    np.testing.assert_array_equal(out["sparse"][0], out["dense"][0])
    np.testing.assert_array_equal(out["sparse"][1], out["dense"][1])
    np.testing.assert_array_equal(out["sparse"][2], out["dense"][2])


def test_mostly_zero_cells_are_kept_sparse():
    rng = np.random.default_rng(0)
    w = _sparse_weights(rng, 64, 64, 0.02)
    ideal = CrossbarProjection(device_params(ideal=True, tile_rows=16, tile_cols=16),
                               [Matrix(w, None, 1)])
    noisy = CrossbarProjection(device_params(tile_rows=16, tile_cols=16), [Matrix(w, None, 1)])
    assert ideal.mats[0, CELL0] < 0 and ideal.sp_val.size == np.count_nonzero(w)
    assert noisy.mats[0, CELL0] >= 0  # programming noise: every cell conducts


def test_read_noise_depends_on_the_read_number_only():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(40, 30))
    cfg = device_params(adc_bits=None, read_noise=0.05, tile_rows=16, tile_cols=8)
    xbar = CrossbarProjection(cfg, [Matrix(w, None, 5)], np.float32, noise_key(5, 2))
    x = _rows(rng, 9, 40, 0.3)
    reads = rng.permutation(100)[:9]
    whole = xbar.read(x, reads)
    order = np.array([4, 0, 8, 2, 6, 1, 3, 7, 5])
    parts = np.concatenate([xbar.read(x[order[:4]], reads[order[:4]]),
                            xbar.read(x[order[4:]], reads[order[4:]])])
    np.testing.assert_array_equal(parts, whole[order])
    other = xbar.read(x, reads + 1)
    assert not np.array_equal(other, whole)
    quiet = CrossbarProjection(cfg.model_copy(update={"read_noise": 0.0}), [Matrix(w, None, 5)],
                               np.float32)
    assert np.abs(whole - quiet.read(x, reads)).max() > 0


def test_reads_count_tile_work():
    # 20 x 10 on 8 x 4 tiles: 3 tile rows, 3 tile columns (4 + 4 + 2 columns).
    w = np.ones((20, 10))
    xbar = CrossbarProjection(device_params(ideal=True, tile_rows=8, tile_cols=4), [Matrix(w, None, 0)])
    x = np.zeros((2, 20), np.float32)
    x[0, [0, 1, 17]] = 1  # tile rows 0 (two rows) and 2
    x[1, 9] = 1  # tile row 1
    xbar.read(x, np.arange(2))
    reads, rows, cols = xbar.counts[0]
    assert reads == 3 * 3 and rows == 3 * (2 + 1 + 1) and cols == 3 * 10
