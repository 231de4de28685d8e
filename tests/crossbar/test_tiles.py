"""Mapping onto tiles, the analog matrix-vector product, random devices, bad input."""

import numpy as np
import pytest
from conftest import assert_exact_product, random_layers
from hypothesis import given, settings

from neurosim.config.crossbar import RandomDevice
from neurosim.config.crossbar import MAX_TILE
from neurosim.crossbar import CrossbarArray, device_params, program
from neurosim.crossbar.random_device import expected_sparsity, expected_weight_std, random_pairs
from neurosim.crossbar.tiles import target_pairs, to_tiles
from neurosim.errors import ConfigError


@settings(max_examples=25, deadline=None)
@given(random_layers(max_in=70, max_out=40, max_batch=5))
def test_ideal_crossbar_equals_the_exact_matrix_vector_product(layer):
    seed, rng, w, batch = layer
    x = rng.normal(size=(batch, w.shape[0]))
    xbar = CrossbarArray(w, device_params(ideal=True, tile_rows=16, tile_cols=8), seed=seed)
    assert_exact_product(xbar.matvec(x), x, w)


def test_differential_pairs_encode_each_tile_scaled_to_its_largest_weight():
    w = np.array([[2.0, -1.0, 0.0], [0.5, 0.0, -4.0]])
    tiles = to_tiles(w, 2, 2)  # tiles: columns 0-1 and column 2 (padded)
    pairs, w_max = target_pairs(tiles, 1e-6, 11e-6)
    np.testing.assert_array_equal(w_max, [2.0, 4.0])
    np.testing.assert_allclose(pairs[0, 0], [[11e-6, 1e-6], [3.5e-6, 1e-6]])
    np.testing.assert_allclose(pairs[1, 0], [[1e-6, 6e-6], [1e-6, 1e-6]])
    assert pairs.min() >= 1e-6 and pairs.max() <= 11e-6
    back = (pairs[0] - pairs[1]) * (w_max / 10e-6)[:, None, None]
    np.testing.assert_allclose(back[0], w[:, :2], atol=1e-15)
    np.testing.assert_allclose(back[1][:, 0], w[:, 2], atol=1e-15)


def test_quantised_crossbar_error_shrinks_with_levels():
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(64, 32)), rng.random((20, 64))
    errors = []
    for levels in (4, 16, 64, 256):
        cfg = device_params(ideal=True).model_copy(update={"ideal": False, "levels": levels,
                                                           "programming_noise": 0, "d2d_variation": 0,
                                                           "c2c_variation": 0, "read_noise": 0,
                                                           "stuck_on": 0, "stuck_off": 0,
                                                           "dac_bits": None, "adc_bits": None,
                                                           "wire_resistance": 0})
        errors.append(np.abs(CrossbarArray(w, cfg).matvec(x) - x @ w).mean())
    assert errors == sorted(errors, reverse=True) and errors[-1] < 0.02 * errors[0]


def test_read_noise_stream_is_apart_from_the_programming_and_device_streams():
    # program() seeds programming and device properties from the children
    # SeedSequence(seed).spawn(2) (numpy: child k has spawn_key (k,)); the
    # read-noise key must come from neither, for any seed.
    for seed in (0, 1, 3, 2**31 + 5):
        xbar = CrossbarArray(np.ones((3, 2)), device_params(), seed=seed)
        used = {int(child.generate_state(1, np.uint64)[0])
                for child in np.random.SeedSequence(seed).spawn(2)}
        assert int(xbar._key) not in used
        # ...and differs from every other seed's.
        assert xbar._key != CrossbarArray(np.ones((3, 2)), device_params(), seed=seed + 1)._key


def test_repeated_reads_differ_only_by_read_noise():
    w = np.random.default_rng(1).normal(size=(32, 8))
    xbar = CrossbarArray(w, device_params(adc_bits=None), seed=3)
    x = np.ones(32)
    a, b = xbar.matvec(x), xbar.matvec(x)
    assert not np.array_equal(a, b)
    quiet = CrossbarArray(w, device_params(adc_bits=None, read_noise=0), seed=3)
    np.testing.assert_array_equal(quiet.matvec(x), quiet.matvec(x))


