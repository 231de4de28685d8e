"""Memory estimates, made before anything large is allocated."""

from __future__ import annotations

import os

from neurosim.errors import ResourceError


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


def check_fits(estimate: int, what: str, limit: int | None = None) -> None:
    """Refuse, before allocating, a network whose estimate exceeds free RAM."""
    limit = available_bytes() if limit is None else limit
    if estimate > 0.9 * limit:
        raise ResourceError(
            f"{what} needs an estimated {estimate / 2**30:.2f} GiB but only "
            f"{limit / 2**30:.2f} GiB of memory is available; reduce the network "
            f"size or connection density"
        )
