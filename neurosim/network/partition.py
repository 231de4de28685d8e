"""Which neurons one process of a distributed run holds: round-robin over the ranks.

Neuron ``g`` lives on rank ``g % ranks`` as local neuron ``g // ranks``, as
in NEST: every population (and every parameter group, a run of neighbouring
neurons) is spread evenly, so ranks get equal work whatever the
populations' sizes.  A rank keeps the synapses onto its own neurons only;
its synaptic state is indexed by local neuron, spikes and synapse rows by
global neuron.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.errors import ConfigError


@dataclass(frozen=True)
class Partition:
    """Rank ``rank`` of ``ranks`` holding its share of ``n_total`` neurons."""

    rank: int
    ranks: int
    n_total: int

    def __post_init__(self) -> None:
        if self.ranks > self.n_total:
            raise ConfigError(f"distributed: {self.ranks} ranks for {self.n_total} neurons; "
                              "a run needs at least one neuron per rank (start fewer ranks)")

    @property
    def n_local(self) -> int:
        return self.local_count(self.n_total)

    def local_count(self, stop) -> np.ndarray | int:
        """How many of global neurons ``0 .. stop - 1`` are this rank's."""
        return np.maximum(0, (np.asarray(stop) - self.rank + self.ranks - 1) // self.ranks)

    def local_bounds(self, bounds: np.ndarray) -> np.ndarray:
        """Global range bounds (populations, parameter groups) as local ones."""
        return self.local_count(np.asarray(bounds, dtype=np.int64)).astype(np.int64)

    def owned(self) -> np.ndarray:
        """This rank's neurons, as global indices in local order."""
        return np.arange(self.rank, self.n_total, self.ranks, dtype=np.int64)

    def to_global(self, local: np.ndarray) -> np.ndarray:
        return np.asarray(local, dtype=np.int64) * self.ranks + self.rank

    def local_slice(self, start: int, stop: int) -> slice:
        """The local neurons of global range ``start:stop``."""
        return slice(int(self.local_count(start)), int(self.local_count(stop)))
