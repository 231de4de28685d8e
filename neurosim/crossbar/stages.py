"""Device non-idealities as a chain of small stages, each with an ideal twin.

A stage maps conductance *pairs* to conductance pairs: arrays shaped
``(2, ..., rows, cols)`` holding G+ (index 0) and G- (index 1) of each cell
of a stack of tiles, in siemens.  ``stage(g, rng)`` returns a new array;
``stage.ideal()`` is the same stage with its non-ideality switched off, which
returns ``g`` unchanged.  :func:`device_chain` composes the stages of a
:class:`~neurosim.config.crossbar.CrossbarConfig` in the order the physics
happens: program (quantise, write noise, cycle and device variation, stuck
devices), then wait (drift), then read through resistive wires (IR drop).

Properties fixed at fabrication (device-to-device spread, stuck devices,
drift exponents) draw from generators seeded by ``device_seed``, the
per-programming draws (programming noise, cycle-to-cycle variation) from the
``rng`` passed to the chain: a chain applied twice with different ``rng``
programs one device twice.  :func:`neurosim.crossbar.tiles.program` derives
both from one seed, so each seed there is a different chip.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np


class Stage(ABC):
    """One non-ideality; subclasses are frozen dataclasses."""

    @abstractmethod
    def __call__(self, g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Conductance pairs after this non-ideality (a new array, or ``g`` if none)."""

    @abstractmethod
    def ideal(self) -> Stage:
        """The twin of this stage that changes nothing."""


@dataclass(frozen=True)
class Quantise(Stage):
    """Round each device to the nearest of ``levels`` equally spaced conductances
    in ``[g_min, g_max]`` (``levels=None``: continuous)."""

    levels: int | None
    g_min: float
    g_max: float

    def __call__(self, g, rng):
        if self.levels is None:
            return g
        step = (self.g_max - self.g_min) / (self.levels - 1)
        k = np.clip(np.rint((g - self.g_min) / step), 0, self.levels - 1)
        return self.g_min + k * step

    def ideal(self):
        return replace(self, levels=None)


@dataclass(frozen=True)
class ProgrammingNoise(Stage):
    """Write-verify leaves each device ``N(0, std)`` siemens off its target;
    the result stays within ``[g_min, g_max]``."""

    std: float
    g_min: float
    g_max: float

    def __call__(self, g, rng):
        if self.std == 0:
            return g
        return np.clip(g + self.std * rng.standard_normal(g.shape), self.g_min, self.g_max)

    def ideal(self):
        return replace(self, std=0.0)


@dataclass(frozen=True)
class Variation(Stage):
    """Multiplicative spread of the programmed state above ``g_min``:
    ``g_min + (g - g_min) (1 + std z)``, ``z ~ N(0, 1)``, clipped to the range.

    ``device_seed=None``: cycle-to-cycle (a new ``z`` at every programming);
    otherwise device-to-device (``z`` fixed per device by the seed).
    """

    std: float
    g_min: float
    g_max: float
    device_seed: int | None = None

    def __call__(self, g, rng):
        if self.std == 0:
            return g
        source = rng if self.device_seed is None else np.random.default_rng(self.device_seed)
        z = source.standard_normal(g.shape)
        return np.clip(self.g_min + (g - self.g_min) * (1.0 + self.std * z), self.g_min, self.g_max)

    def ideal(self):
        return replace(self, std=0.0)


@dataclass(frozen=True)
class StuckFaults(Stage):
    """A fraction ``on`` of devices reads ``g_max`` and a fraction ``off``
    reads ``g_min`` whatever was programmed (fixed per device)."""

    on: float
    off: float
    g_min: float
    g_max: float
    device_seed: int

    def __call__(self, g, rng):
        if self.on == 0 and self.off == 0:
            return g
        u = np.random.default_rng(self.device_seed).random(g.shape)
        out = np.where(u < self.on, self.g_max, g)
        return np.where((u >= self.on) & (u < self.on + self.off), self.g_min, out)

    def ideal(self):
        return replace(self, on=0.0, off=0.0)


@dataclass(frozen=True)
class Drift(Stage):
    """``G(t) = G0 (t / t0)^-nu`` with ``nu ~ N(nu_mean, nu_std)`` per device
    (clipped at 0; fixed per device)."""

    nu_mean: float
    nu_std: float
    t0: float
    t: float
    device_seed: int

    def __call__(self, g, rng):
        if self.nu_mean == 0 and self.nu_std == 0:
            return g
        z = np.random.default_rng(self.device_seed).standard_normal(g.shape)
        nu = self.nu_mean + self.nu_std * z
        return g * (self.t / self.t0) ** -np.maximum(nu, 0.0)

    def ideal(self):
        return replace(self, nu_mean=0.0, nu_std=0.0)

    @property
    def compensation(self) -> float:
        """Global factor undoing the mean drift, ``(t / t0)^nu_mean``."""
        return (self.t / self.t0) ** self.nu_mean


@dataclass(frozen=True)
class IRDrop(Stage):
    """First-order IR drop: each cell sees its wires in series.

    A row is driven from its left end and a column sensed at its bottom, so
    the cell in row ``i``, column ``j`` of an ``R x C`` tile has
    ``(j + 1) + (R - i)`` wire segments of ``r_wire`` in series and conducts
    ``G / (1 + G r_wire ((j + 1) + (R - i)))``.  First order: the voltage the
    *other* cells' currents drop on shared wires (and sneak paths) is not
    modelled, so the error grows with the number of active rows.
    """

    r_wire: float

    def __call__(self, g, rng):
        if self.r_wire == 0:
            return g
        rows, cols = g.shape[-2:]
        segments = (np.arange(1, cols + 1)[None, :] + (rows - np.arange(rows))[:, None])
        return g / (1.0 + g * self.r_wire * segments)

    def ideal(self):
        return replace(self, r_wire=0.0)


@dataclass(frozen=True)
class Chain:
    """Stages applied in order."""

    stages: tuple[Stage, ...]

    def __call__(self, g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for stage in self.stages:
            g = stage(g, rng)
        return g

    def ideal(self) -> Chain:
        return Chain(tuple(stage.ideal() for stage in self.stages))

    def find(self, kind: type) -> Stage | None:
        """The first stage of type ``kind``, if any."""
        return next((s for s in self.stages if isinstance(s, kind)), None)


def device_chain(cfg, device_seed: int) -> Chain:
    """The stages of ``cfg`` (a :class:`~neurosim.config.crossbar.CrossbarConfig`).

    In ``random_device`` mode nothing is programmed: only what happens after
    (drift, IR drop) applies.  ``cfg.ideal`` gives every stage's ideal twin.
    """
    seeds = np.random.SeedSequence(device_seed).generate_state(3, np.uint64)
    lo, hi = cfg.g_min, cfg.g_max
    span = hi - lo
    programming = (
        Quantise(cfg.levels, lo, hi),
        ProgrammingNoise(cfg.programming_noise * span, lo, hi),
        Variation(cfg.c2c_variation, lo, hi),
        Variation(cfg.d2d_variation, lo, hi, device_seed=int(seeds[0])),
        StuckFaults(cfg.stuck_on, cfg.stuck_off, lo, hi, device_seed=int(seeds[1])),
    )
    after = (
        Drift(cfg.drift_nu, cfg.drift_nu_std, cfg.drift_t0, cfg.read_time, device_seed=int(seeds[2])),
        IRDrop(cfg.wire_resistance),
    )
    chain = Chain(after if cfg.mode == "random_device" else programming + after)
    return chain.ideal() if cfg.ideal else chain
