"""Memory estimates, made before anything large is allocated."""

from __future__ import annotations

import math
import os
from pathlib import Path

from neurosim.errors import ResourceError
from neurosim.units import to_steps


#: Caps the memory a run may count on (bytes, or with a unit: ``4GiB``, ``500MB``);
#: for a shared machine, or a job whose limit the OS does not show.
LIMIT_VARIABLE = "NEUROSIM_MEMORY_LIMIT"

#: Work per chunk of a run in neuron-steps: enough that Python's share (inputs,
#: recording, progress) vanishes, little enough for timely progress updates.
CHUNK_NEURON_STEPS = 20_000_000
#: Bounds on a chunk, in steps (small networks; external-event buffers).
CHUNK_STEPS = (100, 10_000)
#: Neuron samples of state traces per chunk, at most (above the lower bound):
#: what a run recording to disk holds of its traces.
CHUNK_TRACE_SAMPLES = 1_000_000


def chunk_steps(n_neurons: int, traced_per_step: float = 0.0) -> int:
    """Steps a run of ``n_neurons`` neurons advances per chunk (before cuts at
    current changes and checkpoints), ``traced_per_step`` neurons' states
    sampled per step; what it records per chunk is what it holds."""
    lo, hi = CHUNK_STEPS
    steps = CHUNK_NEURON_STEPS // max(n_neurons, 1)
    if traced_per_step > 0:
        steps = min(steps, int(CHUNK_TRACE_SAMPLES / traced_per_step))
    return min(hi, max(lo, steps))


def available_bytes() -> int:
    """Memory this process can count on now: the OS's MemAvailable (total RAM
    as fallback), no more than what is left of the cgroup's limit (a
    container's or a batch job's) nor :data:`LIMIT_VARIABLE`."""
    limits = [_meminfo_available(), _cgroup_left(), _variable_limit()]
    return min(limit for limit in limits if limit is not None)


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _cgroup_left() -> int | None:
    """The cgroup v2 limit less its usage (None: no limit, or no cgroup v2)."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
    except OSError:
        return None
    if not limit.isdigit() or not used.isdigit():  # "max": unlimited
        return None
    return max(0, int(limit) - int(used))


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _variable_limit() -> int | None:
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not text:
        return None
    number = text.rstrip("kKmMgGtTiIbB ")
    unit = text[len(number):].strip().upper()
    try:
        value = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise ResourceError(f"{LIMIT_VARIABLE}={text!r}: not an amount of memory "
                            "(e.g. 4GiB, 500MB or a number of bytes)") from None
    if not value > 0 or value == float("inf"):
        raise ResourceError(f"{LIMIT_VARIABLE}={text!r}: must be a positive amount")
    return int(value)


def check_fits(estimate: int, what: str, limit: int | None = None,
               remedy: str = "reduce the network size or connection density") -> None:
    """Refuse, before allocating, a network whose estimate exceeds free RAM."""
    limit = available_bytes() if limit is None else limit
    if estimate > 0.9 * limit:
        raise ResourceError(
            f"{what} needs an estimated {estimate / 2**30:.2f} GiB but only "
            f"{limit / 2**30:.2f} GiB of memory is available; {remedy}"
        )


def trace_bytes(cfg, columns: int, itemsize: int, n_neurons: int) -> int:
    """Peak bytes of memory the state traces a run config records take.

    The kernels sample every traced neuron's ``columns`` state values (of
    ``itemsize`` bytes) on one grid, the gcd of the traces' intervals; at
    the end the chunks are joined (a second copy), and each trace's values
    are taken out and widened to float64: ``2 * itemsize * columns`` bytes
    per sampled neuron, ``itemsize + 8`` per value of a trace.  With
    ``record.store: disk`` that happens one chunk (:func:`chunk_steps` of the
    network's ``n_neurons``) at a time.
    """
    traces = cfg.record.traces.values()
    if not traces:
        return 0
    every = [max(1, int(to_steps(t.interval if t.interval is not None else cfg.dt, cfg.dt)))
             for t in traces]
    grid = math.gcd(*every)
    steps = int(to_steps(cfg.duration, cfg.dt))
    neurons = sum(len(t.neurons) for t in traces)
    if cfg.record.store == "disk":
        steps = min(steps, chunk_steps(n_neurons, neurons / grid) + grid)
    kernel = steps // grid * neurons * 2 * itemsize * columns
    values = sum(steps // k * len(t.neurons) * len(t.variables) for t, k in zip(traces, every))
    return kernel + values * (itemsize + 8)
