"""Shared pieces of the CUBA peer runners (Brian2 and NEST).

Imported by brian2_cuba.py and nest_cuba.py, which run in their own virtual
environments (see benchmarks/setup_peers.sh); so this module uses only the
standard library and numpy, and nothing from neurosim.

The model (Brette et al. 2007, benchmark 2, "CUBA", as in Brian2's example):

    dv/dt  = (ge + gi - (v - El)) / taum      (v clamped while refractory)
    dge/dt = -ge / taue
    dgi/dt = -gi / taui                       (ge, gi in volts)

taum 20 ms, taue 5 ms, taui 10 ms, Vt -50 mV, Vr -60 mV, El -49 mV, refractory
5 ms, threshold v > Vt, reset v = Vr, v0 ~ U[Vr, Vt]. An excitatory spike adds
1.62 mV to ge, an inhibitory one -9 mV to gi. dt 0.1 ms, exact integration.
N neurons, 80 % excitatory; fixed in-degree K (default 80), split 80/20 into
excitatory and inhibitory sources ("scaled CUBA"), no autapses.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys

# Model constants, SI units.
TAUM = 20e-3
TAUE = 5e-3
TAUI = 10e-3
VT = -50e-3
VR = -60e-3
EL = -49e-3
T_REF = 5e-3
WE = 1.62e-3          # excitatory jump of ge (V)
WI = -9e-3            # inhibitory jump of gi (V)
DT = 0.1e-3
EXC_FRACTION = 0.8

# NEST mapping: iaf_psc_exp with C_m = 250 pF; a jump of w volts in the
# voltage-like conductance becomes a current jump of w * C_m / tau_m amperes,
# i.e. 12.5 * w[mV] pA (we = 20.25 pA, wi = -112.5 pA).
C_M = 250e-12


def split_counts(n: int, indegree: int) -> tuple[int, int, int, int]:
    """(n_exc, n_inh, k_exc, k_inh): population sizes and in-degree split 80/20."""
    n_exc = int(round(EXC_FRACTION * n))
    k_exc = int(round(EXC_FRACTION * indegree))
    return n_exc, n - n_exc, k_exc, indegree - k_exc


def fixed_indegree_arrays(n: int, indegree: int, rng):
    """Random fixed-in-degree connectivity as (pre_exc, post_exc, pre_inh, post_inh).

    Every neuron j receives k_exc sources drawn uniformly from the excitatory
    population and k_inh from the inhibitory one, with replacement (multapses
    allowed, as in NEST's `fixed_indegree` default) and without autapses.
    Built vectorised (no Python loop over synapses); indices are int32 and
    relative to the whole population; each pair of arrays is sorted by source
    (CSR order), which is what Brian2 itself produces for `connect(p=...)`.
    """
    import numpy as np

    n_exc, n_inh, k_exc, k_inh = split_counts(n, indegree)

    def draw(lo: int, size: int, k: int):
        # Sources in [lo, lo + size). A target j inside that range excludes
        # itself: draw from size-1 values and skip over j. Done in chunks of
        # targets to bound the int64 temporaries.
        src = np.empty(n * k, dtype=np.int32)
        tgt = np.empty(n * k, dtype=np.int32)
        step = max(1, (1 << 22) // k)
        for a in range(0, n, step):
            b = min(n, a + step)
            t = np.repeat(np.arange(a, b, dtype=np.int64), k)
            inside = (t >= lo) & (t < lo + size)
            r = rng.integers(0, size - inside.astype(np.int64))
            r += inside & (r >= t - lo)
            src[a * k:b * k] = r + lo
            tgt[a * k:b * k] = t
        order = np.argsort(src, kind="stable")
        return src[order], tgt[order]

    pre_e, post_e = draw(0, n_exc, k_exc)
    pre_i, post_i = draw(n_exc, n_inh, k_inh)
    return pre_e, post_e, pre_i, post_i


# --- memory ---------------------------------------------------------------

def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_bytes() -> int:
    """Current resident set size of this process."""
    kb = _status_kb("VmRSS")
    if kb is None:  # not Linux: fall back to the peak
        return peak_rss_bytes()
    return kb * 1024


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (VmHWM; since the last reset)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible.

    After this, peak_rss_bytes() - rss_bytes()-at-reset is the peak increase
    caused by what runs afterwards, not by imports done before.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# --- command line and output ---------------------------------------------

def parse_args(tool: str, modes: tuple[str, ...], argv=None,
               extra=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=f"Run the scaled CUBA benchmark in {tool}; print one JSON line.")
    ap.add_argument("--n", type=int, default=4000, help="number of neurons")
    ap.add_argument("--threads", type=int, default=1, help="threads to use")
    ap.add_argument("--seed", type=int, default=1, help="random seed")
    ap.add_argument("--duration", type=float, default=1.0,
                    help="simulated time in seconds")
    ap.add_argument("--indegree", type=int, default=80,
                    help="synapses per neuron (split 80/20 exc/inh)")
    ap.add_argument("--mode", choices=modes, default=modes[0])
    if extra is not None:
        extra(ap)                     # tool-specific options
    args = ap.parse_args(argv)
    if args.n < 10 or args.threads < 1 or args.duration <= 0 or args.indegree < 2:
        ap.error("need --n >= 10, --threads >= 1, --duration > 0, --indegree >= 2")
    return args


def emit(result: dict) -> None:
    """Print the result as the single JSON line on stdout the driver reads."""
    n_syn = result.get("n_synapses") or 0
    mem = result.get("peak_rss_bytes")
    result["bytes_per_synapse"] = (mem / n_syn) if (mem and n_syn) else None
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def quiet_stdout():
    """Redirect fd 1 to stderr (tools print banners); return a restore function.

    Works at the file-descriptor level so that output from C/C++ code is
    caught as well; the JSON line is written after restoring.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)

    def restore():
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)

    return restore
