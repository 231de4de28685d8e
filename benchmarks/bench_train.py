"""Surrogate-gradient training: neurosim against snnTorch, norse and SpikingJelly on
snnTorch's tutorial network.

The built-in ``snn_fashion`` config (784-1000-10 discrete LIF, beta 0.95, 25
steps, batch 128, Adam lr 5e-4, the sum over steps of the output membrane's
cross-entropy) trained for one epoch by both, in this process, on one thread:

- the same training samples in the same batch order, the same input spikes
  (constant current, or Bernoulli rate with ``--encoding bernoulli_rate``),
  the same initial weights (neurosim's, copied into each peer's layers);
- snnTorch's side is its public API (``snn.Leaky``, ``surrogate.atan``) in
  the loop of its tutorial, stepping the network one time step at a time;
- norse's is ``LIFBoxCell`` (its LIF without synaptic current) stepped the
  same way, with ``tau_mem_inv dt = 1 - beta`` and the layer's current
  scaled by ``1 / (1 - beta)``, so ``v <- beta v + I`` as in the others;
  reset by subtraction; its own SuperSpike surrogate (it has no atan);
- SpikingJelly's is ``neuron.LIFNode`` (torch) in multi-step mode over the
  whole sequence, as its tutorials run it (the input repeated over the
  steps), ``tau = 1 / (1 - beta)`` without input decay, soft reset,
  detached reset, ``surrogate.ATan(alpha)``;
- norse and SpikingJelly subtract the threshold in the step that spikes, so
  the membrane they report (the loss's) is after the reset, where snnTorch's
  and neurosim's is before it: the same dynamics, not the same readout;
- reported: training samples/s of each and neurosim's ratio to each, and
  test accuracy after the epoch by output spike count and by summed output
  membrane.  A peer that is not installed is left out with its reason.

The first batch of each side is run once before timing (neurosim's
``torch.compile`` builds its kernels there).  ``--batches N`` trains on N
batches instead of the whole epoch.  JSON to ``benchmarks/results/``.

    python benchmarks/bench_train.py                              # both encodings
    python benchmarks/bench_train.py --encoding constant_current --batches 50
    python benchmarks/bench_train.py --peers snntorch          # snnTorch alone
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
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


class NorseNet(torch.nn.Module):
    """The same network of norse's ``LIFBoxCell``s, stepped in time (module docstring)."""

    DT = 1e-3

    def __init__(self, sizes, beta, alpha):
        from norse.torch import LIFBoxCell, LIFBoxParameters
        from norse.torch.functional.reset import reset_subtract

        super().__init__()
        self.fc1 = torch.nn.Linear(sizes[0], sizes[1])
        self.fc2 = torch.nn.Linear(sizes[1], sizes[2])
        params = LIFBoxParameters(tau_mem_inv=torch.tensor((1 - beta) / self.DT),
                                  reset_method=reset_subtract)
        self.lif1, self.lif2 = LIFBoxCell(params, dt=self.DT), LIFBoxCell(params, dt=self.DT)
        self.gain = 1 / (1 - beta)  # dv = dt tau_mem_inv (I - v): v <- beta v + I

    def forward(self, x, steps):
        constant = x.dim() == 2
        state1 = state2 = None
        spikes, membranes = [], []
        for t in range(steps):
            spk1, state1 = self.lif1(self.fc1(x if constant else x[t]) * self.gain, state1)
            spk2, state2 = self.lif2(self.fc2(spk1) * self.gain, state2)
            spikes.append(spk2)
            membranes.append(state2.v)
        return torch.stack(spikes), torch.stack(membranes)


class SpikingJellyNet(torch.nn.Module):
    """The same network of SpikingJelly's ``LIFNode``s in multi-step mode (module docstring)."""

    def __init__(self, sizes, beta, alpha):
        from spikingjelly.activation_based import functional, neuron, surrogate

        super().__init__()
        self.fc1 = torch.nn.Linear(sizes[0], sizes[1])
        self.fc2 = torch.nn.Linear(sizes[1], sizes[2])
        self.lif1, self.lif2 = (neuron.LIFNode(
            tau=1 / (1 - beta), decay_input=False, v_reset=None, detach_reset=True,
            surrogate_function=surrogate.ATan(alpha=alpha), step_mode="m", store_v_seq=True)
            for _ in range(2))
        self.reset_net = functional.reset_net

    def forward(self, x, steps):
        self.reset_net(self)
        if x.dim() == 2:
            x = x.unsqueeze(0).repeat(steps, 1, 1)
        spikes = self.lif2(self.fc2(self.lif1(self.fc1(x))))
        return spikes, self.lif2.v_seq


#: The peers by name: their network class and the package it needs.
PEERS = {"snntorch": (SnnTorchNet, "snntorch"), "norse": (NorseNet, "norse"),
         "spikingjelly": (SpikingJellyNet, "spikingjelly")}


def twin(peer: str, trainer: Trainer) -> torch.nn.Module:
    """A peer's network with neurosim's initial weights."""
    cfg = trainer.cfg
    params = cfg.network.neuron.params
    net = PEERS[peer][0](cfg.sizes(), params.beta, cfg.surrogate.alpha)
    layers = trainer.model.layers
    with torch.no_grad():
        for fc, name in ((net.fc1, "hidden"), (net.fc2, "out")):
            fc.weight.copy_(layers[name].weight)
            fc.bias.copy_(layers[name].bias)
    return net


