"""The work of the converted network and of its ANN, as neurosim counters, and
``neurosim energy`` of a conversion result.

The SNN's counts cover the test samples over the largest step count:

- each IF population: ``neurons``, ``neuron_updates`` (one per neuron and
  step) and ``spikes``; the output layer's integrators update every step too
  (they never spike);
- the weighted layers before the first population see the image, the same in
  every step, so their current is taken once per sample: dense
  ``multiply_accumulates`` (each output times its inputs);
- every later weighted layer gets spikes: ``synaptic_events``, one per
  (spike, synapse).  Average pooling between is folded into the layer's
  weights, as a deployment does (it is linear), so a spike reaches every
  output its pooling window feeds: the count is the layer with all weights 1
  applied to the summed (not averaged) pooled spike counts, exact for any
  kernel, stride and padding.  Bias currents are not counted (as
  :mod:`neurosim.energy.torch_count` leaves out bias adds).

The ANN's are :func:`neurosim.energy.torch_count.count_torch`'s on the same
test samples, so a profile prices both per inference (:func:`file_energy`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from neurosim.config.convert import ACTIVATION_SUFFIX
from neurosim.convert.ann import QCFS
from neurosim.convert.normalise import layer_activations
from neurosim.convert.snn import ConvertedSNN, IFPopulation
from neurosim.energy.counters import WORKLOAD_KEYS, add_counters, empty_counters, iter_counts
from neurosim.energy.torch_count import count_torch
from neurosim.errors import DataError


def _events(layer: torch.nn.Module, spikes: torch.Tensor) -> int:
    """(spike, synapse) pairs of ``layer`` for per-input spike counts ``spikes`` (1, *shape)."""
    ones = torch.ones(layer.weight.shape, dtype=torch.float64)
    if isinstance(layer, torch.nn.Conv2d):
        reached = F.conv2d(spikes, ones, None, layer.stride, layer.padding)
    else:
        reached = F.linear(spikes, ones)
    return int(round(float(reached.double().sum())))


def snn_counters(snn: ConvertedSNN, image_shape: tuple[int, ...], spike_totals: dict[str, torch.Tensor],
                 samples: int, steps: int) -> dict:
    """Counters of ``samples`` inferences of ``steps`` steps; ``spike_totals``: each
    population's spikes per neuron summed over the samples (module docstring)."""
    counters = empty_counters()
    x = torch.zeros((1, *image_shape))
    spikes = None  # per-input spike counts of the stages since the last population
    for i, stage in enumerate(snn.stages):
        if isinstance(stage, IFPopulation):
            total = spike_totals[stage.layer]
            counters["populations"][stage.layer] = {
                "neurons": total.numel(), "neuron_updates": total.numel() * steps * samples,
                "spikes": int(round(float(total.double().sum())))}
            spikes = total.unsqueeze(0).to(torch.float64)
            continue
        with torch.no_grad():
            out = stage(x)
        if hasattr(stage, "weight"):
            row = {"synapses": stage.weight.numel()}
            if spikes is None:  # the image's current, once per sample
                row["multiply_accumulates"] = out.numel() * stage.weight[0].numel() * samples
            else:
                row["synaptic_events"] = _events(stage, spikes)
                spikes = None
            counters["projections"][snn.names[i]] = row
        elif spikes is not None:
            scale = stage.kernel_size ** 2 if isinstance(stage, torch.nn.AvgPool2d) else 1
            spikes = stage(spikes) * scale  # pooled spikes summed, not averaged
        x = out
    classes = x.numel()
    counters["populations"]["output"] = {"neurons": classes,
                                         "neuron_updates": classes * steps * samples,
                                         "spikes": 0}
    return counters


def ann_counters(model: torch.nn.Sequential, images: torch.Tensor, batch_size: int) -> dict:
    """The ANN's counters on ``images`` (dense multiply-accumulates and activations;
    a QCFS activation, which count_torch does not know, one update per output)."""
    model.eval()
    counters = add_counters(empty_counters(), *(
        count_torch(model, images[i:i + batch_size], spiking=False)
        for i in range(0, len(images), batch_size)))
    for name, activations in layer_activations(model, images, batch_size).items():
        module = name + ACTIVATION_SUFFIX
        if isinstance(getattr(model, module), QCFS):
            counters["populations"][module] = {"neurons": activations[0].numel(),
                                               "neuron_updates": activations.numel(),
                                               "spikes": 0}
    return counters


def file_energy(path, profiles, *, samples: int = 1):
    """``neurosim energy`` of a conversion result: the SNN (over its most steps) and its
    ANN per test inference on each profile.  ``samples`` is not used: the result
    knows how many test samples its counters cover."""
    from neurosim.convert.result import load_convert
    from neurosim.energy import compare_table, estimate

    result = load_convert(path)
    if not result.counters:
        raise DataError(f"{path}: this conversion result holds no counters to price")
    n, steps = result.test_samples, int(result.steps[-1])
    snn = [estimate(result.counters["snn"], p, samples=n) for p in profiles]
    ann = [estimate(result.counters["ann"], p, samples=n) for p in profiles]
    lines = [f"{result.name}: energy per inference over {n} test samples",
             f"SNN, {steps} steps ({100 * result.snn_accuracy[-1]:.2f} % test accuracy):",
             compare_table(snn),
             f"ANN ({100 * result.ann_accuracy:.2f} % test accuracy):", compare_table(ann)]
    for profile, s, a in zip(profiles, snn, ann):
        missing = {net: _unpriced(result.counters[net], profile) for net in ("snn", "ann")}
        if any(missing.values()):  # a ratio of partial sums would mislead
            lines.append(f"{s.profile}: no SNN/ANN ratio, the profile prices no "
                         + "; ".join(f"{', '.join(keys)} ({net.upper()})"
                                     for net, keys in missing.items() if keys))
        else:
            lines.append(f"{s.profile}: the SNN takes {s.total / a.total:.3g}x the ANN's energy")
    return snn, "\n".join(lines)


def _unpriced(counters: dict, profile) -> list[str]:
    """The counters with counts that ``profile`` has no energy figure for."""
    return sorted({key for _, _, key, count in iter_counts(counters)
                   if count and key in WORKLOAD_KEYS and key not in profile.energy})
