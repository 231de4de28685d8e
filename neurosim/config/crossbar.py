"""Device and periphery parameters of an emulated RRAM crossbar (the ``crossbar:`` section).

Only a description: :mod:`neurosim.crossbar` turns it into a chain of stages.
Every non-ideality has a value that switches it off (``None`` levels or bits,
zero noise, rates and wire resistance), and ``ideal: true`` switches all of
them off at once, which makes the crossbar an exact matrix-vector product.

Sources of the defaults:

- conductance range: DNN+NeuroSim V1.4 defaults, R_on 100 kOhm (G_max 10 uS)
  and R_off 1.7 MOhm (G_min ~0.59 uS);
- tiles: 256 x 256 arrays (NeuroSim uses 128 x 128 subarrays; aihwkit's
  default tile is 512 x 512); at most :data:`MAX_TILE` a side, beyond which
  wire resistance makes a real array unusable;
- converters: aihwkit's forward defaults, 7-bit DAC and 9-bit ADC, output
  bound 12 (in units of the current of one fully-on differential pair at full
  input, here ``adc_range``);
- drift: G(t) = G0 (t / t0)^-nu with t0 = 20 s as in aihwkit's PCM model
  (Joshi et al., Nat. Commun. 11, 2473, 2020); RRAM drifts much less, so nu
  defaults to 0;
- random-device mode: breakdown statistics chosen so that, at the default
  voltage, half the cells switch and the differential conductance has zero
  mean and a standard deviation of ~6.6 uS, the value reported for the RRAM
  zero-shot LSM (see ../shared/PAPERS.md); they are not measured values.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Optional

from pydantic import Field, model_validator

from neurosim.config.base import StrictModel, Unit, problems_error, q
from neurosim.units import pretty_quantity

#: Largest tile side accepted (rows or columns).
MAX_TILE = 1024

Conductance = Annotated[float, Unit("S")]
Resistance = Annotated[float, Unit("Ohm", ge=0)]
Voltage = Annotated[float, Unit("V")]
Time = Annotated[float, Unit("s", gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class RandomDevice(StrictModel):
    """Fixed random weights from one voltage applied to pristine cells.

    A pristine cell switches (its filament forms) when the applied voltage
    exceeds its breakdown voltage, which is normally distributed across the
    array; a switched cell's conductance is normal (clipped at ``g_pristine``).
    The fraction switched, ``Phi((set_voltage - breakdown_mean) / breakdown_std)``,
    sets the sparsity.
    """

    set_voltage: Voltage = q("2.5 V")
    """Voltage applied once to every cell."""
    breakdown_mean: Voltage = q("2.5 V")
    """Mean breakdown voltage of pristine cells."""
    breakdown_std: Annotated[float, Unit("V", gt=0)] = q("0.25 V")
    """Spread of breakdown voltages across cells."""
    g_switched_mean: Conductance = q("8.3 uS")
    """Mean conductance of a switched cell."""
    g_switched_std: Annotated[float, Unit("S", ge=0)] = q("3 uS")
    """Spread of switched conductances."""
    g_pristine: Annotated[float, Unit("S", ge=0)] = q("0 S")
    """Conductance of a cell that did not switch."""

    @property
    def switched_fraction(self) -> float:
        """Expected fraction of cells that switch at :attr:`set_voltage`."""
        z = (self.set_voltage - self.breakdown_mean) / self.breakdown_std
        return 0.5 * math.erfc(-z / math.sqrt(2.0))


class CrossbarConfig(StrictModel):
    """An RRAM crossbar: tiles, device non-idealities and converters."""

    ideal: bool = False
    """Replace every stage by its ideal twin (an exact matrix-vector product)."""
    mode: Literal["programmed", "random_device"] = "programmed"
    """``programmed``: conductances programmed to the weights; ``random_device``:
    fixed random weights from switching statistics (:class:`RandomDevice`)."""
    tile_rows: int = Field(default=256, ge=1)
    """Rows (inputs) per tile, at most :data:`MAX_TILE`."""
    tile_cols: int = Field(default=256, ge=1)
    """Columns (outputs) per tile, at most :data:`MAX_TILE`."""
    g_min: Conductance = q("0.588 uS")
    """Lowest programmable conductance (1 / 1.7 MOhm)."""
    g_max: Conductance = q("10 uS")
    """Highest programmable conductance (1 / 100 kOhm)."""
    levels: Optional[int] = Field(default=32, ge=2)
    """Programmable conductance levels per device (``None``: continuous)."""
    programming_noise: float = Field(default=0.02, ge=0)
    """Std of the programmed conductance around its target, in units of g_max - g_min."""
    d2d_variation: float = Field(default=0.02, ge=0)
    """Device-to-device spread of each device's conductance range (relative std,
    fixed per device)."""
    c2c_variation: float = Field(default=0.01, ge=0)
    """Cycle-to-cycle spread of each programmed state (relative std, new each programming)."""
    read_noise: float = Field(default=0.005, ge=0)
    """Std of each device's conductance at every read, in units of g_max - g_min."""
    stuck_on: Fraction = 0.001
    """Fraction of devices stuck at g_max."""
    stuck_off: Fraction = 0.001
    """Fraction of devices stuck at g_min."""
    dac_bits: Optional[int] = Field(default=7, ge=2, le=24)
    """Signed input DAC resolution (``None``: ideal); binary spikes bypass it."""
    adc_bits: Optional[int] = Field(default=9, ge=2, le=24)
    """Output ADC resolution (``None``: ideal, no quantisation and no clipping)."""
    adc_range: float = Field(default=12.0, gt=0)
    """ADC full scale (+-), in units of the current of one fully-on pair at full input."""
    wire_resistance: Resistance = q("1 Ohm")
    """Wire resistance per cell pitch along rows and columns (first-order IR drop)."""
    drift_nu: float = Field(default=0.0, ge=0)
    """Mean drift exponent nu of G(t) = G0 (t / t0)^-nu."""
    drift_nu_std: float = Field(default=0.0, ge=0)
    """Device-to-device spread of nu."""
    drift_t0: Time = q("20 s")
    """Time after programming at which G = G0."""
    read_time: Time = q("20 s")
    """Time since programming at which the crossbar is read (not before ``drift_t0``,
    where the drift law starts)."""
    drift_compensation: bool = True
    """Rescale outputs by the expected global drift factor (t / t0)^nu."""
    random_device: RandomDevice = RandomDevice()
    """Switching statistics used when ``mode`` is ``random_device``."""

    @model_validator(mode="after")
    def _check_device(self) -> CrossbarConfig:
        problems = []
        for key in ("tile_rows", "tile_cols"):
            side = getattr(self, key)
            if side > MAX_TILE:
                problems.append(((key,), f"tile larger than allowed ({side} > {MAX_TILE})"))
        for key in ("g_min", "g_max"):
            if getattr(self, key) < 0:
                problems.append(((key,), f"negative conductance ({getattr(self, key)!r} S)"))
        if self.g_max <= self.g_min:
            problems.append((("g_max",), "must be larger than g_min"))
        if self.read_time < self.drift_t0:
            # G(t) = G0 (t / t0)^-nu would rise above G0, past g_max.
            problems.append((("read_time",), f"must not be earlier than drift_t0 "
                             f"({pretty_quantity(self.read_time, 's')} < "
                             f"{pretty_quantity(self.drift_t0, 's')})"))
        if self.stuck_on + self.stuck_off > 1:
            problems.append((("stuck_off",), "stuck_on + stuck_off must not exceed 1"))
        if problems:
            raise problems_error(problems, "crossbar")
        return self
