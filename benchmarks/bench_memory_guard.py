"""The memory guard: its estimate against the measured peak, and how fast it refuses.

For each case a fresh process loads the kernels on a 1 ms ``cuba`` run,
then builds and runs the case (nothing saved); the growth of its peak RSS
is set against the largest estimate the guard made.  Then configs many
times larger than this machine's memory are refused through the command
line, timed, with the refusing process's peak RSS:

    python benchmarks/bench_memory_guard.py [--out benchmarks/results/memory_guard.json]

``--probe CONFIG [KEY=VALUE ...]`` runs one case and prints its JSON line
(what the test of the estimate calls).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from _results import write_result

ROOT = Path(__file__).resolve().parents[1]


def traced_cuba(folder: Path, duration: str) -> Path:
    """``cuba`` with every excitatory neuron's ``v`` traced at each step."""
    cfg = yaml.safe_load((ROOT / "configs" / "cuba.yaml").read_text())
    cfg["duration"] = duration
    cfg["record"]["traces"] = {"v_exc": {"population": "exc", "neurons": list(range(3200))}}
    path = folder / f"cuba_traced_{duration.replace(' ', '')}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def probe(config: str, overrides: list[str]) -> dict:
    """Peak RSS growth of building and running ``config`` in this process, and the estimate."""
    import neurosim.network.build as build
    from neurosim.api import simulate
    from neurosim.config import load_config

    simulate(load_config("cuba", overrides=["duration=1 ms"]))  # kernels loaded: not counted
    estimates = []
    check = build.check_fits

    def spy(estimate, what, limit=None, **kw):
        estimates.append(estimate)
        return check(estimate, what, limit, **kw)

    build.check_fits = spy
    cfg = load_config(config, overrides=overrides)
    # The peak so far (compiling or loading the kernels) must not count.
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_bytes("VmRSS")
    simulate(cfg)
    peak = _status_bytes("VmHWM")
    return {"config": Path(config).name, "overrides": overrides,
            "estimate_bytes": max(estimates), "peak_growth_bytes": peak - before}


def run_probe(config: str, *overrides: str) -> dict:
    """:func:`probe` in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--probe", config, *overrides],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def refusal(config: str, *overrides: str) -> dict:
    """Time, exit status, error line and peak RSS of ``neurosim run`` refusing ``config``."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "refused.h5"
        code = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                "print(p.returncode, time.perf_counter() - t, "
                "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); "
                "print(p.stderr.strip())")
        cmd = [sys.executable, "-c", code, sys.executable, "-m", "neurosim.cli", "run", config,
               "--output", str(output), *(f"--set={o}" for o in overrides)]
        lines = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()
        status, seconds, rss = lines[0].split()
        return {"config": Path(config).name, "overrides": list(overrides), "exit": int(status),
                "seconds": float(seconds), "peak_rss_bytes": int(rss),
                "error": "\n".join(lines[1:]), "left_behind": sorted(p.name for p in
                                                                     Path(folder).iterdir())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", nargs="+", metavar="ARG", help="CONFIG [KEY=VALUE ...]")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "memory_guard.json"))
    args = ap.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe[0], args.probe[1:])))
        return
    from neurosim.network.memory import available_bytes

    with tempfile.TemporaryDirectory() as folder:
        cases = [run_probe("cuba_scaled", f"scale={s}", "duration=2 ms") for s in (100, 200, 400)]
        cases.append(run_probe(str(traced_cuba(Path(folder), "0.2 s"))))
        for row in cases:
            row["estimate_over_peak"] = row["estimate_bytes"] / row["peak_growth_bytes"]
            print(f"{row['config']} {' '.join(row['overrides'])}: estimate "
                  f"{row['estimate_bytes'] / 2**20:.0f} MiB, peak growth "
                  f"{row['peak_growth_bytes'] / 2**20:.0f} MiB ({row['estimate_over_peak']:.3f})")
        ram = available_bytes()
        # cuba_scaled holds about 0.7 kB per neuron (80 synapses each).
        scale = int(10 * ram / 700 / 4000)
        refused = [refusal("cuba_scaled", f"scale={scale}"),
                   refusal(str(traced_cuba(Path(folder), "1000 s"))),
                   refusal("nalsm_fashion", "liquid.size=8000000", "liquid.grid=[200,200,200]")]
    for row in refused:
        print(f"{row['config']} {' '.join(row['overrides'])}: exit {row['exit']} in "
              f"{row['seconds']:.2f} s, peak RSS {row['peak_rss_bytes'] / 2**20:.0f} MiB: "
              f"{row['error']}")
    write_result({"available_bytes": ram, "estimates": cases, "refusals": refused}, args.out)


if __name__ == "__main__":
    main()
