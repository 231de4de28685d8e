"""Count the work of torch models (ANN, SNN or hybrid) as neurosim counters.

Forward hooks record, for every call of a synaptic layer (``Linear``,
``Conv1d/2d/3d``):

* a **dense** input (any real values): ``multiply_accumulates`` (a workload
  count, in the ``projections`` section) = output elements x inputs per output
  (one MAC per weight use, bias adds ignored), and ``bytes_moved`` (hardware)
  = the weights, the input and the output once each (no reuse across calls);
* a **spiking** input (every value 0 or 1): only the synapses of inputs that
  spiked work. ``synaptic_events`` (workload) = ``digital_accumulations``
  (hardware) = the number
  of (nonzero input, output) pairs connected by a weight, counted exactly by
  running the layer on the spike mask with all weights set to one, and
  ``bytes_moved`` = one weight read per event.

Activation modules (ReLU, sigmoid, ...) count one neuron update per output
element; snntorch spiking neurons count one update per neuron per call and
their output spikes. The result has the layout of ``Result.counters``, so
:func:`neurosim.energy.estimate` prices an ANN, an SNN and a hybrid on the
same profile.

This module imports torch; :mod:`neurosim.energy` itself does not.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from neurosim.energy.counters import empty_counters
from neurosim.result import HARDWARE_COUNTERS

_SYNAPTIC = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU, nn.ELU,
                nn.Softplus, nn.ReLU6, nn.Hardtanh)


def _is_spiking_neuron(module: nn.Module) -> bool:
    # snntorch neurons all derive from snntorch.SpikingNeuron; checked by
    # name so that snntorch stays optional.
    return any(cls.__name__ == "SpikingNeuron" and cls.__module__.startswith("snntorch")
               for cls in type(module).__mro__)


def _is_spikes(x: torch.Tensor) -> bool:
    return bool(((x == 0) | (x == 1)).all())


class TorchCounter:
    """Context manager that counts a model's work while it runs.

    >>> with TorchCounter(model) as counter:        # doctest: +SKIP
    ...     for t in range(steps):
    ...         model(spikes[t])
    >>> counters = counter.counters()               # doctest: +SKIP

    Parameters
    ----------
    model:
        Any ``nn.Module``; every submodule of a counted type is hooked and
        named by its qualified name in the model.
    spiking:
        ``"auto"`` treats a synaptic layer's input as spikes when every value
        is 0 or 1; ``True``/``False`` force one reading for every layer.
    """

    def __init__(self, model: nn.Module, spiking: bool | str = "auto") -> None:
        if spiking not in ("auto", True, False):
            raise ValueError(f"spiking must be 'auto', True or False, got {spiking!r}")
        self.model = model
        self.spiking = spiking
        self._counters = empty_counters()
        self._handles: list = []

    def __enter__(self) -> TorchCounter:
        for name, module in self.model.named_modules():
            name = name or type(module).__name__
            if isinstance(module, _SYNAPTIC):
                self._handles.append(module.register_forward_hook(self._synaptic_hook(name)))
            elif isinstance(module, _ACTIVATIONS) or _is_spiking_neuron(module):
                self._handles.append(module.register_forward_hook(self._neuron_hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def counters(self) -> dict[str, dict[str, dict[str, int]]]:
        """The counts so far (a copy), in ``Result.counters`` layout."""
        return {section: {name: dict(row) for name, row in rows.items()}
                for section, rows in self._counters.items()}

    # -- hooks ---------------------------------------------------------------
    def _rows(self, name: str, module: nn.Module) -> tuple[dict, dict]:
        projections, hardware = self._counters["projections"], self._counters["hardware"]
        if name not in projections:
            projections[name] = {"synapses": int(module.weight.numel()), "synaptic_events": 0,
                                 "multiply_accumulates": 0}
            hardware[name] = dict.fromkeys(HARDWARE_COUNTERS, 0)
        return projections[name], hardware[name]

    def _synaptic_hook(self, name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            x = inputs[0].detach()
            projection, hardware = self._rows(name, module)
            weight = module.weight
            spikes = _is_spikes(x) if self.spiking == "auto" else self.spiking
            with torch.no_grad():
                if spikes:
                    events = int(_connected_pairs(module, (x != 0).to(weight.dtype)))
                    projection["synaptic_events"] += events
                    hardware["digital_accumulations"] += events
                    hardware["bytes_moved"] += events * weight.element_size()
                else:
                    macs = output.numel() * weight[0].numel()
                    projection["multiply_accumulates"] += int(macs)
                    hardware["bytes_moved"] += int(
                        weight.numel() * weight.element_size() + x.numel() * x.element_size()
                        + output.numel() * output.element_size())
        return hook

    def _neuron_hook(self, name: str):
        def hook(module: nn.Module, inputs: tuple, output) -> None:
            out = output[0] if isinstance(output, tuple) else output
            out = out.detach()
            row = self._counters["populations"].setdefault(
                name, {"neurons": int(out[0].numel()) if out.dim() > 1 else int(out.numel()),
                       "neuron_updates": 0, "spikes": 0})
            row["neuron_updates"] += int(out.numel())
            if _is_spiking_neuron(module):
                row["spikes"] += int(torch.count_nonzero(out))
        return hook


def _connected_pairs(module: nn.Module, mask: torch.Tensor) -> torch.Tensor:
    """Sum over outputs of the number of nonzero inputs wired to it."""
    ones = torch.ones_like(module.weight)
    if isinstance(module, nn.Linear):
        return F.linear(mask, ones).sum()
    return module._conv_forward(mask, ones, None).sum()


def count_torch(model: nn.Module, inputs: torch.Tensor, spiking: bool | str = "auto"):
    """Run ``model(inputs)`` once without gradients and return its counters."""
    with torch.no_grad(), TorchCounter(model, spiking=spiking) as counter:
        model(inputs)
    return counter.counters()
