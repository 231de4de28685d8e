"""How many threads a run actually starts.

``threads`` in a config (or ``--threads``) is a request.  Threads beyond the
cores this process may run on gain nothing, and torch/OpenMP takes an absurd
count literally (a pool of 10^9 thread stacks: an abort or a segfault in the
middle of a run).  Every task therefore caps its request at those cores, as
the numba engines cap theirs at ``NUMBA_NUM_THREADS`` (by default the same
count).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from neurosim.errors import ConfigError


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on macOS or Windows
        return os.cpu_count() or 1


def usable_threads(requested: int) -> int:
    """``requested`` capped at :func:`available_cores`; below one is refused."""
    if int(requested) < 1:
        raise ConfigError(f"threads: at least one thread is needed, got {requested}")
    return min(int(requested), available_cores())


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the body on ``n`` torch intra-op threads (at most the available cores);
    the previous count is restored afterwards, also when the body raises."""
    import torch

    used = usable_threads(n)
    before = torch.get_num_threads()
    torch.set_num_threads(used)
    try:
        yield
    finally:
        torch.set_num_threads(before)
