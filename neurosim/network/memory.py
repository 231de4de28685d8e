"""Memory estimates, made before anything large is allocated."""

from __future__ import annotations

import math
import os

from neurosim.errors import ResourceError
from neurosim.units import to_steps


def available_bytes() -> int:
    """Memory the OS can give us now (MemAvailable), or total RAM as fallback."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(estimate: int, what: str, limit: int | None = None,
               remedy: str = "reduce the network size or connection density") -> None:
    """Refuse, before allocating, a network whose estimate exceeds free RAM."""
    limit = available_bytes() if limit is None else limit
    if estimate > 0.9 * limit:
        raise ResourceError(
            f"{what} needs an estimated {estimate / 2**30:.2f} GiB but only "
            f"{limit / 2**30:.2f} GiB of memory is available; {remedy}"
        )


def trace_bytes(cfg, columns: int, itemsize: int) -> int:
    """Peak bytes of the state traces a run config records.

    The kernels sample every traced neuron's ``columns`` state values (of
    ``itemsize`` bytes) on one grid, the gcd of the traces' intervals; at
    the end the chunks are joined (a second copy), widened to float64 and
    cut into the traces' records, which is the peak: ``2 * itemsize + 16``
    bytes per sampled value.
    """
    traces = cfg.record.traces.values()
    if not traces:
        return 0
    every = [max(1, int(to_steps(t.interval if t.interval is not None else cfg.dt, cfg.dt)))
             for t in traces]
    samples = int(to_steps(cfg.duration, cfg.dt)) // math.gcd(*every)
    neurons = sum(len(t.neurons) for t in traces)
    return samples * neurons * columns * (2 * itemsize + 16)
