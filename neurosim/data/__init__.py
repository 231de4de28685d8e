"""Data sets and spike encoders (nothing is ever downloaded)."""

from neurosim.data.encoders import (
    l1_peak,
    latency_times,
    normalise_images,
    poisson_counts,
    rate_spikes,
    saccade_events,
)
from neurosim.data.fashion_mnist import DEFAULT_DIR, Split, load_fashion_mnist, read_idx, split_pools

__all__ = [
    "DEFAULT_DIR", "Split", "l1_peak", "latency_times", "load_fashion_mnist", "normalise_images",
    "poisson_counts", "rate_spikes", "read_idx", "saccade_events", "split_pools",
]
