"""The trained network: the layers of a ``task: train`` config as a torch module.

Each linear layer computes its input current for all steps at once (one
matrix product over ``steps x batch`` rows; with constant input, one over
``batch`` rows for every step), then its neurons run over the steps
(:func:`neurosim.training.neurons.lif_sequence`).  A feed-forward network is
so computed layer by layer rather than step by step, with the same result.

With ``recompute_steps: k`` the steps are cut into pieces of ``k``: each
piece runs every layer from the state the piece before ended in, under
:func:`torch.utils.checkpoint.checkpoint`, which keeps only the piece's
inputs (the layer states, a few ``(batch, n)`` tensors) and runs the piece
again in the backward pass to get what its backward needs.  What the
backward pass holds at once shrinks from all ``steps`` steps of every layer
to ``k`` steps plus ``steps / k`` states (least near ``k = sqrt(steps)``), for
one more forward pass.  The weight gradients are then sums over the pieces:
the same terms summed in another order, equal to the float rounding.
"""

from __future__ import annotations

import math

import torch
from torch.utils.checkpoint import checkpoint

from neurosim.config.train import Flatten, TrainConfig
from neurosim.training.neurons import LayerState, layer_neurons, lif_sequence
from neurosim.training.surrogates import Surrogate, get_surrogate


class SpikingNetwork(torch.nn.Module):
    """The layers of ``cfg.network`` with weights drawn from ``generator``.

    Weights and biases start uniform in ``+-1/sqrt(fan_in)``, as
    ``torch.nn.Linear``'s do; recurrent weights with the layer's own size as fan-in.
    Parameters are named ``layers.<layer>.weight`` / ``.bias`` / ``.recurrent``
    after the layer's name in the config.
    """

    def __init__(self, cfg: TrainConfig, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.steps = cfg.steps
        self.surrogate: Surrogate = get_surrogate(cfg.surrogate)
        self.backward_mode = cfg.backward
        self.compiled = cfg.compile
        self.recompute_steps = cfg.recompute_steps
        self.layers = torch.nn.ModuleDict()
        self.neurons = {}
        for name, layer in cfg.network.layers.items():
            module = torch.nn.Module()
            if not isinstance(layer, Flatten):
                n_in, n_out = layer.in_features, layer.out_features
                module.weight = _uniform((n_out, n_in), n_in, generator, dtype)
                module.bias = _uniform((n_out,), n_in, generator, dtype) if layer.bias else None
                module.recurrent = (_uniform((n_out, n_out), n_out, generator, dtype)
                                    if layer.recurrent else None)
                self.neurons[name] = layer_neurons(cfg.network.neuron_of(layer).params, dtype)
            self.layers[name] = module

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Output spikes and membrane ``(steps, batch, classes)`` for input ``x``:
        ``(batch, *sample)`` given at every step, or ``(steps, batch, *sample)``."""
        if self.recompute_steps is None or not torch.is_grad_enabled():
            spikes, membrane, _ = self._span(x, self.steps, None)
            return spikes, membrane
        constant = x.dim() == 4  # samples are (channels, rows, columns)
        states, pieces = None, []
        for first in range(0, self.steps, self.recompute_steps):
            steps = min(self.recompute_steps, self.steps - first)
            piece = x if constant else x[first:first + steps]
            spikes, membrane, states = checkpoint(self._span, piece, steps, states,
                                                  use_reentrant=False, preserve_rng_state=False)
            pieces.append((spikes, membrane))
        return tuple(torch.cat(parts) for parts in zip(*pieces))

    def _span(self, x: torch.Tensor, steps: int, states: list[LayerState] | None):
        """``steps`` steps of every layer from ``states`` (one per linear layer; None:
        at rest): output spikes, output membrane and the layers' end states."""
        batch_dims = 1 if x.dim() == 4 else 2
        last = list(self.layers)[-1]
        membrane, ends = None, []
        for name, layer in self.layers.items():
            if name not in self.neurons:  # flatten
                x = x.flatten(start_dim=batch_dims)
                continue
            current = torch.nn.functional.linear(x, layer.weight, layer.bias)
            x, membrane, end = lif_sequence(
                current, steps, layer.recurrent, self.neurons[name], self.surrogate,
                start=states[len(ends)] if states else None, membrane=name == last,
                backward=self.backward_mode, compiled=self.compiled)
            ends.append(end)
            batch_dims = 2
        return x, membrane, ends


def _uniform(shape, fan_in: int, generator: torch.Generator, dtype) -> torch.nn.Parameter:
    bound = 1 / math.sqrt(fan_in)
    draw = torch.rand(shape, generator=generator, dtype=torch.float64) * (2 * bound) - bound
    return torch.nn.Parameter(draw.to(dtype))
