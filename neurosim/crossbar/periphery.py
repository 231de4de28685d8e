"""What happens at every read: input DAC, read noise, output ADC.

Signals are kept in conductance units: a column "current" is the sum over
rows of ``x_i (G+ - G-)`` with inputs ``x`` in ``[-1, 1]`` (fractions of the
read voltage), so the read voltage cancels between the analog and the
digital side.  Both converters are signed mid-tread quantisers with
``2**bits - 1`` codes: ``half = 2**(bits - 1) - 1`` steps each side of zero,
saturating (clipping) at the full scale.

Read noise is each device's conductance fluctuating by ``N(0, read_std)`` at
every access, independently; summed over a column of differential pairs with
inputs ``x`` that is one Gaussian of std ``read_std * sqrt(2 * sum(x**2))``
per column and read, which is what is drawn (one draw per column instead of
one per device).  The draws come from a discretised standard normal: the
quantiles at the midpoints ``(k + 0.5) / 2**16`` of 2**16 equally likely bins
(:func:`normal_quantiles`; tails reach 4.32 std, variance 0.99998), laid out
once in a fixed random order (:func:`noise_pool`).  One read of ``n`` columns
(``n`` at most a tile's width) takes the ``n`` consecutive pool entries from
an offset hashed from the noise key and the read's counter
(:func:`noise_window`): a pure function of key and counter, so results do not
depend on chunking or batch order.  A column's draws over reads are then
independent draws of the discretised normal, and the columns of one read get
distinct pool entries; what two reads share is a shifted stretch of the same
pool, so a pair (read, column) repeats the value of another with probability
2**-16, as two independent draws from the table do, but such repeats come in
runs along the columns.  The price of that is small for emulated read noise;
the gain is that the noise of a read is one hash and a contiguous load per
column, which vectorises with the column arithmetic: the per-column hash and
table look-up it replaces doubled the time of a noisy crossbar run.  The
pool is built on first use and handed to the compiled functions, so
importing costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from statistics import NormalDist

import numpy as np
from numba import njit

from neurosim.config.crossbar import MAX_TILE
from neurosim.network.random import mix64


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK16 = np.uint64(0xFFFF)
#: Equally likely values of one draw (16-bit offsets).
TABLE_SIZE = 2**16
#: Seeds the fixed order of :func:`noise_pool` (part of the model: changing it changes results).
POOL_ORDER_SEED = 0x5EED_0FF5E7


@cache
def normal_quantiles() -> np.ndarray:
    """Standard normal quantiles at the midpoints ``(k + 0.5) / 2**16`` of equal-probability bins.

    Built once, on first use; odd by construction (entry ``2**16 - 1 - k`` is
    minus entry ``k``), so the draws have mean exactly zero.
    """
    inv_cdf = NormalDist().inv_cdf
    low = np.array([inv_cdf((k + 0.5) / TABLE_SIZE) for k in range(TABLE_SIZE // 2)])
    table = np.concatenate([low, -low[::-1]])
    table.flags.writeable = False
    return table


@cache
def noise_pool() -> np.ndarray:
    """:func:`normal_quantiles` in a fixed random order, then its first
    :data:`~neurosim.config.crossbar.MAX_TILE` entries again, so that any read
    of at most a tile's columns is one contiguous slice from its offset."""
    order = np.random.default_rng(POOL_ORDER_SEED).permutation(TABLE_SIZE)
    shuffled = normal_quantiles()[order]
    pool = np.concatenate([shuffled, shuffled[:MAX_TILE]])
    pool.flags.writeable = False
    return pool


@njit(cache=True)
def _hash(key, index):
    return mix64(key + (np.uint64(index) + np.uint64(1)) * _GOLDEN)


@njit(cache=True)
def noise_window(key, read):
    """Offset into :func:`noise_pool` of the draws of read ``read`` of ``key``."""
    return _hash(key, read) & _MASK16


@njit(cache=True)
def adc(x, inv_step, step, half):
    """``x`` digitised: the nearest of ``-half .. half`` codes of ``step``
    (``inv_step = 1 / step``; pass them in ``x``'s type to keep float32 fast)."""
    return min(max(np.rint(x * inv_step), -half), half) * step


def half_codes(bits: int | None) -> int:
    """Codes on each side of zero of a ``bits``-bit signed converter (0: ideal)."""
    return 0 if bits is None else 2 ** (bits - 1) - 1


@dataclass(frozen=True)
class Periphery:
    """Per-access stages, in conductance units (see the module docstring).

    ``adc_full_scale``: the ADC saturates at +-this summed conductance;
    ``read_std``: read noise per device, siemens.
    """

    dac_bits: int | None
    adc_bits: int | None
    adc_full_scale: float
    read_std: float

    @classmethod
    def from_config(cls, cfg) -> Periphery:
        span = cfg.g_max - cfg.g_min
        out = cls(cfg.dac_bits, cfg.adc_bits, cfg.adc_range * span, cfg.read_noise * span)
        return out.ideal() if cfg.ideal else out

    def ideal(self) -> Periphery:
        """Exact converters and no read noise."""
        return replace(self, dac_bits=None, adc_bits=None, read_std=0.0)

    @property
    def adc_half(self) -> int:
        return half_codes(self.adc_bits)

    @property
    def adc_step(self) -> float:
        """Summed conductance per ADC code (0 when ideal)."""
        return self.adc_full_scale / self.adc_half if self.adc_half else 0.0

    def dac(self, x: np.ndarray) -> np.ndarray:
        """Inputs in ``[-1, 1]`` to the nearest DAC level (clipped to the range)."""
        half = half_codes(self.dac_bits)
        if not half:
            return x
        q = x * x.dtype.type(half)
        np.rint(q, out=q)
        np.clip(q, -half, half, out=q)
        q /= x.dtype.type(half)
        return q

    def column_std(self, sum_sq_inputs) -> np.ndarray | float:
        """Read-noise std of one column's summed conductance."""
        return self.read_std * np.sqrt(2.0 * np.asarray(sum_sq_inputs))


@njit(cache=True)
def read_out(acc, n, noise_std, key, read, step, half, pool):
    """Read noise then ADC on ``acc[:n]`` in place (``n`` at most a tile's width).

    ``noise_std``: per-column noise std (0: none), scaling the draws of read
    ``read`` of ``key`` from ``pool`` (:func:`noise_pool`); ``half``: ADC
    codes per side (0: ideal ADC), ``step``: conductance per code.
    """
    if noise_std > 0.0:
        o = noise_window(key, read)
        for c in range(n):
            acc[c] += noise_std * pool[o + np.uint64(c)]
    if half > 0:
        inv = 1.0 / step
        for c in range(n):
            acc[c] = adc(acc[c], inv, step, half)


def noise_key(seed: int, stream: int) -> np.uint64:
    """A 64-bit key for the read-noise draws of one stream."""
    state = np.random.SeedSequence(seed, spawn_key=(stream,)).generate_state(1, np.uint64)
    return state[0]


__all__ = ["Periphery", "adc", "half_codes", "noise_key", "noise_pool", "noise_window",
           "normal_quantiles", "read_out"]
