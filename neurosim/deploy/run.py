"""Test samples through a deployed network on a backend, next to the training's forward pass.

The network is built and put on the backend once; every sample starts from the
backend's state at rest (:meth:`~neurosim.backends.base.Backend.restore`), runs
in one chunk per pipeline stage (:mod:`neurosim.deploy.network`: a layer's bias
switches on when its graph starts) and leaves the output layer's spike counts
and summed membrane.  The training's forward pass runs on the same samples in
the batches its own evaluation uses, with the same input spikes
(:func:`neurosim.training.loop.encode`), so the reference is exactly what
``neurosim train`` reported on the test set.

Counters are the work of each sample, summed: population updates and spikes,
synaptic events, the backend's hardware counters (the difference over the
sample, whether the backend's own counts survive a restore or not), and, with
constant-current input, the first layer's dense product once per sample.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from neurosim.backends import get_backend
from neurosim.deploy.network import INPUT, Deployed
from neurosim.energy.counters import add_counters, empty_counters
from neurosim.result import HARDWARE_COUNTERS
from neurosim.training.loop import Samples, encode
from neurosim.training.model import SpikingNetwork


@dataclass
class DeployRun:
    """Output spike counts and summed membrane ``(n, classes)`` of the deployed
    network and of the training's forward pass, and the deployed run's counters."""

    labels: np.ndarray
    counts: np.ndarray
    membrane: np.ndarray
    reference_counts: np.ndarray
    reference_membrane: np.ndarray
    counters: dict
    sim_s: float
    reference_s: float


def reference_model(dep: Deployed, weights: dict[str, np.ndarray]) -> SpikingNetwork:
    """The training's network with the trained tensors."""
    model = SpikingNetwork(dep.cfg, torch.Generator().manual_seed(0))
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    return model.eval()


def _first_current(dep: Deployed, images: torch.Tensor) -> torch.Tensor:
    """The first layer's current ``W x + b`` of a batch, as the training's forward takes it."""
    layer = dep.layers[0]
    x = images.flatten(start_dim=1)
    return torch.nn.functional.linear(x, torch.from_numpy(layer.weight),
                                      torch.from_numpy(layer.bias))


def _chunks(dep: Deployed) -> list[tuple[int, int]]:
    starts = sorted({0, *(s for s in dep.shifts if s < dep.steps)})
    return list(zip(starts, starts[1:] + [dep.steps]))


def _events(spikes: np.ndarray | None, start: int, a: int, b: int):
    """``(ext_ptr, ext_idx)`` of engine steps ``a:b`` for input spikes ``(steps, pixels)``."""
    ptr = np.zeros(b - a + 1, np.int64)
    if spikes is None or a >= len(spikes):
        return ptr, np.empty(0, np.int32)
    part = spikes[a:b]
    step, pixel = np.nonzero(part)
    np.cumsum(np.bincount(step, minlength=len(part)), out=ptr[1:len(part) + 1])
    ptr[len(part) + 1:] = ptr[len(part)]
    return ptr, (pixel + start).astype(np.int32)


def _rest_state(engine, dep: Deployed) -> dict[str, np.ndarray]:
    """The backend's state at rest, as copies (the torch backend's ``state()`` on the
    CPU hands out numpy views of its live tensors), with the cpu engine's spike
    history as wide as the most input events a step can bring (every pixel), so
    that no sample widens it past the state restored."""
    rest = {key: np.array(value, copy=True) for key, value in engine.state().items()}
    if dep.spiking_input and "hist" in rest:
        pixels = dep.network.population(INPUT).size
        hist = rest["hist"]
        wide = np.zeros((hist.shape[0], dep.network.n_neurons + pixels), hist.dtype)
        wide[:, :hist.shape[1]] = hist
        rest["hist"] = wide
    engine.restore(rest)
    return rest


def _hardware(backend, events: dict[str, int]) -> dict:
    return backend.hardware_counters(events)


def _minus(after: dict, before: dict) -> dict:
    return {name: {k: int(row[k]) - int(before.get(name, {}).get(k, 0)) for k in row}
            for name, row in after.items()}


