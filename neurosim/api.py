"""The few calls most scripts need: build a network, run a config."""

from __future__ import annotations

from neurosim.driver.simulation import Simulation
from neurosim.network import build_network
from neurosim.result import Result


#: Build the network a :class:`~neurosim.config.RunConfig` describes.
build = build_network


def simulate(cfg, progress: bool = False, threads: int | None = None,
             backend: str | None = None) -> Result:
    """Build and run a config; the returned result is not written anywhere.

    With ``record.store: disk`` its spikes and traces map files in the spool
    folder beside the config's result path (:func:`neurosim.io.spool.spool_folder`),
    which stays until :func:`~neurosim.io.spool.discard_spool` or the next run.
    """
    network = build_network(cfg)
    return Simulation(network, cfg, backend=backend, threads=threads).run(progress=progress)
