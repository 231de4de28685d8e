r"""The converted network: the ANN's layers with integrate-and-fire neurons for its
activations, stepped by the model layer's ``lif_discrete`` torch step.

Each activation becomes a population of ``lif_discrete`` neurons with
``beta = 1`` (no leak: integrate-and-fire), ``reset: subtract`` and the
layer's threshold :math:`\theta_l` (:mod:`neurosim.convert.normalise`), every
membrane starting at ``initial_membrane`` :math:`\cdot\,\theta_l`.  A spike
stands for :math:`\theta_l`: the next weighted layer's weights are the ANN's
times :math:`\theta_l` (Rueckauer et al. 2017's weight normalisation, written
as a threshold), while pooling and flattening act on the spikes as on rates.

With input :math:`a` in every step, :math:`0 \le a \le \theta` and start
:math:`v_0 = u\theta`, the membrane after the reset stays in
:math:`[0, \theta)`, so the count after :math:`T` steps is
:math:`N_T = \lfloor T a / \theta + u \rfloor` and

.. math::

    \left| \frac{N_T}{T} - \mathrm{clamp}\!\left(\frac{a}{\theta}, 0, 1\right) \right|
        \le \frac{\max(u, 1 - u)}{T},

(inputs below 0 give no spike, above :math:`\theta` one every step): the
first hidden layer, whose input is the same image at every step, meets this
exactly; deeper layers see spike trains and converge as their inputs do.
The image is the input current at every step (no encoding noise); the output
layer has no neurons: its input summed over the steps is the score, as in
SpikingJelly's converter.  One run to the largest step count gives the
scores of every smaller one on the way.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import torch

from neurosim.config.convert import ACTIVATION_SUFFIX
from neurosim.models.lif_discrete import LifDiscreteParams, torch_kernels
from neurosim.training.neurons import LayerNeurons, layer_neurons


@dataclass(frozen=True)
class IFPopulation:
    """The neurons that stand in for one layer's activation."""

    layer: str
    neurons: LayerNeurons
    #: Membrane every neuron starts from (membrane units).
    v_start: float


@dataclass
class SNNOutput:
    """What one batch's run gives."""

    #: Scores ``(batch, classes)`` after each requested step count.
    scores: dict[int, torch.Tensor]
    #: Spike counts ``(batch, *layer shape)`` of every population over all the steps.
    spike_counts: dict[str, torch.Tensor]


@functools.cache
def _step(compiled: bool):
    """The model layer's step, eager or fused by ``torch.compile`` into one loop (its
    dozen elementwise passes over the membranes cost more than the convolutions)."""
    return torch.compile(torch_kernels.step, dynamic=False) if compiled else torch_kernels.step


class ConvertedSNN:
    """The ANN ``model`` (a :func:`neurosim.convert.ann.build_ann` network) with IF
    neurons of the given thresholds (module docstring); ``compiled``: the step runs
    through ``torch.compile`` (needs a C++ compiler; compiles once per layer shape)."""

    def __init__(self, model: torch.nn.Sequential, thresholds: dict[str, float],
                 initial_membrane: float, compiled: bool = False):
        self.step = _step(compiled)
        self.stages: list[torch.nn.Module | IFPopulation] = []
        #: The ANN module name of each stage.
        self.names: list[str] = []
        spike_value = 1.0  # what a spike of the populations before stands for
        for name, module in model.named_children():
            self.names.append(name)
            if name.endswith(ACTIVATION_SUFFIX):
                layer = name[:-len(ACTIVATION_SUFFIX)]
                theta = thresholds[layer]
                params = LifDiscreteParams(beta=1.0, threshold=theta, reset="subtract")
                self.stages.append(IFPopulation(layer, layer_neurons(params),
                                                initial_membrane * theta))
                spike_value = theta
            elif hasattr(module, "weight"):
                scaled = copy.deepcopy(module).eval()
                with torch.no_grad():
                    scaled.weight.mul_(spike_value)
                self.stages.append(scaled)
            else:
                self.stages.append(module)
        #: Stages before the first population: their output is the same at every step.
        self.constant = next((i for i, s in enumerate(self.stages)
                              if isinstance(s, IFPopulation)), len(self.stages))

    @torch.inference_mode()
    def run(self, images: torch.Tensor, steps: list[int]) -> SNNOutput:
        """Run ``max(steps)`` steps on a batch of images; scores at each of ``steps``."""
        x = images
        for stage in self.stages[:self.constant]:
            x = stage(x)
        drive = x
        membranes: dict[str, torch.Tensor] = {}
        refractory: dict[str, torch.Tensor] = {}
        counts: dict[str, torch.Tensor] = {}
        total = None
        scores = {}
        zero = images.new_zeros(())
        for t in range(1, max(steps) + 1):
            x = drive
            for stage in self.stages[self.constant:]:
                if not isinstance(stage, IFPopulation):
                    x = stage(x)
                    continue
                name = stage.layer
                if name not in membranes:
                    membranes[name] = torch.full_like(x, stage.v_start)
                    refractory[name] = torch.zeros_like(x)
                    counts[name] = torch.zeros_like(x)
                spikes, membranes[name], (_, _, refractory[name]), _ = self.step(
                    membranes[name], (x, zero, refractory[name]), None, t,
                    stage.neurons.par)
                x = spikes.to(images.dtype)
                counts[name] += x
            total = x if total is None else total + x
            if t in steps:
                scores[t] = total.clone()
        return SNNOutput(scores, counts)


def snn_accuracy(snn: ConvertedSNN, images: torch.Tensor, labels: torch.Tensor,
                 steps: list[int], batch_size: int
                 ) -> tuple[dict[int, float], dict[str, torch.Tensor]]:
    """Test accuracy after each step count, and each population's spikes per neuron
    over the largest count, summed over the samples (``(*layer shape)``)."""
    hits = dict.fromkeys(steps, 0)
    totals: dict[str, torch.Tensor] = {}
    for first in range(0, len(labels), batch_size):
        batch_labels = labels[first:first + batch_size]
        k = len(batch_labels)
        batch = images[first:first + batch_size]
        if k < batch_size:  # padded to a full batch: a compiled step never meets a new shape
            batch = torch.cat([batch, batch.new_zeros((batch_size - k, *batch.shape[1:]))])
        out = snn.run(batch, steps)
        for t, scores in out.scores.items():
            hits[t] += int((scores[:k].argmax(1) == batch_labels).sum())
        for name, counts in out.spike_counts.items():
            summed = counts[:k].sum(0)
            totals[name] = totals[name] + summed if name in totals else summed
    return {t: hits[t] / len(labels) for t in steps}, totals
