"""Running an imported config and reading its spikes in the graph's steps."""

from __future__ import annotations

import numpy as np

from neurosim.config import validate_config
from neurosim.driver.simulation import Simulation
from neurosim.network import build_network


def run_imported(imported, record_all: bool = True):
    """Validate and run an :class:`~neurosim.nir.importer.Imported` config on the cpu backend."""
    if record_all:
        imported.config["record"]["spikes"] = "all"
    cfg = validate_config(imported.config)
    return cfg, Simulation(build_network(cfg), cfg).run(progress=False)


def raster(result, population: str, size: int, dt: float, shift: int = 0,
           steps: int | None = None) -> np.ndarray:
    """``(steps, size)`` 0/1 spikes of a population, ``shift`` steps dropped from the front."""
    total = int(round(result.duration / dt))
    out = np.zeros((total, size))
    rec = result.spikes[population]
    out[np.rint(rec.times / dt).astype(np.int64) - 1, rec.indices] = 1
    return out[shift:shift + steps if steps is not None else None]
