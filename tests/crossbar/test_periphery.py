"""DAC, ADC and read noise against their definitions."""

import subprocess
import sys

import numpy as np
from scipy import stats

from neurosim.crossbar import device_params
from neurosim.config.crossbar import MAX_TILE
from neurosim.crossbar.periphery import (Periphery, adc, noise_pool, noise_window,
                                         normal_quantiles, read_out)
from neurosim.crossbar.tiles import _read_out_batch

TABLE = normal_quantiles()
POOL = noise_pool()


def noise(key, reads, columns, std=1.0, first_read=0):
    """Read noise alone: ``reads x columns`` draws (zero signal, no ADC)."""
    out = np.zeros((reads, columns))
    _read_out_batch(out, np.full(reads, std), np.uint64(key), first_read, 0.0, 0, POOL)
    return out


def test_dac_levels_and_clipping():
    per = Periphery(dac_bits=4, adc_bits=None, adc_full_scale=1.0, read_std=0.0)
    x = np.linspace(-1.5, 1.5, 3001)
    q = per.dac(x)
    levels = np.arange(-7, 8) / 7  # 2**4 - 1 codes
    np.testing.assert_array_equal(np.unique(q), levels)
    inside = np.abs(x) <= 1
    assert np.abs(q[inside] - x[inside]).max() <= 0.5 / 7 + 1e-15
    np.testing.assert_array_equal(q[x > 1], 1.0)
    np.testing.assert_array_equal(q[x < -1], -1.0)
    np.testing.assert_array_equal(per.ideal().dac(x), x)


def test_adc_step_and_clipping():
    per = Periphery(dac_bits=None, adc_bits=8, adc_full_scale=2.0, read_std=0.0)
    assert per.adc_half == 127 and per.adc_step == 2.0 / 127
    acc = np.linspace(-3, 3, 6001)
    out = acc.copy()
    read_out(out, out.size, 0.0, np.uint64(0), 0, per.adc_step, per.adc_half, POOL)
    codes = out / per.adc_step
    np.testing.assert_allclose(codes, np.rint(codes), atol=1e-9)
    inside = np.abs(acc) <= 2.0
    assert np.abs(out[inside] - acc[inside]).max() <= per.adc_step / 2 + 1e-12
    np.testing.assert_allclose(out[acc > 2.0], 2.0)
    np.testing.assert_allclose(out[acc < -2.0], -2.0)


def test_ideal_adc_and_no_noise_change_nothing():
    acc = np.random.default_rng(0).normal(size=1000)
    out = acc.copy()
    read_out(out, out.size, 0.0, np.uint64(0), 0, 0.0, 0, POOL)
    np.testing.assert_array_equal(out, acc)


def test_read_noise_std_per_column_is_per_device_std_times_sqrt_2k():
    per = Periphery.from_config(device_params(read_noise=0.01, g_min="0 S", g_max="10 uS"))
    k = 9
    std = per.column_std(k)
    assert std == 0.01 * 10e-6 * np.sqrt(2 * k)
    out = noise(12345, 400, 256, std).ravel()
    n = out.size
    stat = (n - 1) * out.var(ddof=1) / std**2
    assert stats.chi2.ppf(5e-5, n - 1) < stat < stats.chi2.ppf(1 - 5e-5, n - 1)
    assert abs(out.mean()) < 5 * std / np.sqrt(n)


def test_a_columns_draws_over_reads_are_a_discretised_standard_normal():
    z = noise(99, 200_000, 3)[:, 1]
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert np.abs(z).max() < 4.33


def test_draws_are_uncorrelated_across_columns_and_reads():
    z = noise(7, 20_000, 64)
    limit = 5 / np.sqrt(z.shape[0])
    across_columns = [np.corrcoef(z[:, c], z[:, c + 1])[0, 1] for c in range(63)]
    across_reads = [np.corrcoef(z[:-1, c], z[1:, c])[0, 1] for c in range(64)]
    assert np.abs(across_columns).max() < limit
    assert np.abs(across_reads).max() < limit


def test_a_read_is_a_stretch_of_the_pool_from_its_hashed_offset():
    key, read = np.uint64(5), 1_000_003
    out = np.zeros(MAX_TILE)
    read_out(out, MAX_TILE, 2.0, key, read, 0.0, 0, POOL)
    o = int(noise_window(key, read))
    np.testing.assert_array_equal(out, 2.0 * POOL[o:o + MAX_TILE])
    assert np.unique(out).size == MAX_TILE  # a read's columns get distinct draws
    # Batched reads are the single reads, one counter per sample.
    np.testing.assert_array_equal(noise(5, 3, 10, 2.0, first_read=read)[2],
                                  2.0 * POOL[int(noise_window(key, read + 2)):][:10])


def test_pool_is_the_quantile_table_in_a_fixed_order_then_its_wrap():
    size = TABLE.size
    np.testing.assert_array_equal(np.sort(POOL[:size]), TABLE)
    np.testing.assert_array_equal(POOL[size:], POOL[:MAX_TILE])
    assert not np.array_equal(POOL[:size], TABLE)
    assert int(noise_window(np.uint64(3), 4)) < size


def test_quantile_table_is_the_normal_ppf_at_bin_midpoints_and_odd():
    k = np.arange(2**16)
    np.testing.assert_allclose(TABLE, stats.norm.ppf((k + 0.5) / 2**16), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(TABLE[::-1], -TABLE)
    assert 0 < 1 - TABLE.var() < 3e-5  # discretised: the tails beyond 4.32 std are cut


def test_importing_builds_no_noise_table():
    code = ("import neurosim, neurosim.crossbar.periphery as p; "
            "print(p.normal_quantiles.cache_info().currsize, p.noise_pool.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 0"


def test_adc_in_float32_gives_codes_and_clips():
    step = np.float32(0.25)
    x = np.linspace(-3, 3, 2001, dtype=np.float32)
    # float32 arguments, as the crossbar backend passes for float32 networks
    out = np.array([adc(v, np.float32(1) / step, step, np.float32(7)) for v in x])
    np.testing.assert_array_equal(out, np.clip(np.rint(x / step), -7, 7) * step)
