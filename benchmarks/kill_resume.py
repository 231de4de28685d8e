#!/usr/bin/env python3
"""Kill/resume exactness: SIGKILL ``neurosim run`` at random moments, resume, compare.

Each trial starts a fresh ``neurosim run CONFIG --checkpoint-every ...`` in a
subprocess and SIGKILLs it a random time (seeded) after it wrote its first
checkpoint, uniform over what an uninterrupted run takes from its first
checkpoint to its end (``--from-start``: after its start, uniform over its
whole wall time).  A run that ends before its kill is not counted; another
trial is drawn.  Then ``neurosim run CONFIG --resume`` (or the run again, if
the kill came before the first checkpoint) and the result file is compared
with the one of a run never interrupted: every dataset and attribute bit for
bit, but for the wall-clock ones (:data:`WALL_CLOCK`).  Reports how many
trials came out identical and where the kills landed (during the
simulation, during a checkpoint write, during the result write, ...).

The network config is a Poisson input driving 2,000 LIF neurons through an
STDP projection, with recurrence, spikes of every population, a membrane
trace and a checkpoint every 100 ms of simulated time; ``--task lsm`` runs an
LSM subset (STDP initialisation, then independent samples) on the
Fashion-MNIST idx files, with a checkpoint every batch.

Examples:
    python benchmarks/kill_resume.py                       # 20 kills of the network run
    python benchmarks/kill_resume.py --task lsm --kills 5
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_result  # noqa: E402

#: Root attributes that say when and how fast a run went, not what it computed.
WALL_CLOCK = ("created",)
WALL_CLOCK_PREFIXES = ("timing.",)

NETWORK = """\
seed: 5
duration: 2 s
dt: 0.1 ms
populations:
  src: {size: 200, model: poisson, params: {rate: 40 Hz}}
  exc: {size: 2000, model: lif_exp,
        params: {tau_m: 20 ms, E_L: -49.5 mV, V_th: -50 mV, V_reset: -60 mV, t_ref: 2 ms}}
projections:
  in: {source: src, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.2},
       weight: 1.5 mV, delay: {dist: uniform, low: 0.1 ms, high: 1 ms},
       plasticity: {rule: stdp, a_plus: 0.05 mV, a_minus: 0.055 mV, w_min: 0 mV, w_max: 3 mV}}
  ee: {source: exc, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.02},
       weight: 0.3 mV, delay: 0.5 ms}
record:
  spikes: all
  traces:
    probe: {population: exc, neurons: [0, 3], variables: [v], interval: 1 ms}
"""

LSM = """\
task: lsm_classification
seed: 3
threads: 1
data: {{path: {data}, train: {train}, validation: 50, test: 60}}
liquid: {{size: 125, grid: [5, 5, 5]}}
plasticity: {{rule: stdp}}
protocol: {{init_samples: 64, sample_duration: 100 ms, batch: 8}}
readout: {{epochs: 5}}
branching: {{samples: 10}}
"""
#: Checkpoint intervals: every 100 ms of the network run (20 in all); every batch
#: of the LSM (8 samples of 100 ms, 8 initialisation samples of 20 ms).
EVERY = {"network": "100 ms", "lsm": "100 ms"}


def neurosim(*args: str) -> list[str]:
    """The command line of ``neurosim ARGS`` with this interpreter."""
    return [sys.executable, "-m", "neurosim.cli", *args]


def run_command(config: Path, out: Path, *extra: str) -> list[str]:
    return neurosim("run", str(config), "--output", str(out), "--quiet", "--no-plot", *extra)


def temporaries(path: Path) -> list[Path]:
    """The temporary files of a write of ``path`` in progress (or killed)."""
    return [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.tmp-")]


def result_differences(a: str | os.PathLike, b: str | os.PathLike) -> list[str]:
    """Where two result files differ: dataset paths and ``path:attribute`` names.

    Datasets are compared bit for bit (values, dtype and shape); attributes by
    value, but for the wall-clock ones of the root (:data:`WALL_CLOCK`).
    """
    out = []
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        objects_a, objects_b = {"/": fa}, {"/": fb}
        fa.visititems(lambda name, obj: objects_a.__setitem__(name, obj))
        fb.visititems(lambda name, obj: objects_b.__setitem__(name, obj))
        out += [f"{name}: only in one file" for name in sorted(set(objects_a) ^ set(objects_b))]
        for name in sorted(set(objects_a) & set(objects_b)):
            x, y = objects_a[name], objects_b[name]
            if isinstance(x, h5py.Dataset) != isinstance(y, h5py.Dataset):
                out.append(f"{name}: a group in one file, a dataset in the other")
            elif isinstance(x, h5py.Dataset) and not _same_array(x[()], y[()]):
                out.append(name)
            for attr in sorted(set(x.attrs) | set(y.attrs)):
                if name == "/" and (attr in WALL_CLOCK or attr.startswith(WALL_CLOCK_PREFIXES)):
                    continue
                if attr not in x.attrs or attr not in y.attrs or not _same_array(
                        np.asarray(x.attrs[attr]), np.asarray(y.attrs[attr])):
                    out.append(f"{name}:{attr}")
    return out


def _same_array(x: np.ndarray, y: np.ndarray) -> bool:
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    if x.dtype.kind in "fc":  # bit for bit: NaN equals NaN, -0.0 is not 0.0
        return x.tobytes() == y.tobytes()
    return bool(np.array_equal(x, y))


def kill_after(cmd: list[str], delay: float, after: Path | None = None) -> bool:
    """Start ``cmd``, SIGKILL it ``delay`` seconds after it starts (or after it
    wrote ``after``); False if it ended before the kill."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while after is not None and not after.exists() and proc.poll() is None:
        time.sleep(0.001)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        return True
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed before the kill:\n{stderr}")
    return False


