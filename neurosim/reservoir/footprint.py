"""The memory an LSM run needs, estimated from its config before any work.

A liquid is a network (:func:`~neurosim.reservoir.liquid.liquid_network`),
so its own part is the network builder's estimate; on top come the
per-sample features of every split and what the readouts make of them,
which for a large liquid are the bulk:

- features: one uint16 spike count per sample and liquid neuron;
- softmax readout: the counts L1-normalised and then scaled with a bias
  column, two float32 copies;
- ridge readout: the design matrices in float64, and the Gram matrix of the
  features with its penalised copy and the solver's factor (3 x F^2 float64);
- branching factor: the recorded test samples' rasters (one byte per step
  and neuron) and the running sums over one of them (int32).
"""

from __future__ import annotations

import numpy as np

from neurosim.network.build import NetworkFootprint, network_footprint
from neurosim.network.memory import check_fits
from neurosim.reservoir.liquid import LiquidSpec, liquid_network
from neurosim.reservoir.readout import check_history_fits


def lsm_bytes(cfg, spec: LiquidSpec, liquid: NetworkFootprint) -> tuple[int, str]:
    """Peak bytes of the LSM run ``cfg`` with liquid ``spec`` (its network's
    footprint ``liquid``), and what it is."""
    samples = cfg.data.train + cfg.data.validation + cfg.data.test
    n = spec.n_liquid
    steps = cfg.steps(cfg.protocol.sample_duration)
    features = samples * n * (2 + 4 + 4 + 8)
    ridge = 3 * (n + 1) ** 2 * 8
    branching = cfg.branching.samples * steps * n + (steps + 1) * n * 4
    what = (f"LSM '{cfg.name}' ({n} liquid neurons, {samples} samples: "
            f"{features / 2**30:.3g} GiB of features, {ridge / 2**30:.3g} GiB for the ridge readout)")
    return liquid.total + features + ridge + branching, what


def check_lsm_fits(cfg, spec: LiquidSpec, limit: int | None = None) -> None:
    """One :class:`~neurosim.errors.ResourceError` before an LSM run that cannot fit."""
    check_history_fits(cfg.readout.epochs, len(cfg.readout.learning_rate), limit)
    liquid = network_footprint(liquid_network(spec, cfg.seed), np.dtype(np.float32))
    liquid.check(limit)
    need, what = lsm_bytes(cfg, spec, liquid)
    check_fits(need, what, limit, remedy="use a smaller liquid or fewer samples")
