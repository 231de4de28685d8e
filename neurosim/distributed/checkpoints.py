"""Checkpoints of a distributed run: every rank writes its own state, rank 0 the index.

Each rank's state (its neurons, its synapses' weights, the global spike
history it delivers from) goes to a file of its own
(:func:`~neurosim.io.checkpoint.rank_checkpoint_path`), in one of two slots
that alternate: checkpoint number ``g`` goes to slot ``g % 2``.  Once every
rank has written its file, rank 0 writes the run's checkpoint file, which
holds the header (config, intervals, ranks) and ``g``.  A kill at any
moment therefore leaves that file naming a slot every rank completed; the
slot being written is the other one.  The result directory must be one
file system for every rank (it is on one machine; across machines, a
shared one).

A run resumes on the same number of ranks: the partition of neurons, and
so every rank's state, depends on it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np

from neurosim.distributed.run import agreed
from neurosim.driver.checkpoints import CheckpointOptions, RunCheckpoints
from neurosim.errors import DataError
from neurosim.io.checkpoint import read_checkpoint, rank_checkpoint_path, write_checkpoint

_HEADER = "checkpoint."


class DistributedCheckpoints(RunCheckpoints):
    """The checkpoints of one distributed run, on rank ``comm.rank`` of ``comm.size``.

    Raises as :class:`RunCheckpoints` does, and :class:`DataError` where this
    rank's state is missing or belongs to another checkpoint.
    """

    def __init__(self, options: CheckpointOptions, result: str | os.PathLike, task: str,
                 config_text: str, comm) -> None:
        self.comm = comm
        self.ranks = comm.size
        self.result = result
        super().__init__(options, result, task, config_text)
        #: Number of the last complete checkpoint (0: none yet).
        self.number = 0
        if self.saved is not None:
            self.number = int(self.header["number"])
            self.saved = self._rank_state()

    def _rank_path(self, number: int):
        return rank_checkpoint_path(self.result, self.comm.rank, self.ranks, number % 2)

    def _rank_state(self) -> dict[str, np.ndarray]:
        path = self._rank_path(self.number)
        arrays = read_checkpoint(path)
        found = (int(arrays.get(f"{_HEADER}number", -1)), int(arrays.get(f"{_HEADER}rank", -1)))
        if found != (self.number, self.comm.rank):
            raise DataError(f"{path} is not rank {self.comm.rank}'s state of checkpoint "
                            f"{self.number} of {self.path} (it holds number {found[0]} of "
                            f"rank {found[1]})")
        return {k: v for k, v in arrays.items() if not k.startswith(_HEADER)}

    def reached(self, step: int, state: Callable[[], Mapping[str, np.ndarray]]) -> bool:
        """Write every rank's ``state()`` if a checkpoint is due (rank 0's clock
        decides wall-clock ones), then the index; whether one was written."""
        comm = self.comm
        if not comm.bcast(self._due(step) if comm.rank == 0 else None):
            return False
        number = self.number + 1
        agreed(comm, lambda: write_checkpoint(self._rank_path(number), {
            **state(), **self._header_arrays(rank=comm.rank, number=number)}))
        agreed(comm, lambda: write_checkpoint(
            self.path, self._header_arrays(ranks=self.ranks, number=number))
            if comm.rank == 0 else None)
        self.number = number
        self._written(step)
        return True
