"""One network on 1 vs 2 MPI ranks: CUBA at 40k and 400k neurons, time per step split
into compute and exchange, bytes exchanged, spikes checked identical; and the
spike exchange as ``Allgatherv`` against ``Alltoallv``.

Usage::

    python benchmarks/bench_mpi.py                      # scales 10 and 100 (40k, 400k)
    python benchmarks/bench_mpi.py --scales 10 --duration 0.5 --repeats 1

Each scale runs, alternating, ``neurosim run cuba_scaled --set scale=S`` in one
process and ``mpirun -n R neurosim run ... --distributed`` for each rank count,
all with 1 thread per process, ``--repeats`` times; the timings are the
results' own ``sim_s`` (simulation only: build and start-up apart, reported
separately), and ``exchange_s_max`` (the slowest rank's seconds inside the
collectives, which includes waiting for the other ranks).  Compute per step
is the rest.  The spikes, rates and counters of every distributed run must
equal the one-process run's bit for bit, or the script fails.

The collectives comparison runs ``--collectives-worker`` under ``mpirun``:
per step, each rank sends ``n`` spike ids (32-bit) to every rank, as
``Allgather`` of counts + ``Allgatherv``, or as ``Alltoall`` of counts +
``Alltoallv`` (every rank's ids to every destination: in a random network
each spike has targets on every rank), through mpi4py.

Machine notes: the one-process run and each rank use one core; on a 2-core
machine 2 ranks take both.  Nothing here calls BLAS (``OPENBLAS_CORETYPE``
does not matter).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_result

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from kill_resume import result_differences  # noqa: E402

NEUROSIM = [sys.executable, "-m", "neurosim.cli"]
# Root in containers; more ranks than cores on a small machine.
MPI_ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
#: Metadata only a distributed run has (or that differs by construction).
DISTRIBUTED_ONLY = {"bytes_per_synapse", "exchange_every_steps", "exchange_s_max",
                    "exchanged_bytes", "exchanges", "ranks"}


def run(out: Path, scale: float, duration: float, ranks: int | None) -> dict:
    command = [*NEUROSIM, "run", "cuba_scaled", f"--set=scale={scale}",
               f"--set=duration={duration}s", "--threads", "1", "-q", "--no-plot", "-f",
               "-o", str(out)]
    if ranks is not None:
        command = [shutil.which("mpirun"), "-n", str(ranks), *command, "--distributed"]
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=MPI_ENV)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stderr}")
    from neurosim.io import load

    result = load(out)
    meta = result.metadata
    return {"wall_s": wall, **{k: meta.get(k) for k in (
        "n_neurons", "n_synapses", "sim_s", "build_s", "exchange_s_max", "exchanges",
        "exchanged_bytes", "exchange_every_steps")}, "steps": round(duration / result.dt)}


def check_identical(one: Path, other: Path) -> None:
    differ = [d for d in result_differences(one, other)
              if not (d.startswith("/:meta.") and d[len("/:meta."):] in DISTRIBUTED_ONLY)]
    if differ:
        sys.exit(f"{other} differs from the one-process run: {differ}")


def scale_rows(scale: float, duration: float, rank_counts: list[int], repeats: int,
               tmp: Path) -> dict:
    runs: dict[str, list[dict]] = {"1 process": [], **{f"mpirun -n {r}": [] for r in rank_counts}}
    for repeat in range(repeats):  # alternate, so drifts of the machine hit every variant
        one = tmp / f"one-{scale}.h5"
        runs["1 process"].append(run(one, scale, duration, None))
        for ranks in rank_counts:
            out = tmp / f"r{ranks}-{scale}.h5"
            runs[f"mpirun -n {ranks}"].append(run(out, scale, duration, ranks))
            check_identical(one, out)
    base = statistics.median(r["sim_s"] for r in runs["1 process"])
    row = {"scale": scale, "duration_s": duration, "identical_spikes": True, "variants": {}}
    for name, rs in runs.items():
        steps = rs[0]["steps"]
        sim = statistics.median(r["sim_s"] for r in rs)
        variant = {"n_neurons": rs[0]["n_neurons"], "n_synapses": rs[0]["n_synapses"],
                   "sim_s": sim, "sim_s_all": [r["sim_s"] for r in rs],
                   "build_s": statistics.median(r["build_s"] for r in rs),
                   "wall_s": statistics.median(r["wall_s"] for r in rs),
                   "us_per_step": 1e6 * sim / steps, "speedup_vs_1_process": base / sim}
        if rs[0]["exchanges"] is not None:
            exchange = statistics.median(r["exchange_s_max"] for r in rs)
            variant.update({
                "exchange_us_per_step": 1e6 * exchange / steps,
                "compute_us_per_step": 1e6 * (sim - exchange) / steps,
                "exchange_fraction": exchange / sim,
                "exchanges": rs[0]["exchanges"],
                "exchange_every_steps": rs[0]["exchange_every_steps"],
                "bytes_received_per_step": rs[0]["exchanged_bytes"] / steps})
        row["variants"][name] = variant
    return row


def collectives_worker(sizes: list[int], iterations: int) -> None:
    """Under mpirun: time both exchanges per step for each ids-per-rank size."""
    import numpy as np
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    ranks = comm.size
    rows = []
    for n in sizes:
        ids = np.arange(n, dtype=np.int32) * ranks + comm.rank
        counts = np.array([n], dtype=np.int64)
        all_counts = np.empty(ranks, dtype=np.int64)
        received = np.empty(n * ranks, dtype=np.int32)
        to_each = np.tile(ids, ranks)  # Alltoallv: the same ids for every destination
        send_counts = np.full(ranks, n, dtype=np.int64)
        send_starts = np.arange(ranks, dtype=np.int64) * n
        row = {"ids_per_rank": n}
        for name in ("allgatherv", "alltoallv"):
            comm.Barrier()
            t0 = MPI.Wtime()
            for _ in range(iterations):
                if name == "allgatherv":
                    comm.Allgather(counts, all_counts)
                    comm.Allgatherv(ids, (received, all_counts))
                else:
                    comm.Alltoall(send_counts, all_counts)
                    comm.Alltoallv((to_each, (send_counts, send_starts)),
                                   (received, (all_counts, send_starts)))
            row[f"{name}_us"] = 1e6 * comm.allreduce(MPI.Wtime() - t0, op=MPI.MAX) / iterations
        rows.append(row)
    if comm.rank == 0:
        print(json.dumps(rows))


def collectives(ranks: int, sizes: list[int], iterations: int) -> list[dict]:
    command = [shutil.which("mpirun"), "-n", str(ranks), sys.executable, __file__,
               "--collectives-worker", "--sizes", *map(str, sizes),
               "--iterations", str(iterations)]
    proc = subprocess.run(command, capture_output=True, text=True, env=MPI_ENV)
    if proc.returncode != 0:
        sys.exit(f"collectives benchmark failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2],
                        help="rank counts of the distributed runs (1: its overhead alone)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10, 100, 1000, 10000],
                        help="spike ids per rank per exchange, for the collectives")
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--collectives-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "results" / "bench_mpi.json"))
    args = parser.parse_args()
    if args.collectives_worker:
        return collectives_worker(args.sizes, args.iterations)
    if shutil.which("mpirun") is None:
        sys.exit("bench_mpi: no mpirun (apt-get install openmpi-bin libopenmpi-dev)")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [scale_rows(s, args.duration, args.ranks, args.repeats, Path(tmp))
                for s in args.scales]
    gathers = collectives(max(args.ranks), args.sizes, args.iterations)
    for row in rows:
        print(f"CUBA scale {row['scale']:g}, {row['duration_s']:g} s simulated, spikes identical")
        for name, v in row["variants"].items():
            split = (f"  compute {v['compute_us_per_step']:7.1f} + exchange "
                     f"{v['exchange_us_per_step']:6.1f} us/step, "
                     f"{v['bytes_received_per_step']:8.0f} B/step received"
                     if "exchanges" in v else "")
            print(f"  {name:<11} {v['n_neurons']:>8,} neurons  {v['us_per_step']:8.1f} us/step  "
                  f"{v['speedup_vs_1_process']:5.2f}x{split}")
    print(f"spike exchange per step on {max(args.ranks)} ranks (mpi4py):")
    for g in gathers:
        print(f"  {g['ids_per_rank']:>6} ids/rank  Allgatherv {g['allgatherv_us']:7.2f} us  "
              f"Alltoallv {g['alltoallv_us']:7.2f} us")
    write_result({"command": " ".join(sys.argv), "threads_per_process": 1,
                  "cpu_count": os.cpu_count(), "scales": rows, "collectives": gathers},
                 args.out)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
