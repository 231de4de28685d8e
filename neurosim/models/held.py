"""The refractory encoding of the clamped models' numba kernels, and spike collection.

A refractory neuron of ``lif_exp``, ``lif_cond_exp`` or ``alif`` stores
``v = -(HELD + k)``: it is held at ``V_reset`` for the next ``k`` steps
(``k = 0``: it integrates from ``V_reset`` next).  No membrane reaches
-2**20 V, and ``HELD + k`` is an exact integer in float32 up to 2**24, so
counting down is exact (``k`` < 2**24 - 2**20).  Without a separate marker
array the update loop streams nothing but ``v`` and the synaptic state, in
32-bit lanes only.  A spike stores ``-(HELD + t_ref_steps)``, which also marks
it for collection (``spike_marks``, ``spike_mark = spiked_code``).  Backends decode it (:func:`decode`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

HELD = 2**20
MAX_HELD_STEPS = 2**24 - HELD - 1
_HELD = np.float32(-HELD)           # at or below: encoded
_HELD_1 = np.float32(-HELD - 1)     # at or below: held in this step
_HELD_2 = np.float32(-HELD - 2)     # at or below: still held in the next step
_ONE = np.float32(1)


@njit(inline="always")
def spiked_code(ref_steps):
    """What a neuron that spikes stores in ``v``: held for ``ref_steps`` steps."""
    return _HELD - np.float32(ref_steps)


@njit(inline="always")
def start(x, v_reset):
    """The membrane a step integrates from: ``V_reset`` for an encoded neuron."""
    return v_reset if x <= _HELD else x


@njit(inline="always")
def threshold(x, v_new, v_th, v_reset, code):
    """Threshold, reset and the held count of one neuron: ``(stored v, spiked)``.

    ``x`` is what the neuron stored before the step, ``v_new`` its integrated
    membrane.  Branch-free, so the calling loop vectorises.
    """
    held = x <= _HELD_1
    spiked = (v_new >= v_th) & ~held
    v_new = code if spiked else v_new
    return ((x + _ONE) if x <= _HELD_2 else v_reset) if held else v_new, spiked


@njit(inline="always")
def spike_marks(v, x):
    """The array in which the clamped models mark a spike: ``v`` itself."""
    return v


def decode(v: np.ndarray, v_reset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stored ``v`` -> ``(membrane potential, held steps)``: ``v_reset`` (broadcast
    against ``v``) where a neuron is held."""
    held = v <= -HELD
    steps = np.zeros(v.shape, dtype=np.int64)
    steps[held] = -v[held].astype(np.int64) - HELD
    return np.where(held, np.broadcast_to(v_reset, v.shape), v).astype(v.dtype), steps


def encode(v: np.ndarray, held_steps: np.ndarray) -> np.ndarray:
    """The stored ``v`` of neurons held for ``held_steps`` more steps (0: not held)."""
    out = v.copy()
    out[held_steps > 0] = -(HELD + held_steps[held_steps > 0])
    return out
