"""A :class:`~neurosim.driver.simulation.Simulation` on one rank of a distributed run.

Every rank drives its share with the same inputs (each draws the same
external events), and every rank assembles the same result: counters
summed over the ranks, plastic weights gathered into the one-process
synapse order.  Spikes are recorded on rank 0, which writes the file.
"""

from __future__ import annotations

import numpy as np

from neurosim.distributed.backend import DistributedCpuBackend
from neurosim.distributed.run import summed
from neurosim.driver.simulation import Simulation
from neurosim.errors import ConfigError
from neurosim.network.build import ProjectionInfo
from neurosim.units import to_steps


def exchange_interval(network, every: float | None) -> int:
    """Steps between spike exchanges: ``every`` (s), by default the minimum delay.

    Plastic networks exchange every step: a step's weight changes need every
    spike of that step before the next delivery.
    """
    plastic = network.plasticity is not None
    if every is None:
        return 1 if plastic else network.dmin
    steps = int(to_steps(every, network.dt))
    if steps < 1:
        raise ConfigError(f"distributed.exchange_every: {every:g} s is shorter than one step")
    if steps > network.dmin:
        raise ConfigError(f"distributed.exchange_every: {steps} steps is longer than the "
                          f"network's minimum delay of {network.dmin} step(s); a spike must "
                          "reach every rank before it is due, so exchange at least that often")
    if plastic and steps > 1:
        raise ConfigError(f"distributed.exchange_every: {steps} steps with plastic projections; "
                          "plasticity needs every spike of a step before the next, so plastic "
                          "networks exchange every step (leave exchange_every out)")
    return steps


def check_recording(cfg) -> None:
    """Refuse what a distributed run cannot record: spooling to disk."""
    if cfg.record.store == "disk":
        raise ConfigError("record.store: disk: distributed runs keep their recordings in "
                          "memory (record.store: memory); to spool them to disk, run in "
                          "one process")


def global_projections(projections, comm) -> list[ProjectionInfo]:
    """The projections with synapse counts and out-degrees summed over the ranks."""
    out = []
    for info in projections:
        outdegree = summed(comm, info.outdegree)
        out.append(ProjectionInfo(info.name, info.source, info.target, info.receptor,
                                  int(outdegree.sum()), outdegree, info.weight_factor))
    return out


class DistributedSimulation(Simulation):
    """Rank ``comm.rank``'s part of the run of a partitioned ``network``."""

    def __init__(self, network, cfg, comm, every: float | None = None,
                 threads: int | None = None) -> None:
        check_recording(cfg)
        self.comm = comm
        self.interval = exchange_interval(network, every)
        self._local_synapses = network.n_synapses
        super().__init__(network, cfg, threads=threads)
        network.projections = global_projections(network.projections, comm)

    def _make_backend(self):
        if self.backend_name != "cpu":
            raise ConfigError(f"backend: distributed runs use backend 'cpu', not "
                              f"'{self.backend_name}'")
        return DistributedCpuBackend(self.network, self.comm, self.interval, self.threads)

    def _result(self):
        result = super()._result()
        backend = self.backend
        synapses = self.comm.allreduce(self._local_synapses)
        exchange_s = self.comm.allgather(backend.exchange_s)
        result.metadata.update({
            "n_synapses": synapses,
            "ranks": self.comm.size,
            "exchange_every_steps": self.interval,
            "exchanges": backend.exchanges,
            "exchanged_bytes": backend.exchanged_bytes,
            "exchange_s_max": max(exchange_s),
        })
        return result

    def _plastic_records(self) -> dict:
        """Each rank's plastic weights, gathered into the one-process order.

        That order is the synapse order: by row (source, delay), then by flat
        target ``receptor * N + post``; equal keys (multapses) lie on one rank,
        in its order, which a stable sort keeps.
        """
        records = super()._plastic_records()
        if not records:
            return records
        net, plasticity = self.network, self.network.plasticity
        rows = np.searchsorted(net.indptr, plasticity.position, side="right") - 1
        receptor = net.targets[plasticity.position] // net.n_local
        keys = (rows, receptor * net.n_neurons + plasticity.post)
        for r, name in enumerate(plasticity.projections):
            mine = plasticity.rule == r
            parts = self.comm.allgather((records["weights"][name],
                                         [k[mine] for k in keys]))
            order = np.lexsort((np.concatenate([p[1][1] for p in parts]),
                                np.concatenate([p[1][0] for p in parts])))
            records["weights"][name] = {
                key: np.concatenate([p[0][key] for p in parts])[order]
                for key in ("pre", "post", "weight")}
        return records
