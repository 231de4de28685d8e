"""Where the neurons of the ``grids:`` section sit in space."""

from __future__ import annotations

import numpy as np

from neurosim import seeds


def grid_positions(cfg) -> dict[str, np.ndarray]:
    """``population -> (size, 3)`` float64 coordinates of every placed neuron.

    A grid's points, row-major (x slowest), are put in a random order drawn
    from the grid's seed stream when ``shuffle`` is set, then handed out to
    its populations in the order listed.
    """
    out = {}
    for k, grid in enumerate(cfg.grids.values()):
        axes = [np.arange(n, dtype=np.float64) * grid.spacing for n in grid.shape]
        points = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
        if grid.shuffle:
            rng = np.random.default_rng(seeds.stream(cfg.seed, seeds.GRID_POSITIONS, k))
            points = points[rng.permutation(points.shape[0])]
        start = 0
        for pop in grid.populations:
            size = cfg.population_size(pop)
            out[pop] = np.ascontiguousarray(points[start:start + size])
            start += size
    return out
