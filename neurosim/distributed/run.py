"""A network run split over the ranks of an MPI job: ``mpirun -n R neurosim run CFG --distributed``.

Every rank builds its share of the network, simulates it and takes part in
assembling the result; rank 0 writes the one result file (and plot), which
holds the same spikes, counters and weights as a one-process run's.

Failures: a step that can fail on one rank only (building, saving) ends in
an agreement, so that every rank stops together and rank 0 reports the
failing rank's error; a failure in the middle of the simulation aborts the
job (``MPI_Abort``), since the other ranks wait in a collective.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, TypeVar

from neurosim.errors import ConfigError, NeurosimError

T = TypeVar("T")

#: Exit status of the ranks that stop because another one failed.
EXIT_OTHER_RANK = 2


class StoppedByOtherRank(SystemExit):
    """This rank stops because another rank failed (rank 0 reports why)."""

    def __init__(self) -> None:
        super().__init__(EXIT_OTHER_RANK)


def world():
    """MPI's world communicator, or one clear error where mpi4py is missing."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ConfigError("--distributed: needs mpi4py and an MPI library (Debian: apt-get "
                          "install openmpi-bin libopenmpi-dev; then pip install mpi4py)") from err
    return MPI.COMM_WORLD


def summed(comm, array):
    """``array`` summed element-wise over the ranks (a new array on every rank)."""
    import numpy as np

    total = np.empty_like(array)
    comm.Allreduce(np.ascontiguousarray(array), total)
    return total


def quiet_rank() -> bool:
    """Whether this process is a rank other than 0 of an MPI job (rank 0 prints errors)."""
    import os

    for key in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"):
        if key in os.environ:
            return os.environ[key] != "0"
    return False


def agreed(comm, work: Callable[[], T]) -> T:
    """``work()`` on every rank; if it fails on any, every rank stops.

    Rank 0 raises the first failing rank's error (named by its rank); the
    others raise :class:`StoppedByOtherRank`.
    """
    failure = None
    try:
        value = work()
    except NeurosimError as err:
        failure = err
    failures = comm.allgather(None if failure is None else (type(failure).__name__, str(failure)))
    failed = [(r, f) for r, f in enumerate(failures) if f is not None]
    if not failed:
        return value
    if comm.rank != 0:
        raise StoppedByOtherRank()
    rank, (kind, message) = failed[0]
    if rank == 0 and failure is not None:
        raise failure
    error = next((c for c in NeurosimError.__subclasses__() if c.__name__ == kind), NeurosimError)
    raise error(f"rank {rank} of {comm.size}: {message}")


@contextlib.contextmanager
def rank_zero(comm, enter: Callable[[], contextlib.AbstractContextManager]):
    """The context ``enter()`` on rank 0 only (the output lock), agreed by every rank."""
    with contextlib.ExitStack() as stack:
        agreed(comm, lambda: stack.enter_context(enter()) if comm.rank == 0 else None)
        yield


def run_distributed(cfg, out, *, threads, quiet: bool, context, profiles,
                    checkpoint=None) -> str:
    """Build, simulate and save ``cfg`` over the ranks; the summary text on rank 0.

    ``checkpoint`` (:class:`~neurosim.driver.checkpoints.CheckpointOptions`) has
    every rank checkpoint its state, or continue from its state
    (:mod:`neurosim.distributed.checkpoints`).
    """
    from neurosim.config import dump_config
    from neurosim.distributed.checkpoints import DistributedCheckpoints
    from neurosim.distributed.simulation import DistributedSimulation, check_recording
    from neurosim.network import build_network
    from neurosim.network_task import save_and_report

    comm = world()
    rank = comm.rank
    section = cfg.distributed
    agreed(comm, lambda: check_recording(cfg))  # before any work starts
    checkpoints = None
    if checkpoint is not None and checkpoint.wanted:  # checked before any work starts
        checkpoints = agreed(comm, lambda: DistributedCheckpoints(
            checkpoint, out, "network", dump_config(cfg), comm))
    network = agreed(comm, lambda: build_network(cfg, ranks=(rank, comm.size)))
    sim = agreed(comm, lambda: DistributedSimulation(
        network, cfg, comm, None if section is None else section.exchange_every, threads))
    if checkpoints is not None and checkpoints.saved is not None:
        agreed(comm, lambda: sim.restore(checkpoints.saved))
    context.startup_over()
    try:
        result = sim.finish(progress=not quiet and rank == 0, checkpoints=checkpoints)
    except Exception as err:  # the other ranks wait in a collective: end the job
        print(f"error: rank {rank} of {comm.size}: {err}", file=sys.stderr, flush=True)
        comm.Abort(EXIT_OTHER_RANK)
        raise
    return save_and_report(result, out, profiles, context, quiet) if rank == 0 else ""
