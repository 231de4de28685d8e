#!/usr/bin/env python3
"""CUBA side by side: neurosim against Brian2 (runtime, C++ standalone) and NEST.

The same scaled CUBA network (Brette et al. 2007 benchmark 2, fixed in-degree
80 split 64 exc / 16 inh, dt 0.1 ms, 1 s simulated; see
benchmarks/peers/_common.py) is built and run by every tool on this machine in
one invocation, and the table reports neurosim's speed-up over each peer
(peer sim_s / neurosim sim_s, best of --repeats each; within a repeat the
tools take turns, so a slow phase of a shared machine hits them alike).

Every tool runs in a fresh subprocess per repeat that prints one JSON line
(see peers/neurosim_cuba.py, peers/brian2_cuba.py and peers/nest_cuba.py for
what exactly is timed and how memory is measured): neurosim with this python
(the checkout this file lives in comes first on its sys.path), the peers with
the pythons of their own virtual environments, made by benchmarks/setup_peers.sh
under $NEUROSIM_PEERS (default /opt/neurosim-peers); a peer whose venv is
missing is skipped with a note.

Examples:
    python benchmarks/bench_cuba.py                       # all sizes, 1 and 2 threads
    python benchmarks/bench_cuba.py --sizes 4000 --threads 1 --repeats 1
    python benchmarks/bench_cuba.py --peers brian2_standalone --max-peer-n 400000
    python benchmarks/bench_cuba.py --indegree 1000 --sizes 4000,40000   # event-bound
    python benchmarks/bench_cuba.py --skip-peers          # neurosim only

Peer size limits (--max-peer-n): NEST at 400k takes ~5 min per run and Brian2
runtime is not much faster than standalone at scale, so by default both only
run up to N = 40,000; Brian2 standalone runs at every size. Brian2 runtime is
single-threaded, so it is run only for threads = 1.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEERS_DIR = os.path.join(HERE, "peers")
sys.path.insert(0, REPO)

from _results import write_result  # noqa: E402
from neurosim.driver.metadata import cpu_model  # noqa: E402

# name -> (venv, script, extra args, default max N, multi-threaded?)
PEERS = {
    "brian2_runtime": ("brian2", "brian2_cuba.py", ["--mode", "runtime"], 40_000, False),
    "brian2_standalone": ("brian2", "brian2_cuba.py", ["--mode", "cpp_standalone"], None, True),
    "nest": ("nest", "nest_cuba.py", [], 40_000, True),
}
# neurosim runs the same way, with this python (a fresh process per repeat).
NEUROSIM_TOOL = (None, "neurosim_cuba.py", [], None, True)
NOISY = 0.1   # other processes' share of the CPUs above which a run is noisy
KEYS = ("tool", "version", "mode", "n", "threads", "build_s", "sim_s", "rate_hz",
        "n_synapses", "events", "peak_rss_bytes", "bytes_per_synapse")


# --- peers ------------------------------------------------------------------

def peer_python(root: str, venv: str) -> str | None:
    exe = os.path.join(root, venv, "bin", "python")
    return exe if os.access(exe, os.X_OK) else None


def run_peer(name: str, python: str, n: int, threads: int, seed: int,
             duration: float, indegree: int, timeout: float,
             wait_idle: float = 0.0) -> dict:
    """Run one tool's script (a peer's, or neurosim's with NEUROSIM_TOOL) in a
    fresh process; return its JSON line with the load around it."""
    _, script, extra, _, _ = NEUROSIM_TOOL if name == "neurosim" else PEERS[name]
    cmd = [python, os.path.join(PEERS_DIR, script), "--n", str(n),
           "--threads", str(threads), "--seed", str(seed),
           "--duration", str(duration), "--indegree", str(indegree), *extra]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    busy = wait_for_idle(wait_idle)
    with OtherLoad() as load:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=REPO)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{name} failed (exit {proc.returncode}):\n{tail}")
    res = json.loads(lines[-1])
    res["peer"] = name
    res["cpu_busy_before"] = busy
    res["other_load_during"] = load.fraction
    return res


# --- machine and summaries ---------------------------------------------------

def cpu_busy_fraction(interval: float = 0.5) -> float | None:
    """Fraction of all CPUs busy over `interval` seconds (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)   # idle + iowait
        return sum(vals), idle
    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def _cpu_ticks() -> tuple[float, float] | None:
    """(busy, total) CPU seconds over all CPUs since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            vals = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals) - idle) / hz, sum(vals) / hz


def _own_cpu_s() -> float:
    """CPU seconds used by this process and its waited-for children."""
    import resource
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


class OtherLoad:
    """Context manager: fraction of the CPUs used by *other* processes inside it.

    (CPU busy time of the whole machine - CPU time of this process and its
    children) / total CPU time, over the block. A run during which another
    process competed for the cores (above ~0.1) has a noisy timing; 2-thread
    OpenMP runs can be slowed down by orders of magnitude then. None when the
    block was too short to tell (under 0.5 CPU-seconds in all).
    """
    def __enter__(self):
        self.t0, self.own0 = _cpu_ticks(), _own_cpu_s()
        self.fraction = None
        return self

    def __exit__(self, *exc):
        t1 = _cpu_ticks()
        if self.t0 is not None and t1 is not None:
            busy, total = t1[0] - self.t0[0], t1[1] - self.t0[1]
            others = busy - (_own_cpu_s() - self.own0)
            # /proc/stat counts in ticks (10 ms): too short a block says nothing.
            if total >= 0.5:
                self.fraction = min(1.0, max(0.0, others / total))
        return False


def wait_for_idle(max_wait: float, threshold: float = 0.1) -> float | None:
    """Wait (up to max_wait s) until the machine is idle; return busy fraction.

    Timings on a machine shared with other work are noisy: this records how
    busy the CPUs were just before a run, and with --wait-idle waits for the
    other work to pause first.
    """
    deadline = time.monotonic() + max_wait
    busy = cpu_busy_fraction()
    while busy is not None and busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy_fraction(2.0)
    return busy


def machine_info(peer_root: str) -> dict:
    info = {"cpu": "unknown", "cores": os.cpu_count(), "ram_bytes": None,
            "platform": platform.platform(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    info["cpu"] = cpu_model()
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    info["ram_bytes"] = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    for mod in ("numpy", "numba"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            info[mod] = None
    info["peer_root"] = peer_root
    return info


def summarise(runs: list[dict]) -> dict:
    """Best and median over repeats; other fields from the best run."""
    sims = [r["sim_s"] for r in runs]
    best = min(runs, key=lambda r: r["sim_s"])
    out = {k: best.get(k) for k in KEYS}
    out.update(
        sim_s_best=min(sims), sim_s_median=statistics.median(sims),
        build_s_median=statistics.median(r["build_s"] for r in runs),
        repeats=len(runs),
        events_per_s=best["events"] / best["sim_s"] if best["sim_s"] > 0 else None,
    )
    out["other_load_max"] = max((r.get("other_load_during") or 0.0) for r in runs)
    for extra in ("compile_s", "prepare_s", "threads_used"):
        if extra in best:
            out[extra] = best[extra]
    return out


def fmt(x, spec: str, none: str = "-") -> str:
    return none if x is None else format(x, spec)


def print_table(n: int, threads: int, rows: dict[str, dict], notes: list[str]) -> None:
    ref = rows.get("neurosim")
    print(f"\n=== N = {n:,}, threads = {threads} ===")
    print(f"{'tool':<18} {'build s':>8} {'sim s':>8} {'(median)':>9} {'rate Hz':>8} "
          f"{'M ev/s':>8} {'B/syn':>7} {'neurosim x':>10}")
    for name, s in rows.items():
        ratio = None
        if ref is not None and name != "neurosim" and ref["sim_s_best"] > 0:
            ratio = s["sim_s_best"] / ref["sim_s_best"]
        evs = s["events_per_s"] / 1e6 if s["events_per_s"] else None
        print(f"{name:<18} {fmt(s['build_s_median'], '8.3f')} "
              f"{s['sim_s_best']:8.3f} {s['sim_s_median']:9.3f} "
              f"{fmt(s['rate_hz'], '8.2f')} {fmt(evs, '8.2f')} "
              f"{fmt(s['bytes_per_synapse'], '7.1f')} {fmt(ratio, '10.2f')}")
    for note in notes:
        print(f"  note: {note}")
    sys.stdout.flush()


# --- main -------------------------------------------------------------------

def parse_limits(text: str | None) -> dict[str, int | None]:
    """--max-peer-n: 'N' (NEST and Brian2 runtime) or 'peer=N,peer=N'."""
    limits = {name: spec[3] for name, spec in PEERS.items()}
    if not text:
        return limits
    for part in text.split(","):
        if "=" in part:
            key, val = part.split("=", 1)
            if key not in PEERS:
                raise SystemExit(f"--max-peer-n: unknown peer {key!r}")
            limits[key] = int(float(val))
        else:
            for key in ("brian2_runtime", "nest"):
                limits[key] = int(float(part))
    return limits


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--sizes", default="4000,40000,400000")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--indegree", type=int, default=80,
                    help="synapses per neuron, split 80/20 exc/inh (1000: event-bound)")
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="comma-separated subset of " + ", ".join(PEERS))
    ap.add_argument("--skip-peers", action="store_true", help="run neurosim only")
    ap.add_argument("--skip-neurosim", action="store_true", help="run the peers only")
    ap.add_argument("--max-peer-n", default=None,
                    help="largest N for NEST and Brian2 runtime (default 40000), "
                         "or per peer: 'nest=400000,brian2_standalone=40000'")
    ap.add_argument("--peer-root", default=os.environ.get("NEUROSIM_PEERS",
                                                          "/opt/neurosim-peers"))
    ap.add_argument("--timeout", type=float, default=3600,
                    help="seconds allowed per peer run")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                    help="before each run, wait up to this long for the CPUs to be "
                         "idle (<10%% busy); the busy fraction is recorded either way")
    ap.add_argument("--retry-noisy", type=int, default=1, metavar="K",
                    help="rerun a peer run up to K times when other processes used "
                         "more than 10%% of the CPUs during it (default 1)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "cuba.json"))
    args = ap.parse_args(argv)

    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    limits = parse_limits(args.max_peer_n)
    wanted = [] if args.skip_peers else [p for p in args.peers.split(",") if p]
    for p in wanted:
        if p not in PEERS:
            ap.error(f"unknown peer {p!r}; choose from {', '.join(PEERS)}")

    pythons = {}
    for p in wanted:
        exe = peer_python(args.peer_root, PEERS[p][0])
        if exe is None:
            print(f"note: skipping {p}: no venv at {os.path.join(args.peer_root, PEERS[p][0])} "
                  f"(run benchmarks/setup_peers.sh)")
        else:
            pythons[p] = exe

    have_neurosim = not args.skip_neurosim

    machine = machine_info(args.peer_root)
    print(f"CUBA benchmark: {machine['cpu']}, {machine['cores']} cores, "
          f"{(machine['ram_bytes'] or 0) / 2**30:.0f} GiB; in-degree {args.indegree}, "
          f"{args.duration} s simulated, seed {args.seed}, best of {args.repeats}")
    print("columns: build s (median), sim s (best, median), mean rate, synaptic events "
          "per sim second, peak RSS bytes per synapse, neurosim x = peer sim s / "
          "neurosim sim s")

    results = []        # one entry per (n, threads)
    versions = {}
    for n in sizes:
        for threads in thread_counts:
            raw: dict[str, list[dict]] = {}
            notes: list[str] = []
            peers = {}
            for p, exe in pythons.items():
                cap, multi = limits[p], PEERS[p][4]
                if cap is not None and n > cap:
                    notes.append(f"{p} skipped at N={n} (> --max-peer-n {cap})")
                elif threads > 1 and not multi:
                    notes.append(f"{p} skipped: single-threaded")
                else:
                    peers[p] = exe
            failed = set()
            # Repeats take the tools in turn, so that a slow phase of the shared
            # machine falls on all of them instead of on one tool's repeats.
            for _ in range(args.repeats):
                if have_neurosim and "neurosim" not in failed:
                    try:
                        r = run_peer("neurosim", sys.executable, n, threads, args.seed,
                                     args.duration, args.indegree, args.timeout,
                                     args.wait_idle)
                        raw.setdefault("neurosim", []).append(r)
                        versions["neurosim"] = r.get("version")
                    except Exception as exc:  # noqa: BLE001
                        notes.append(f"neurosim failed: {type(exc).__name__}: {exc}")
                        failed.add("neurosim")
                for p, exe in peers.items():
                    if p in failed:
                        continue
                    try:
                        for attempt in range(1 + args.retry_noisy):
                            r = run_peer(p, exe, n, threads, args.seed, args.duration,
                                         args.indegree, args.timeout, args.wait_idle)
                            r["attempt"] = attempt + 1
                            if (r["other_load_during"] or 0.0) <= NOISY:
                                break
                        raw.setdefault(p, []).append(r)
                        versions[p] = r.get("version")
                    except subprocess.TimeoutExpired:
                        notes.append(f"{p} timed out after {args.timeout:.0f} s")
                        failed.add(p)
                    except Exception as exc:  # noqa: BLE001
                        notes.append(str(exc))
                        failed.add(p)
            summary = {name: summarise(runs) for name, runs in raw.items()}
            for name, s in summary.items():
                if s.get("compile_s"):
                    notes.append(f"{name}: compile {s['compile_s']:.1f} s (not in build/sim)")
                busy = max(max(r.get("cpu_busy_before") or 0.0,
                               r.get("other_load_during") or 0.0) for r in raw[name])
                if busy > NOISY:
                    notes.append(f"{name}: other processes used up to {busy:.0%} of the "
                                 "CPUs around a run: timings are noisy (try --wait-idle)")
            print_table(n, threads, summary, notes)
            ratios = {}
            if "neurosim" in summary:
                ref = summary["neurosim"]["sim_s_best"]
                ratios = {name: s["sim_s_best"] / ref for name, s in summary.items()
                          if name != "neurosim" and ref > 0}
            results.append({"n": n, "threads": threads, "summary": summary,
                            "speedup_vs_peer": ratios, "notes": notes, "runs": raw})

    machine["tool_versions"] = versions
    doc = {"benchmark": "cuba", "machine": machine,
           "settings": {"sizes": sizes, "threads": thread_counts, "repeats": args.repeats,
                        "seed": args.seed, "duration": args.duration,
                        "indegree": args.indegree, "max_peer_n": limits},
           "results": results}
    write_result(doc, args.out)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
