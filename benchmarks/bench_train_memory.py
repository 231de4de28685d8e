"""Peak memory of one BPTT training step: neurosim against snnTorch, by number of steps.

snnTorch's tutorial network (784-1000-10 discrete LIF, beta 0.95, batch 128,
the built-in ``snn_fashion`` config, one thread) takes one training step
(forward, backward, Adam step) on one batch at 25, 100 and 500 time steps, in
a fresh subprocess per measurement, for

- ``neurosim``: the config as it is (every step's membrane kept for the
  backward pass);
- ``neurosim recompute``: with ``recompute_steps`` set (the layer state kept
  every ``k`` steps, spikes kept as bytes, the membrane of ``k`` steps at a
  time recomputed in the backward pass); ``k`` is ``ceil(sqrt(steps))``
  unless ``--recompute-steps`` says otherwise;
- ``snntorch``: its public API (``snn.Leaky``) stepped in time, as
  ``bench_train.py`` runs it, with the same initial weights.

What is measured: the growth of the process's peak resident memory during
the step, ``VmHWM`` of ``/proc/self/status`` after the peak was reset by
writing ``5`` to ``/proc/self/clear_refs``, less ``VmRSS`` just before the
step (torch has no allocator statistics on the CPU).  A warm-up step first
loads the libraries and builds Adam's state (at 2 time steps; with
``--compile`` at the measured steps, which compiles the unrolled runs), and
the step's input is drawn before the reset, so what is left is the step's
own tensors.  Each is
measured twice, under two settings of glibc's malloc:

- ``live``: ``MALLOC_MMAP_THRESHOLD_=65536``, every block over 64 KiB its own
  mapping, unmapped when freed: the RSS follows the live tensors;
- ``heap``: glibc's default, which serves blocks below its (growing) mmap
  threshold from a heap it keeps: what a user's process sees, but with the
  allocator's reuse mixed in (with ``--compile`` every side's warm-up runs
  the measured steps and leaves a heap the step reuses: read the live rows).

Linux only.
The input is the config's encoding on random images (memory does not depend
on the pixel values).  JSON to ``benchmarks/results/train_memory.json``.

    python benchmarks/bench_train_memory.py
    python benchmarks/bench_train_memory.py --steps 25 100 --encoding bernoulli_rate
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from _results import write_result

RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 128
TOOLS = ("neurosim", "neurosim_recompute", "snntorch")
#: The environment of each malloc setting (module docstring).
MALLOC = {"live": {"MALLOC_MMAP_THRESHOLD_": "65536"}, "heap": {}}


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {key}")


def measure(tool: str, steps: int, encoding: str, recompute_steps: int, compiled: bool) -> dict:
    """One training step of ``tool``'s network in this process: peak RSS growth in MiB."""
    from neurosim.config import load_config
    from neurosim.training.loop import LOSSES, Trainer, Samples

    torch.set_num_threads(1)
    overrides = [f"steps={steps}", f"encoding.kind={encoding}", "data.train=128",
                 "data.validation=0", "data.test=1", f"compile={str(compiled).lower()}"]
    if tool == "neurosim_recompute":
        overrides.append(f"recompute_steps={recompute_steps}")
    cfg = load_config("snn_fashion", overrides)
    gen = torch.Generator().manual_seed(0)
    images = torch.rand((BATCH, 1, 28, 28), generator=gen)
    labels = torch.randint(0, 10, (BATCH,), generator=gen)
    samples = {split: Samples(images, labels, None) for split in ("train", "validation", "test")}
    trainer = Trainer(cfg, samples)
    if tool == "snntorch":
        from bench_train import twin

        model = twin("snntorch", trainer)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.optimizer.lr)

        def forward(inputs, n_steps):
            return model(inputs.flatten(start_dim=-3), n_steps)
    else:
        model, optimizer = trainer.model, trainer.optimizer

        def forward(inputs, n_steps):
            model.steps = n_steps
            return model(inputs)

    def train_step(inputs: torch.Tensor, n_steps: int) -> None:
        loss = LOSSES[cfg.loss](*forward(inputs, n_steps), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    inputs = trainer._inputs(images, "train", 0, 0)
    # Warm-up: libraries and Adam's state; compiled runs unroll their steps, so they
    # are compiled at the measured number of steps.
    warm = steps if compiled else 2
    train_step(inputs[:warm] if inputs.dim() == 5 else inputs, warm)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    train_step(inputs, steps)
    seconds = time.perf_counter() - start
    return {"peak_growth_mib": (_status_kib("VmHWM") - before) / 1024, "step_s": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[25, 100, 500])
    parser.add_argument("--encoding", choices=["constant_current", "bernoulli_rate"],
                        default="constant_current")
    parser.add_argument("--recompute-steps", type=int,
                        help="recompute_steps of the recompute rows (default: ceil(sqrt(steps)))")
    parser.add_argument("--compile", action="store_true",
                        help="neurosim's steps through torch.compile (default: eager; the "
                             "compiled kernels keep the same tensors)")
    parser.add_argument("--out", help="JSON path (default: results/train_memory.json)")
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "STEPS", "K"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tool, steps, k = args.child[0], int(args.child[1]), int(args.child[2])
        print(json.dumps(measure(tool, steps, args.encoding, k, args.compile)))
        return
    import snntorch

    load_before = os.getloadavg()[0]
    rows = []
    for steps in args.steps:
        k = args.recompute_steps or math.ceil(math.sqrt(steps))
        row = {"steps": steps, "recompute_steps": k}
        for malloc, env in MALLOC.items():
            row[malloc] = {}
            for tool in TOOLS:
                command = [sys.executable, __file__, "--encoding", args.encoding,
                           "--child", tool, str(steps), str(k)] + (["--compile"] * args.compile)
                done = subprocess.run(command, capture_output=True, text=True, check=True,
                                      env={**os.environ, **env})
                row[malloc][tool] = json.loads(done.stdout.strip().splitlines()[-1])
            mib = {tool: row[malloc][tool]["peak_growth_mib"] for tool in TOOLS}
            for tool in ("neurosim", "neurosim_recompute"):
                row[malloc][f"{tool}_over_snntorch"] = mib[tool] / mib["snntorch"]
            print(f"{steps:>4} steps (k={k}) {malloc}: "
                  + "   ".join(f"{tool} {mib[tool]:,.0f} MiB "
                               f"({row[malloc][tool]['step_s']:.2f} s)" for tool in TOOLS)
                  + "   neurosim / snnTorch "
                  + f"{row[malloc]['neurosim_over_snntorch']:.3f}, recompute / snnTorch "
                  + f"{row[malloc]['neurosim_recompute_over_snntorch']:.3f}", flush=True)
        rows.append(row)
    data = {"benchmark": "bench_train_memory", "measure": "VmHWM growth after clear_refs 5",
            "malloc": MALLOC,
            "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "snntorch": snntorch.__version__, "threads": 1,
            "batch_size": BATCH, "encoding": args.encoding, "compile": args.compile,
            "load_average_1min": [load_before, os.getloadavg()[0]], "rows": rows}
    print(f"json: {write_result(data, args.out or RESULTS / 'train_memory.json')}")


if __name__ == "__main__":
    main()
