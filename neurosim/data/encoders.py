"""Spike encoders for images (or any non-negative intensities).

* :func:`normalise_images` - the NALSM input scaling: each image divided by its
  pixel sum, then everything by the largest value of the set, so a pixel's
  value is its spike probability per step.
* :func:`rate_spikes` - Bernoulli spikes, ``P(spike at step k) = p``,
  independently per step and neuron; the draws are counter-based
  (:mod:`neurosim.network.random`), so the liquid kernels draw the very same
  spikes on the fly without storing them.
* :func:`poisson_counts` - Poisson spike counts per step for rates in Hz.
* :func:`latency_times` - one spike per input, earlier for brighter pixels.
* :func:`saccade_events` - an event camera looking at the image while it moves
  along three saccades (as N-MNIST was recorded): ON/OFF events where the
  log intensity at a pixel changed by more than a threshold.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurosim.errors import DataError
from neurosim.network.random import mix64, uniform

#: Stream number of input spikes, apart from the network build streams.
INPUT_STREAM = 16


def _l1(images: np.ndarray) -> np.ndarray:
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    sums = flat.sum(axis=1, keepdims=True)
    return np.divide(flat, sums, out=np.zeros_like(flat), where=sums > 0)


def l1_peak(images: np.ndarray) -> float:
    """Largest pixel of the set after per-image L1 normalisation."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    sums = flat.sum(axis=1)
    ok = sums > 0
    return float((flat[ok].max(axis=1) / sums[ok]).max()) if ok.any() else 0.0


def normalise_images(images: np.ndarray, peak: float | None = None) -> np.ndarray:
    """Per-image L1 normalisation, then division by ``peak`` (float32).

    ``peak`` defaults to :func:`l1_peak` of ``images``; pass the peak of a
    whole split to normalise a batch of it exactly as the split. Returns
    ``(n, pixels)``; an all-zero image stays zero.
    """
    normed = _l1(images)
    peak = l1_peak(images) if peak is None else peak
    return (normed / peak if peak > 0 else normed).astype(np.float32)


@njit(cache=True)
def sample_key(seed, sample):
    """Key of the input-spike stream of one sample (independent of batching)."""
    return mix64(np.uint64(seed) ^ mix64(np.uint64(INPUT_STREAM) * np.uint64(0x9E3779B97F4A7C15)
                                         + np.uint64(sample)))


@njit(cache=True)
def bernoulli_step(key, step, active, prob, n_inputs, out):
    """Draw step ``step`` of the Bernoulli inputs of one sample.

    ``active`` lists the inputs with ``prob > 0`` (the others never spike and
    cost nothing); ``out[:k]`` receives the indices that spike, ``k`` is returned.
    """
    k = 0
    base = np.uint64(step) * np.uint64(n_inputs)
    for a in range(active.size):
        i = active[a]
        if uniform(key, base + np.uint64(i)) < prob[i]:
            out[k] = i
            k += 1
    return k


@njit(cache=True)
def _rate_spikes(prob, steps, key):
    n = prob.size
    active = np.nonzero(prob > 0)[0].astype(np.int32)
    spikes = np.zeros((steps, n), dtype=np.bool_)
    idx = np.empty(n, dtype=np.int32)
    for t in range(steps):
        k = bernoulli_step(key, t, active, prob, n, idx)
        for j in range(k):
            spikes[t, idx[j]] = True
    return spikes


def rate_spikes(prob: np.ndarray, steps: int, seed: int, sample: int = 0) -> np.ndarray:
    """Bernoulli spike raster ``(steps, n)``: input ``i`` spikes with ``prob[i]`` per step.

    Parameters
    ----------
    prob:
        Spike probability per step of each input, in [0, 1].
    steps:
        Number of time steps.
    seed, sample:
        The draws are a pure function of ``(seed, sample, step, input)``.
    """
    prob = np.ascontiguousarray(prob, dtype=np.float32).ravel()
    if prob.size and (prob.min() < 0 or prob.max() > 1):
        raise DataError("spike probabilities must lie in [0, 1]")
    return _rate_spikes(prob, int(steps), np.uint64(sample_key(np.uint64(seed), np.uint64(sample))))


