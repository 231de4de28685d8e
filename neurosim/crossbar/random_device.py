"""Random-device mode: fixed random weights from switching statistics.

One voltage is applied to every selected pristine cell of a differential
pair.  A cell switches when the voltage exceeds its own breakdown voltage,
which is quasi-normal across the array, so the voltage sets the fraction of
cells switched ``p`` and with it the sparsity (a pair where neither cell
switched carries no weight, probability ``(1 - p)**2``).  The differential
conductance G+ - G- has zero mean by symmetry and variance
``2 (p (s**2 + m**2) - p**2 m**2)`` for switched conductances of mean ``m``
and std ``s`` (pristine cells at 0 S).
"""

from __future__ import annotations

import math

import numpy as np


def random_pairs(shape: tuple[int, ...], device, rng: np.random.Generator) -> np.ndarray:
    """Conductance pairs ``(2, *shape)`` after the voltage pulse.

    ``device`` is a :class:`~neurosim.config.crossbar.RandomDevice`.
    """
    breakdown = device.breakdown_mean + device.breakdown_std * rng.standard_normal((2, *shape))
    formed = device.g_switched_mean + device.g_switched_std * rng.standard_normal((2, *shape))
    switched = breakdown <= device.set_voltage
    return np.where(switched, np.maximum(formed, device.g_pristine), device.g_pristine)


def expected_weight_std(device) -> float:
    """Std of G+ - G- (siemens) for pristine cells at 0 S, neglecting the clip."""
    p = device.switched_fraction
    m, s = device.g_switched_mean, device.g_switched_std
    return math.sqrt(2.0 * (p * (s * s + m * m) - p * p * m * m))


def expected_sparsity(device) -> float:
    """Expected fraction of pairs in which neither cell switched."""
    return (1.0 - device.switched_fraction) ** 2