def test_random_device_weights_zero_mean_reported_std_and_sparsity():
    device = RandomDevice()
    pairs = random_pairs((400, 500), device, np.random.default_rng(2))
    diff = pairs[0] - pairs[1]
    n = diff.size
    assert expected_weight_std(device) == pytest.approx(6.6e-6, rel=0.01)
    assert abs(diff.mean()) < 5 * diff.std() / np.sqrt(n)
    assert diff.std() == pytest.approx(expected_weight_std(device), rel=0.01)
    zero = np.mean(diff == 0)
    p0 = expected_sparsity(device)
    assert abs(zero - p0) < 5 * np.sqrt(p0 * (1 - p0) / n)


def test_random_device_voltage_sets_the_sparsity():
    fractions = []
    for volts in ("2.0 V", "2.4 V", "2.6 V", "3.0 V"):
        device = RandomDevice(set_voltage=volts)
        diff = np.subtract(*random_pairs((200, 200), device, np.random.default_rng(3)))
        fractions.append(np.mean(diff == 0))
        assert fractions[-1] == pytest.approx(expected_sparsity(device), abs=0.01)
    assert fractions == sorted(fractions, reverse=True)
    assert fractions[0] > 0.95 and fractions[-1] < 0.001


def test_random_device_mode_programs_only_used_cells():
    w = np.array([[1.0, 0.0], [0.0, -1.0]])
    tm = program(w, device_params(mode="random_device", wire_resistance="0 Ohm"), seed=4)
    assert tm.g_diff[0, 0, 1] == 0 and tm.g_diff[0, 1, 0] == 0


@pytest.mark.parametrize("settings_, message", [
    ({"tile_rows": MAX_TILE + 1}, "tile_rows: tile larger than allowed"),
    ({"g_min": "-1 uS"}, "g_min: negative conductance"),
    ({"g_min": "20 uS"}, "g_max: must be larger than g_min"),
    ({"levels": 1}, "levels"),
    ({"stuck_on": 0.6, "stuck_off": 0.6}, "stuck_on + stuck_off"),
    ({"adc_bitz": 4}, "adc_bitz: unknown key"),
])
def test_bad_device_settings_give_one_clear_error(settings_, message):
    with pytest.raises(ConfigError, match=r"invalid config 'crossbar' \(1 problem\)") as err:
        device_params(**settings_)
    assert message in str(err.value)


def test_bad_inputs_give_one_clear_error():
    xbar = CrossbarArray(np.ones((4, 2)))
    with pytest.raises(ConfigError, match="input has 3 entries, the matrix 4 rows"):
        xbar.matvec(np.ones(3))
    with pytest.raises(ConfigError, match="2-D matrix"):
        CrossbarArray(np.ones(4))


def test_drift_scales_outputs_and_compensation_undoes_the_mean():
    rng = np.random.default_rng(5)
    w, x = rng.normal(size=(40, 12)), rng.normal(size=(3, 40))
    drift = dict(ideal=False, levels=None, programming_noise=0, d2d_variation=0, c2c_variation=0,
                 read_noise=0, stuck_on=0, stuck_off=0, dac_bits=None, adc_bits=None,
                 wire_resistance="0 Ohm", g_min="0 S", drift_nu=0.1, read_time="86400 s")
    factor = (86_400 / 20) ** -0.1
    raw = CrossbarArray(w, device_params(**drift, drift_compensation=False)).matvec(x)
    np.testing.assert_allclose(raw, factor * (x @ w), rtol=1e-10, atol=1e-12)
    fixed = CrossbarArray(w, device_params(**drift)).matvec(x)
    np.testing.assert_allclose(fixed, x @ w, rtol=1e-10, atol=1e-12)