def poisson_counts(rates_hz: np.ndarray, dt: float, steps: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Poisson spike counts ``(steps, n)`` with mean ``rate * dt`` per step."""
    rates = np.asarray(rates_hz, dtype=np.float64).ravel()
    if rates.size and rates.min() < 0:
        raise DataError("rates must be non-negative")
    return rng.poisson(rates * dt, size=(int(steps), rates.size)).astype(np.int32)


def latency_times(intensity: np.ndarray, t_max: float, threshold: float = 0.0) -> np.ndarray:
    """Time-to-first-spike code: ``t = t_max * (1 - x / max(x))``.

    Inputs at or below ``threshold`` (relative to the maximum) never spike and
    get ``inf``.
    """
    x = np.asarray(intensity, dtype=np.float64).ravel()
    peak = x.max() if x.size else 0.0
    if peak <= 0:
        return np.full(x.shape, np.inf)
    rel = x / peak
    return np.where(rel > threshold, t_max * (1.0 - rel), np.inf)


def _shifted(image: np.ndarray, dx: float, dy: float, size: int) -> np.ndarray:
    """The image placed at offset (dx, dy) on a ``size`` x ``size`` sensor (bilinear)."""
    h, w = image.shape
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    u, v = xs - dx, ys - dy
    x0, y0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fx, fy = u - x0, v - y0
    out = np.zeros((size, size))
    for ox, oy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                           (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + ox, y0 + oy
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out[inside] += weight[inside] * image[yi[inside], xi[inside]]
    return out


def saccade_events(image: np.ndarray, *, size: int = 34, amplitude: float = 3.0,
                   saccade_ms: int = 100, threshold: float = 0.2,
                   floor: float = 0.05) -> np.ndarray:
    """ON/OFF events of an event camera watching ``image`` move along three saccades.

    The image (values scaled to [0, 1]) travels a triangle of side
    ``amplitude`` pixels, one edge per ``saccade_ms`` ms, on a ``size`` x
    ``size`` sensor, like the N-MNIST recordings. Each pixel keeps the log
    intensity at its last event; when the current log intensity differs by
    more than ``threshold`` it emits one event per threshold crossed (ON if
    brighter, OFF if darker). ``floor`` keeps the log of dark pixels finite.

    Returns
    -------
    numpy structured array with fields ``t`` (ms, int32), ``x``, ``y`` (int16),
    ``p`` (int8, +1 ON / -1 OFF), sorted by time.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or img.shape[0] > size or img.shape[1] > size:
        raise DataError(f"image of shape {img.shape} does not fit a {size}x{size} sensor")
    peak = img.max()
    img = img / peak if peak > 0 else img
    corners = np.array([[0.0, 0.0], [amplitude, amplitude], [2 * amplitude, 0.0], [0.0, 0.0]])
    pad = (size - np.array(img.shape[::-1])) / 2.0 - amplitude / 2.0
    ref = np.log(floor + _shifted(img, *(corners[0] + pad), size))
    events = []
    for s in range(3):
        for k in range(1, saccade_ms + 1):
            pos = corners[s] + (corners[s + 1] - corners[s]) * k / saccade_ms + pad
            now = np.log(floor + _shifted(img, *pos, size))
            crossings = np.trunc((now - ref) / threshold).astype(int)
            ys, xs = np.nonzero(crossings)
            if ys.size:
                n = np.abs(crossings[ys, xs])
                t = s * saccade_ms + k
                events.append((np.full(n.sum(), t), np.repeat(xs, n), np.repeat(ys, n),
                               np.repeat(np.sign(crossings[ys, xs]), n)))
                ref[ys, xs] += crossings[ys, xs] * threshold
    out = np.zeros(sum(len(e[0]) for e in events),
                   dtype=[("t", np.int32), ("x", np.int16), ("y", np.int16), ("p", np.int8)])
    if events:
        for name, col in zip(("t", "x", "y", "p"), zip(*events)):
            out[name] = np.concatenate(col)
    return out