def time_checkpointed_run(cmd: list[str], ckpt: Path) -> tuple[float, float]:
    """Run ``cmd`` to its end: when its first checkpoint appeared, and its wall time."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    first = None
    while proc.poll() is None:
        if first is None and ckpt.exists():
            first = time.perf_counter() - t0
        time.sleep(0.001)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or first is None:
        raise RuntimeError(f"{' '.join(cmd)} failed or wrote no checkpoint")
    return first, wall


def complete(config: Path, out: Path) -> str:
    """Bring a killed run to its end: resume it, or start it again if it left no
    checkpoint; returns how (``resumed``, ``restarted``, ``finished``)."""
    ckpt = out.with_suffix(".ckpt")
    if out.exists():  # written atomically: complete (a kill may come before its checkpoint goes)
        return "finished"
    how = "resumed" if ckpt.exists() else "restarted"
    proc = subprocess.run(run_command(config, out, *(["--resume"] if how == "resumed" else [])),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the {how} run of {out} failed:\n{proc.stderr}")
    return how


def write_config(task: str, folder: Path, data: str, train: int) -> Path:
    path = folder / f"{task}.yaml"
    path.write_text(NETWORK if task == "network" else LSM.format(data=data, train=train))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("network", "lsm"), default="network")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                        help="Fashion-MNIST idx folder (--task lsm)")
    parser.add_argument("--train", type=int, default=200, help="training samples (--task lsm)")
    parser.add_argument("--from-start", action="store_true",
                        help="kill moments from the start (default: from the first checkpoint "
                             "of an uninterrupted run on, where there is something to resume)")
    parser.add_argument("--out", default=str(HERE / "results" / "kill_resume.json"))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    every = ["--checkpoint-every", EVERY[args.task]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(args.task, folder, args.data, args.train)
        reference = folder / "reference.h5"
        subprocess.run(run_command(config, reference), check=True)  # warms numba's cache too
        first, wall = time_checkpointed_run(run_command(config, folder / "timed.h5", *every),
                                            folder / "timed.ckpt")
        # Kill moments counted from the start, or from the trial's own first checkpoint.
        window = wall if args.from_start else wall - first
        trials, ended_first = [], 0
        while len(trials) < args.kills and ended_first < 3 * args.kills:
            out = folder / f"trial{len(trials)}_{ended_first}.h5"
            ckpt = out.with_suffix(".ckpt")
            delay = float(rng.uniform(0, window))
            if not kill_after(run_command(config, out, *every), delay,
                              None if args.from_start else ckpt):
                ended_first += 1  # no kill: the run was faster than the uninterrupted one
                continue
            landed = ("during a checkpoint write" if temporaries(ckpt) else
                      "during the result write" if temporaries(out) else
                      "after the result was saved" if out.exists() else
                      "before the first checkpoint" if not ckpt.exists() else
                      "during the run")
            how = complete(config, out)
            differences = result_differences(reference, out)
            trials.append({"delay_s": delay, "landed": landed, "completed_by": how,
                           "identical": not differences, "differences": differences[:10]})
            print(f"kill {len(trials):2d} {delay:5.2f} s after "
                  f"{'the start' if args.from_start else 'its first checkpoint'} ({landed}): "
                  f"{how}, " + ("identical" if not differences
                                else "DIFFERENT: " + ", ".join(differences[:3])))
    identical = sum(t["identical"] for t in trials)
    landed = {place: sum(t["landed"] == place for t in trials)
              for place in dict.fromkeys(t["landed"] for t in trials)}
    print(f"{identical} of {len(trials)} killed and resumed runs bit-identical to the "
          f"uninterrupted run ({args.task}; uninterrupted wall {wall:.2f} s, first checkpoint "
          f"at {first:.2f} s, kills uniform over {window:.2f} s; runs that ended before "
          f"their kill, not counted: {ended_first}; landed: "
          + ", ".join(f"{n} {place}" for place, n in landed.items()) + ")")
    write_result({"task": args.task, "kills": len(trials), "identical": identical,
                  "landed": landed, "seed": args.seed, "uninterrupted_wall_s": wall,
                  "first_checkpoint_s": first, "kill_window_s": window,
                  "from_start": args.from_start, "ended_before_the_kill": ended_first,
                  "checkpoint_every": EVERY[args.task], "load_average": os.getloadavg(),
                  "trials": trials}, args.out)
    return 0 if identical == len(trials) else 1


if __name__ == "__main__":
    sys.exit(main())
