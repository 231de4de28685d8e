"""Encoders: spike probabilities against the binomial, and the other codes' definitions."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.data import (
    latency_times,
    normalise_images,
    poisson_counts,
    rate_spikes,
    saccade_events,
)
from neurosim.errors import DataError


def test_rate_spike_counts_follow_the_binomial():
    prob = np.linspace(0.0, 1.0, 41).astype(np.float32)
    steps = 4000
    spikes = rate_spikes(prob, steps, seed=7)
    counts = spikes.sum(axis=0)
    p = prob.astype(np.float64)
    sd = np.sqrt(steps * p * (1 - p))
    # Each count is Binomial(steps, p): within 5 sd (exact at p = 0 and 1).
    assert np.all(np.abs(counts - steps * p) <= 5 * sd + 1e-9)
    # Pooled over inputs the standardised error is N(0, 1)-sized.
    inner = (p > 0) & (p < 1)
    z = (counts[inner] - steps * p[inner]) / sd[inner]
    assert abs(z.mean()) < 5 / np.sqrt(inner.sum())
    assert 0.5 < z.std() < 1.5


def test_rate_spikes_are_independent_across_steps_and_reproducible():
    prob = np.full(200, 0.3, np.float32)
    a = rate_spikes(prob, 500, seed=1, sample=3)
    np.testing.assert_array_equal(a, rate_spikes(prob, 500, seed=1, sample=3))
    assert not np.array_equal(a, rate_spikes(prob, 500, seed=1, sample=4))
    # P(spike at t and t+1) = p^2 for independent steps.
    both = (a[1:] & a[:-1]).mean()
    n = a[1:].size
    assert abs(both - 0.09) < 5 * np.sqrt(0.09 * 0.91 / n)


def test_rate_spikes_reject_probabilities_outside_unit_interval():
    with pytest.raises(DataError):
        rate_spikes(np.array([0.5, 1.5]), 10, seed=0)


def test_normalise_images_divides_by_sum_then_global_peak():
    images = np.array([[[0, 2], [2, 4]], [[0, 0], [1, 1]], [[0, 0], [0, 0]]], np.uint8)
    out = normalise_images(images)
    # per-image L1: [0, .25, .25, .5], [0, 0, .5, .5], zeros; peak 0.5
    np.testing.assert_allclose(out, [[0, .5, .5, 1], [0, 0, 1, 1], [0, 0, 0, 0]])


def test_poisson_counts_mean_and_variance():
    rng = np.random.default_rng(0)
    counts = poisson_counts(np.array([0.0, 50.0, 200.0]), 1e-3, 20000, rng)
    mean = counts.mean(axis=0)
    np.testing.assert_allclose(mean, [0, 0.05, 0.2], atol=5 * np.sqrt(0.2 / 20000))
    np.testing.assert_allclose(counts.var(axis=0), mean, atol=0.01)


def test_latency_brightest_first_dark_never():
    t = latency_times(np.array([0.0, 0.5, 1.0, 0.05]), t_max=10.0, threshold=0.1)
    np.testing.assert_allclose(t[1:3], [5.0, 0.0])
    assert np.isinf(t[0]) and np.isinf(t[3])


def test_saccade_events_blank_image_is_silent():
    assert saccade_events(np.zeros((28, 28))).size == 0


def test_saccade_events_of_a_bright_square():
    img = np.zeros((28, 28))
    img[10:18, 10:18] = 1.0
    ev = saccade_events(img, threshold=0.3)
    assert ev.size > 0
    assert set(np.unique(ev["p"])) == {-1, 1}
    assert ev["t"].min() >= 1 and ev["t"].max() <= 300 and np.all(np.diff(ev["t"]) >= 0)
    # The path is closed: the image ends where it started, so each pixel's
    # ON and OFF events cancel up to one threshold step.
    net = np.zeros((34, 34), int)
    np.add.at(net, (ev["y"], ev["x"]), ev["p"])
    assert np.abs(net).max() <= 1
    # Events only where the moving edge passes (inside the sensor).
    assert ev["x"].max() < 34 and ev["y"].max() < 34
