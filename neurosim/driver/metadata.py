"""Describe a run for its result file: versions, machine, timing."""

from __future__ import annotations

import os
import platform
import sys


def cpu_model() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    """The packages that decide a run's numbers: llvmlite's LLVM compiles numba's kernels."""
    import h5py
    import llvmlite
    import numba
    import numpy

    import neurosim

    return {"neurosim": neurosim.__version__, "python": sys.version.split()[0],
            "numpy": numpy.__version__, "numba": numba.__version__,
            "llvmlite": llvmlite.__version__, "h5py": h5py.__version__}


def machine() -> dict[str, object]:
    return {"platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count() or 1}


def run_metadata(sim, sim_s: float, n_steps: int) -> dict[str, object]:
    net = sim.network
    meta: dict[str, object] = {
        "backend": sim.backend_name,
        "device": sim.backend.device,
        "precision": net.dtype.name,
        "threads": sim.threads,
        # The backend may use fewer threads than asked (small networks).
        "threads_used": getattr(sim.backend, "parts", sim.threads),
        "n_neurons": net.n_neurons,
        "n_synapses": net.n_synapses,
        "bytes_per_synapse": (net.targets.nbytes + net.weights.nbytes + net.indptr.nbytes)
        / max(net.n_synapses, 1),
        "delivered_events": sim.backend.delivered_events(),
        "steps": n_steps,
        "build_s": net.build_seconds,
        "sim_s": sim_s,
    }
    meta.update({f"version_{k}": v for k, v in versions().items()})
    meta.update({f"machine_{k}": v for k, v in machine().items()})
    return meta
