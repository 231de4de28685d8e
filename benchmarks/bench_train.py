"""Surrogate-gradient training: neurosim against snnTorch on snnTorch's tutorial network.

The built-in ``snn_fashion`` config (784-1000-10 discrete LIF, beta 0.95, 25
steps, batch 128, Adam lr 5e-4, the sum over steps of the output membrane's
cross-entropy) trained for one epoch by both, in this process, on one thread:

- the same training samples in the same batch order, the same input spikes
  (constant current, or Bernoulli rate with ``--encoding bernoulli_rate``),
  the same initial weights (neurosim's, copied into snnTorch's layers);
- snnTorch's side is its public API (``snn.Leaky``, ``surrogate.atan``) in
  the loop of its tutorial, stepping the network one time step at a time;
- reported: training samples/s of each and their ratio, and test accuracy
  after the epoch by output spike count and by summed output membrane.

The first batch of each side is run once before timing (neurosim's
``torch.compile`` builds its kernels there).  ``--batches N`` trains on N
batches instead of the whole epoch.  JSON to ``benchmarks/results/``.

    python benchmarks/bench_train.py                              # both encodings
    python benchmarks/bench_train.py --encoding constant_current --batches 50
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import time
from pathlib import Path

import torch

from _results import write_result

from neurosim import seeds
from neurosim.config import load_config
from neurosim.training.loop import LOSSES, Trainer, correct, load_samples

RESULTS = Path(__file__).resolve().parent / "results"


class SnnTorchNet(torch.nn.Module):
    """snnTorch's tutorial-5 network: Linear -> Leaky -> Linear -> Leaky, stepped in time."""

    def __init__(self, sizes, beta, alpha):
        import snntorch as snn
        from snntorch import surrogate

        super().__init__()
        self.fc1 = torch.nn.Linear(sizes[0], sizes[1])
        self.fc2 = torch.nn.Linear(sizes[1], sizes[2])
        self.lif1 = snn.Leaky(beta=beta, spike_grad=surrogate.atan(alpha=alpha))
        self.lif2 = snn.Leaky(beta=beta, spike_grad=surrogate.atan(alpha=alpha))

    def forward(self, x, steps):
        constant = x.dim() == 2
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, membranes = [], []
        for t in range(steps):
            spk1, mem1 = self.lif1(self.fc1(x if constant else x[t]), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            membranes.append(mem2)
        return torch.stack(spikes), torch.stack(membranes)


def snntorch_twin(trainer: Trainer) -> SnnTorchNet:
    """snnTorch's network with neurosim's initial weights."""
    cfg = trainer.cfg
    params = cfg.network.neuron.params
    net = SnnTorchNet(cfg.sizes(), params.beta, cfg.surrogate.alpha)
    layers = trainer.model.layers
    with torch.no_grad():
        for fc, name in ((net.fc1, "hidden"), (net.fc2, "out")):
            fc.weight.copy_(layers[name].weight)
            fc.bias.copy_(layers[name].bias)
    return net


def train_snntorch(trainer: Trainer, net: SnnTorchNet) -> float:
    """One epoch of snnTorch on neurosim's batches; returns the training seconds."""
    cfg = trainer.cfg
    opt = torch.optim.Adam(net.parameters(), lr=cfg.optimizer.lr, betas=cfg.optimizer.betas)
    train = trainer.samples["train"]
    order = seeds.generator(cfg.seed, seeds.TRAIN_ORDER, 0).permutation(len(train.labels))
    size = cfg.batch_size
    start = time.perf_counter()
    for b in range(len(order) // size):
        idx = torch.from_numpy(order[b * size:(b + 1) * size])
        x = trainer._inputs(train.images[idx], "train", 0, b).flatten(start_dim=-3)
        loss = LOSSES[cfg.loss](*net(x, cfg.steps), train.labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


@torch.no_grad()
def test_snntorch(trainer: Trainer, net: SnnTorchNet) -> tuple[float, float]:
    """Test accuracy by spike count and by summed membrane, on neurosim's test inputs."""
    test, size = trainer.samples["test"], trainer.cfg.batch_size
    by_count = by_membrane = 0
    for b, first in enumerate(range(0, len(test.labels), size)):
        labels = test.labels[first:first + size]
        x = trainer._inputs(test.images[first:first + size], "test", 0, b).flatten(start_dim=-3)
        spikes, membrane = net(x, trainer.cfg.steps)
        by_count += correct(spikes.sum(0), labels)
        by_membrane += correct(membrane.sum(0), labels)
    return by_count / len(test.labels), by_membrane / len(test.labels)


def warm_up(trainer: Trainer, net: SnnTorchNet) -> None:
    """One forward and backward pass of each on a copy (compiles neurosim's steps)."""
    cfg, train = trainer.cfg, trainer.samples["train"]
    x = trainer._inputs(train.images[:cfg.batch_size], "train", 0, 0)
    for model, inputs in ((copy.deepcopy(trainer.model), (x,)),
                          (copy.deepcopy(net), (x.flatten(start_dim=-3), cfg.steps))):
        LOSSES[cfg.loss](*model(*inputs), train.labels[:cfg.batch_size]).backward()


def bench(encoding: str, args) -> dict:
    overrides = [f"encoding.kind={encoding}", "data.validation=0", f"threads={args.threads}",
                 f"compile={str(not args.no_compile).lower()}"]
    if args.data:
        overrides.append(f"data.path={args.data}")
    if args.test:
        overrides.append(f"data.test={args.test}")
    if args.batches:
        overrides.append(f"data.train={args.batches * 128}")
    cfg = load_config("snn_fashion", overrides)
    trainer = Trainer(cfg, load_samples(cfg))
    net = snntorch_twin(trainer)
    warm_up(trainer, net)
    record = trainer.train_epoch(quiet=True)
    ns_test = trainer.evaluate("test")
    sn_train_s = train_snntorch(trainer, net)
    sn_test = test_snntorch(trainer, net)
    batches = len(trainer.samples["train"].labels) // cfg.batch_size
    sn_rate = batches * cfg.batch_size / sn_train_s
    row = {
        "encoding": encoding, "batches": batches, "batch_size": cfg.batch_size,
        "steps": cfg.steps, "test_samples": len(trainer.samples["test"].labels),
        "compile": cfg.compile,
        "neurosim": {"samples_per_s": record["samples_per_s"], "train_s": record["train_s"],
                     "test_accuracy_count": ns_test[0], "test_accuracy_membrane": ns_test[1]},
        "snntorch": {"samples_per_s": sn_rate, "train_s": sn_train_s,
                     "test_accuracy_count": sn_test[0], "test_accuracy_membrane": sn_test[1]},
    }
    row["ratio"] = record["samples_per_s"] / sn_rate
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoding", choices=["constant_current", "bernoulli_rate", "both"],
                        default="both")
    parser.add_argument("--batches", type=int, help="train on this many batches (default: "
                                                    "the whole epoch, 390 batches of 128)")
    parser.add_argument("--test", type=int, help="test samples (default 10,000)")
    parser.add_argument("--data", help="Fashion-MNIST folder (default: the system's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-compile", action="store_true",
                        help="neurosim's steps eager (no torch.compile)")
    parser.add_argument("--out", help="JSON path (default: results/train_<encoding>.json)")
    args = parser.parse_args()
    import snntorch

    torch.set_num_threads(args.threads)
    encodings = (["constant_current", "bernoulli_rate"] if args.encoding == "both"
                 else [args.encoding])
    rows = []
    load_before = os.getloadavg()[0]  # the machine may be shared: ratios, not seconds
    for encoding in encodings:
        row = bench(encoding, args)
        rows.append(row)
        ns, sn = row["neurosim"], row["snntorch"]
        print(f"{encoding}: {row['batches']} batches of {row['batch_size']}, "
              f"{row['steps']} steps, {args.threads} thread(s)")
        for name, r in (("neurosim", ns), ("snntorch", sn)):
            print(f"  {name:<9}{r['samples_per_s']:>9,.0f} samples/s   test "
                  f"{100 * r['test_accuracy_count']:.2f}% by count, "
                  f"{100 * r['test_accuracy_membrane']:.2f}% by membrane")
        print(f"  neurosim / snnTorch: {row['ratio']:.2f}x samples/s")
    out = args.out or RESULTS / f"train_{args.encoding}.json"
    data = {"benchmark": "bench_train", "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch": torch.__version__, "snntorch": snntorch.__version__,
            "threads": args.threads, "load_average_1min": [load_before, os.getloadavg()[0]],
            "rows": rows}
    print(f"json: {write_result(data, out)}")


if __name__ == "__main__":
    main()
