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
one per device).  Draws are counter-based (a pure function of key and
counter), so results do not depend on chunking or batch order.  One 64-bit
hash gives four draws: each 16-bit field picks one of 2**16 equally likely
values, the standard normal quantiles at the bin midpoints ``(k + 0.5) / 2**16``
(a discretised Gaussian: tails reach 4.32 std; variance 0.99998).  That is ~4x
cheaper than one hash per draw and ~30x cheaper than Box-Muller, which matters
at one draw per column read.  The draws of a read are made in two passes (the
hashes, then the table look-ups) so that the arithmetic on the columns that
follows vectorises.  The table is built on first use (:func:`normal_quantiles`)
and handed to the compiled functions, so importing costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from statistics import NormalDist

import numpy as np
from numba import njit

from neurosim.network.random import mix64


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK16 = np.uint64(0xFFFF)
#: Equally likely values of one draw (16-bit fields).
TABLE_SIZE = 2**16


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


@njit(cache=True)
def _hash(key, index):
    return mix64(key + (np.uint64(index) + np.uint64(1)) * _GOLDEN)


@njit(cache=True)
def normal_draw(key, counter, table):
    """Draw ``counter`` of ``key`` from the discretised standard normal ``table``
    (:func:`normal_quantiles`; module docstring)."""
    c = np.uint64(counter)
    field = (_hash(key, c >> np.uint64(2)) >> (np.uint64(16) * (c & np.uint64(3)))) & _MASK16
    return table[field]


@njit(cache=True)
def normal_draws(key, counter, n, scale, table, hashes, out):
    """``out[:n]`` = ``scale`` times draws ``counter .. counter + n - 1`` of
    ``key`` (as :func:`normal_draw`).

    ``hashes``: scratch of at least ``n // 4 + 2`` uint64.
    """
    first = np.uint64(counter) >> np.uint64(2)
    lane = counter & 3
    for j in range((lane + n + 3) >> 2):
        hashes[j] = _hash(key, first + np.uint64(j))
    # Field i & 3 of hash i >> 2 is 16-bit word i of the hashes in memory on a
    # little-endian machine (every platform numba supports): read in place.
    fields = hashes.view(np.uint16)
    for c in range(n):
        out[c] = scale * table[fields[lane + c]]


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
def read_out(acc, n, noise_std, key, counter, step, half, table):
    """Read noise then ADC on ``acc[:n]`` in place.

    ``noise_std``: per-column noise std (0: none), drawn with counters
    ``counter .. counter + n - 1`` of ``key`` from ``table``
    (:func:`normal_quantiles`); ``half``: ADC codes per side (0: ideal ADC),
    ``step``: conductance per code.
    """
    if noise_std > 0.0:
        draws = np.empty(n, dtype=acc.dtype)
        normal_draws(key, counter, n, noise_std, table, np.empty(n // 4 + 2, dtype=np.uint64),
                     draws)
        for c in range(n):
            acc[c] += draws[c]
    if half > 0:
        inv = 1.0 / step
        for c in range(n):
            acc[c] = adc(acc[c], inv, step, half)


def noise_key(seed: int, stream: int) -> np.uint64:
    """A 64-bit key for the read-noise draws of one stream."""
    state = np.random.SeedSequence(seed, spawn_key=(stream,)).generate_state(1, np.uint64)
    return state[0]


__all__ = ["Periphery", "adc", "half_codes", "noise_key", "normal_draw", "normal_draws",
           "normal_quantiles", "read_out"]