def train_peer(trainer: Trainer, net: torch.nn.Module) -> float:
    """One epoch of a peer on neurosim's batches; returns the training seconds."""
    cfg = trainer.cfg
    opt = torch.optim.Adam(net.parameters(), lr=cfg.optimizer.lr, betas=cfg.optimizer.betas)
    train = trainer.samples["train"]
    order = seeds.generator(cfg.seed, seeds.TRAIN_ORDER, 0).permutation(len(train.labels))
    size = cfg.batch_size
    net.train()
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
def test_peer(trainer: Trainer, net: torch.nn.Module) -> tuple[float, float]:
    """Test accuracy by spike count and by summed membrane, on neurosim's test inputs."""
    test, size = trainer.samples["test"], trainer.cfg.batch_size
    net.eval()
    by_count = by_membrane = 0
    for b, first in enumerate(range(0, len(test.labels), size)):
        labels = test.labels[first:first + size]
        x = trainer._inputs(test.images[first:first + size], "test", 0, b).flatten(start_dim=-3)
        spikes, membrane = net(x, trainer.cfg.steps)
        by_count += correct(spikes.sum(0), labels)
        by_membrane += correct(membrane.sum(0), labels)
    return by_count / len(test.labels), by_membrane / len(test.labels)


def warm_up(trainer: Trainer, nets: dict[str, torch.nn.Module]) -> None:
    """One forward and backward pass of each on a copy (compiles neurosim's steps)."""
    cfg, train = trainer.cfg, trainer.samples["train"]
    x = trainer._inputs(train.images[:cfg.batch_size], "train", 0, 0)
    runs = [(copy.deepcopy(trainer.model), (x,))] + [
        (copy.deepcopy(net), (x.flatten(start_dim=-3), cfg.steps)) for net in nets.values()]
    for model, inputs in runs:
        LOSSES[cfg.loss](*model(*inputs), train.labels[:cfg.batch_size]).backward()


def _accuracies(rate: float, train_s: float, test: tuple[float, float]) -> dict:
    return {"samples_per_s": rate, "train_s": train_s, "test_accuracy_count": test[0],
            "test_accuracy_membrane": test[1]}


def bench(encoding: str, peers: list[str], args) -> dict:
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
    nets = {peer: twin(peer, trainer) for peer in peers}
    warm_up(trainer, nets)
    record = trainer.train_epoch(quiet=True)
    batches = len(trainer.samples["train"].labels) // cfg.batch_size
    row = {
        "encoding": encoding, "batches": batches, "batch_size": cfg.batch_size,
        "steps": cfg.steps, "test_samples": len(trainer.samples["test"].labels),
        "compile": cfg.compile,
        "neurosim": _accuracies(record["samples_per_s"], record["train_s"],
                                trainer.evaluate("test")),
    }
    for peer, net in nets.items():
        train_s = train_peer(trainer, net)
        row[peer] = _accuracies(batches * cfg.batch_size / train_s, train_s,
                                test_peer(trainer, net))
        row[_ratio_key(peer)] = record["samples_per_s"] / row[peer]["samples_per_s"]
    return row


def _ratio_key(peer: str) -> str:
    """neurosim's samples/s over a peer's: ``ratio`` for snnTorch (as in earlier results)."""
    return "ratio" if peer == "snntorch" else f"ratio_{peer}"


def _available(peers: list[str]) -> tuple[list[str], dict[str, str]]:
    """The peers that import, and why each other one does not."""
    found, missing = [], {}
    for peer in peers:
        try:
            importlib.import_module(PEERS[peer][1])
            found.append(peer)
        except ImportError as err:
            missing[peer] = f"{type(err).__name__}: {err}"
    return found, missing


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
    parser.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS))
    parser.add_argument("--out", help="JSON path (default: results/train_<encoding>.json)")
    args = parser.parse_args()
    peers, missing = _available(args.peers)
    for peer, reason in missing.items():
        print(f"{peer} left out: {reason}")

    torch.set_num_threads(args.threads)
    encodings = (["constant_current", "bernoulli_rate"] if args.encoding == "both"
                 else [args.encoding])
    rows = []
    load_before = os.getloadavg()[0]  # the machine may be shared: ratios, not seconds
    for encoding in encodings:
        row = bench(encoding, peers, args)
        rows.append(row)
        print(f"{encoding}: {row['batches']} batches of {row['batch_size']}, "
              f"{row['steps']} steps, {args.threads} thread(s)")
        for name in ["neurosim", *peers]:
            r = row[name]
            ratio = f"   neurosim {row[_ratio_key(name)]:.2f}x" if name != "neurosim" else ""
            print(f"  {name:<13}{r['samples_per_s']:>9,.0f} samples/s   test "
                  f"{100 * r['test_accuracy_count']:.2f}% by count, "
                  f"{100 * r['test_accuracy_membrane']:.2f}% by membrane{ratio}")
    out = args.out or RESULTS / f"train_{args.encoding}.json"
    versions = {peer: importlib.metadata.version(PEERS[peer][1]) for peer in peers}
    data = {"benchmark": "bench_train", "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch": torch.__version__, **versions,
            "left_out": missing, "threads": args.threads,
            "load_average_1min": [load_before, os.getloadavg()[0]], "rows": rows}
    print(f"json: {write_result(data, out)}")


if __name__ == "__main__":
    main()