def run_samples(dep: Deployed, weights: dict[str, np.ndarray], samples: Samples, backend: str,
                run_cfg, *, threads: int = 1, batch_size: int | None = None) -> DeployRun:
    """Every sample of ``samples`` on ``backend`` (made with ``from_config(net, run_cfg)``)
    and through the training's forward pass (module docstring)."""
    net, cfg = dep.network, dep.cfg
    size = batch_size or cfg.batch_size
    engine = get_backend(backend).from_config(net, run_cfg, threads)
    rest = _rest_state(engine, dep)
    out = dep.output
    trace_idx = np.arange(out.start, out.stop, dtype=np.int64)
    input_start = net.population(INPUT).start if dep.spiking_input else 0
    chunks = _chunks(dep)
    tables = {a: dep.table_at(a, None) for a, _ in chunks}
    model = reference_model(dep, weights)
    n = len(samples.labels)
    counts = np.zeros((n, out.size), np.int64)
    membrane = np.zeros((n, out.size), np.float64)
    ref_counts = np.zeros((n, out.size), np.int64)
    ref_membrane = np.zeros((n, out.size), np.float64)
    per_sample = []
    zero_events = {p.name: 0 for p in net.projections}
    sim_s = ref_s = 0.0
    for b, first in enumerate(range(0, n, size)):
        images = samples.images[first:first + size]
        k = len(images)
        if k < size:  # padded as the training's evaluation pads (same shapes, same spikes)
            images = torch.cat([images, images.new_zeros((size - k, *images.shape[1:]))])
        t0 = time.perf_counter()
        with torch.no_grad():
            x = encode(cfg, images, "test", 0, b)
            spikes, mem = model(x)
            currents = None if dep.spiking_input else _first_current(dep, images).numpy()
        ref_counts[first:first + k] = spikes[:, :k].sum(0).numpy().astype(np.int64)
        ref_membrane[first:first + k] = mem[:, :k].double().sum(0).numpy()
        inputs = x.flatten(start_dim=2).numpy() if dep.spiking_input else None
        t1 = time.perf_counter()
        for j in range(k):
            engine.restore(rest)
            before = _hardware(engine, zero_events)
            sampled = []
            for a, stop in chunks:
                engine.set_population_params(tables[a] if currents is None
                                             else dep.table_at(a, currents[j]))
                ptr, idx = _events(inputs[:, j] if inputs is not None else None,
                                   input_start, a, stop)
                chunk = engine.advance(a, stop - a, ptr, idx, False, trace_idx, 1)
                sampled.append(chunk.traces[:, :, 0])
            spike_count = engine.spike_counts()
            counts[first + j] = spike_count[out.start:out.stop]
            membrane[first + j] = np.concatenate(sampled).astype(np.float64).sum(0)
            per_sample.append(_sample_counters(dep, engine, spike_count, before))
        ref_s += t1 - t0
        sim_s += time.perf_counter() - t1
    counters = add_counters(*per_sample) if per_sample else empty_counters()
    return DeployRun(samples.labels.numpy().astype(np.int64), counts, membrane, ref_counts,
                     ref_membrane, counters, sim_s, ref_s)


def _sample_counters(dep: Deployed, engine, spike_count: np.ndarray, before: dict) -> dict:
    """One sample's counters (module docstring)."""
    net = dep.network
    pops = {p.name: {"neurons": p.size,
                     "neuron_updates": 0 if p.model.is_source else p.size * dep.steps,
                     "spikes": int(spike_count[p.start:p.stop].sum())}
            for p in net.populations}
    projections, events = {}, {}
    for proj in net.projections:
        pre = net.population(proj.source)
        events[proj.name] = int(np.dot(spike_count[pre.start:pre.stop],
                                       proj.outdegree.astype(np.int64)))
        projections[proj.name] = {"synapses": proj.n_synapses,
                                  "synaptic_events": events[proj.name]}
    hardware = _minus(_hardware(engine, events), before)
    if not dep.spiking_input:  # the image's current, one dense product per sample
        layer = dep.layers[0]
        name = f"pixels->{layer.name}"
        projections[name] = {"synapses": int(layer.weight.size),
                             "multiply_accumulates": int(layer.weight.size)}
        hardware[name] = dict.fromkeys(HARDWARE_COUNTERS, 0)
    return {"populations": pops, "projections": projections, "hardware": hardware}


def agreement(run: DeployRun) -> dict[str, float]:
    """Accuracies (by spike count, by summed membrane) of both, and the fraction of
    samples whose output spike counts are identical."""
    def acc(scores):
        return float((scores.argmax(1) == run.labels).mean()) if len(run.labels) else float("nan")

    return {"accuracy_count": acc(run.counts), "accuracy_membrane": acc(run.membrane),
            "reference_accuracy_count": acc(run.reference_counts),
            "reference_accuracy_membrane": acc(run.reference_membrane),
            "identical_counts": float((run.counts == run.reference_counts).all(1).mean()),
            "same_prediction": float((run.counts.argmax(1)
                                      == run.reference_counts.argmax(1)).mean()),
            "samples": int(len(run.labels))}

