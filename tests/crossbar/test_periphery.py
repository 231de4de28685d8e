"""DAC, ADC and read noise against their definitions."""

import subprocess
import sys

import numpy as np
from scipy import stats

from neurosim.crossbar import device_params
from neurosim.crossbar.periphery import (Periphery, adc, normal_draw, normal_draws,
                                         normal_quantiles, read_out)

TABLE = normal_quantiles()


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
    read_out(out, out.size, 0.0, np.uint64(0), 0, per.adc_step, per.adc_half, TABLE)
    codes = out / per.adc_step
    np.testing.assert_allclose(codes, np.rint(codes), atol=1e-9)
    inside = np.abs(acc) <= 2.0
    assert np.abs(out[inside] - acc[inside]).max() <= per.adc_step / 2 + 1e-12
    np.testing.assert_allclose(out[acc > 2.0], 2.0)
    np.testing.assert_allclose(out[acc < -2.0], -2.0)


def test_ideal_adc_and_no_noise_change_nothing():
    acc = np.random.default_rng(0).normal(size=1000)
    out = acc.copy()
    read_out(out, out.size, 0.0, np.uint64(0), 0, 0.0, 0, TABLE)
    np.testing.assert_array_equal(out, acc)


def test_read_noise_std_per_column_is_per_device_std_times_sqrt_2k():
    per = Periphery.from_config(device_params(read_noise=0.01, g_min="0 S", g_max="10 uS"))
    k, n = 9, 100_000
    std = per.column_std(k)
    assert std == 0.01 * 10e-6 * np.sqrt(2 * k)
    out = np.zeros(n)
    read_out(out, n, std, np.uint64(12345), 0, 0.0, 0, TABLE)
    stat = (n - 1) * out.var(ddof=1) / std**2
    assert stats.chi2.ppf(5e-5, n - 1) < stat < stats.chi2.ppf(1 - 5e-5, n - 1)
    assert abs(out.mean()) < 5 * std / np.sqrt(n)


def test_noise_draws_are_a_discretised_standard_normal():
    z = np.array([normal_draw(np.uint64(99), i, TABLE) for i in range(200_000)])
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / z.size)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert np.abs(z).max() < 4.33


def test_batched_noise_equals_the_single_draws():
    # read_out draws counters counter .. counter + n - 1, whatever the alignment.
    key, counter, n = np.uint64(5), 7, 13
    out = np.zeros(n)
    read_out(out, n, 2.0, key, counter, 0.0, 0, TABLE)
    expected = [2.0 * normal_draw(key, counter + c, TABLE) for c in range(n)]
    np.testing.assert_array_equal(out, expected)


def test_batched_draws_over_many_hashes_equal_the_single_draws():
    key, counter, n = np.uint64(11), 1_000_003, 1001
    out = np.zeros(n, dtype=np.float32)
    normal_draws(key, counter, n, 0.5, TABLE, np.zeros(n // 4 + 2, dtype=np.uint64), out)
    expected = np.array([0.5 * normal_draw(key, counter + c, TABLE) for c in range(n)], np.float32)
    np.testing.assert_array_equal(out, expected)


def test_quantile_table_is_the_normal_ppf_at_bin_midpoints_and_odd():
    k = np.arange(2**16)
    np.testing.assert_allclose(TABLE, stats.norm.ppf((k + 0.5) / 2**16), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(TABLE[::-1], -TABLE)
    assert 0 < 1 - TABLE.var() < 3e-5  # discretised: the tails beyond 4.32 std are cut


def test_importing_builds_no_quantile_table():
    code = ("import neurosim, neurosim.crossbar.periphery as p; "
            "print(p.normal_quantiles.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_adc_in_float32_gives_codes_and_clips():
    step = np.float32(0.25)
    x = np.linspace(-3, 3, 2001, dtype=np.float32)
    # float32 arguments, as the crossbar backend passes for float32 networks
    out = np.array([adc(v, np.float32(1) / step, step, np.float32(7)) for v in x])
    np.testing.assert_array_equal(out, np.clip(np.rint(x / step), -7, 7) * step)
