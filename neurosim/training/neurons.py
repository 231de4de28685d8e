r"""A layer's neurons over all time steps: the model layer's ``lif_discrete`` torch step
in a loop, and its backward pass over the whole sequence.

The forward pass is always :func:`neurosim.models.lif_discrete.torch_kernels.step`,
the step every neurosim backend runs, so a trained layer spikes as the engine
would.  The gradient comes one of two ways:

- ``autograd``: the step runs with a surrogate spike function and torch
  records every operation of every step (the reference).
- ``fused``: the whole sequence is one autograd node (:class:`_FusedLIF`).
  Its forward runs the same step with a spike function that keeps
  ``x[t] = v[t] - threshold``, all the backward needs; its backward walks the
  steps in reverse with the chain rule of that step written out:

  .. math::

      g_v[t] &= g_m[t] + \beta\, g_{vv}[t+1]                   \\
      g_{vv}[t] &= g_s[t]\, \sigma'(x[t]) + g_v[t]\,(1 - z\, s[t]) \\
      g_e[t] &= \text{gain}\; g_{vv}[t] + \alpha\, g_e[t+1]     \\
      g_s[t] &\mathrel{+}= g_e[t+1]\, R \quad\text{(recurrent layers)}

  with ``vv`` the membrane before a reset-to-zero (``z = 1``), ``e`` the
  synaptic current the layer's input feeds, ``m`` the membrane the layer
  reports.  As in the step, no gradient flows through a reset (snnTorch's
  detached reset).  It records two operations per step where autograd
  records some twenty, and keeps one tensor per step instead of a dozen.

With ``reset: subtract`` the membrane a layer reports is ``v`` before the
threshold comes off (the step subtracts it in the step after the spike), as
snnTorch's ``Leaky`` reports it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from neurosim.models.lif_discrete import MODEL as LIF_DISCRETE
from neurosim.models.lif_discrete import LifDiscreteParams
from neurosim.models.lif_discrete import torch_kernels
from neurosim.training.surrogates import Surrogate


@dataclass(frozen=True)
class LayerNeurons:
    """One layer's ``lif_discrete`` parameters: the step's ``par`` tuple and the
    scalars of the backward pass."""

    #: ``(beta, gain, alpha, bias, threshold, subtract, resume)`` as the step takes it.
    par: tuple[torch.Tensor, ...]
    beta: float
    gain: float
    alpha: float
    zero_reset: bool


def layer_neurons(params: LifDiscreteParams, dtype: torch.dtype = torch.float32) -> LayerNeurons:
    """The parameters of a layer's neurons, discretised by the model itself.

    Training steps are bare steps (``t_ref`` is 0, so ``dt`` does not enter).
    """
    p = {key: np.array([value]) for key, value in params.model_dump().items()}
    row = LIF_DISCRETE.discretise(p, 1.0, np.zeros(1))[0]
    resume = float(np.asarray(LIF_DISCRETE.refractory_steps(p, 1.0)).ravel()[0]) + 1
    par = tuple(torch.tensor(float(c), dtype=dtype) for c in (*row, resume))
    beta, gain, alpha = (float(c) for c in row[:3])
    return LayerNeurons(par, beta, gain, alpha, zero_reset=params.reset == "zero")


def _forward_step(v, e, count, par, spike):
    """One model-layer step of a layer (no second receptor): ``(spikes, v, carried,
    count, x)``; ``carried`` is the synaptic current the step leaves for the next,
    ``x = v - threshold`` as the step's spike function saw it."""
    seen = []

    def spike_fn(x):
        seen.append(x)
        return spike(x)

    s, v, (carried, _, count), _ = torch_kernels.step(v, (e, e.new_zeros(()), count), None, 0,
                                                      par, spike_fn)
    return s, v, carried, count, seen[0]


def _backward_step(g_s, g_v, x, s, slope, zero_reset: bool):
    """``g_vv`` of one step (module docstring); ``g_v`` None: nothing reaches ``v`` from later."""
    g_spike = g_s * slope(x)
    if g_v is None:
        return g_spike
    return g_spike + (g_v * (s <= 0).to(g_v.dtype) if zero_reset else g_v)


@functools.cache
def _kernels(compiled: bool):
    """The per-step forward and backward: eager, or fused by ``torch.compile``
    into one loop each (the step's ~20 elementwise passes over memory become one)."""
    if not compiled:
        return _forward_step, _backward_step
    return (torch.compile(_forward_step, dynamic=False),
            torch.compile(_backward_step, dynamic=False))


def run_steps(current: torch.Tensor, steps: int, recurrent: torch.Tensor | None,
              neurons: LayerNeurons, spike, *, membrane: bool = False, record: bool = False,
              compiled: bool = False):
    """``steps`` steps of the model layer's step, from rest.

    Parameters
    ----------
    current:
        Input current ``(steps, batch, n)``, or ``(batch, n)`` for one that is
        the same at every step (constant input: the layer's product was taken once).
    recurrent:
        ``(n, n)`` weights of the layer's spikes onto itself, one step later; or None.
    spike:
        The step's spike function: a surrogate's :meth:`~Surrogate.spike`, or its
        differentiable ``spike_fn()``.
    membrane:
        Whether to return the membrane the step reports, per step.
    record:
        Whether to return ``x = v - threshold`` of every step (what the fused backward needs).
    compiled:
        Whether to run the step through ``torch.compile``.

    Returns
    -------
    spikes ``(steps, batch, n)``, then the membranes and the ``x`` (each
    ``(steps, batch, n)`` or None).
    """
    forward = _kernels(compiled)[0]
    constant = current.dim() == 2
    shape = current.shape[-2:]
    v = current.new_zeros(shape)
    count = current.new_zeros(shape)
    carried = None  # synaptic current left from the step before (alpha > 0)
    spikes, membranes, shifted = [], [], []
    for t in range(steps):
        e = current if constant else current[t]
        if recurrent is not None and t > 0:
            e = e + spikes[-1] @ recurrent.T
        if carried is not None:
            e = e + carried
        s, v, carried, count, x = forward(v, e, count, neurons.par, spike)
        if neurons.alpha == 0:
            carried = None  # nothing carries over: skip adding zeros
        spikes.append(s)
        if membrane:
            membranes.append(v)
        if record:
            shifted.append(x)
    stacked = (torch.stack(spikes), torch.stack(membranes) if membrane else None,
               torch.stack(shifted) if record else None)
    return stacked


class _FusedLIF(torch.autograd.Function):
    """The neurons of one layer over all steps as one autograd node (module docstring)."""

    @staticmethod
    def forward(ctx, current, recurrent, steps, neurons, surrogate, membrane, compiled):
        spikes, mem, shifted = run_steps(current, steps, recurrent, neurons, surrogate.spike,
                                         membrane=membrane, record=True, compiled=compiled)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(shifted, spikes, recurrent)
        ctx.neurons, ctx.surrogate = neurons, surrogate
        ctx.constant, ctx.compiled = current.dim() == 2, compiled
        return spikes, mem

    @staticmethod
    def backward(ctx, g_spikes, g_mem):
        shifted, spikes, recurrent = ctx.saved_tensors
        nrn = ctx.neurons
        step_back = _kernels(ctx.compiled)[1]
        if g_spikes is None:
            g_spikes = torch.zeros_like(spikes)
        g_current = torch.empty_like(shifted)
        g_vv = g_e = None
        for t in reversed(range(len(shifted))):
            g_s = g_spikes[t]
            if recurrent is not None and g_e is not None:
                g_s = g_s + g_e @ recurrent
            g_v = g_mem[t] if g_mem is not None else None
            if g_vv is not None:
                g_v = g_vv * nrn.beta if g_v is None else g_v.add(g_vv, alpha=nrn.beta)
            g_vv = step_back(g_s, g_v, shifted[t], spikes[t], ctx.surrogate.derivative,
                             nrn.zero_reset)
            g_e_now = g_vv * nrn.gain if nrn.gain != 1 else g_vv
            if nrn.alpha != 0 and g_e is not None:
                g_e_now = g_e_now.add(g_e, alpha=nrn.alpha)
            g_e = g_e_now
            g_current[t] = g_e
        g_recurrent = None
        if recurrent is not None and ctx.needs_input_grad[1]:
            n = spikes.shape[-1]
            g_recurrent = g_current[1:].reshape(-1, n).T @ spikes[:-1].reshape(-1, n)
        if ctx.constant:
            g_current = g_current.sum(0)
        return g_current, g_recurrent, None, None, None, None, None


def lif_sequence(current: torch.Tensor, steps: int, recurrent: torch.Tensor | None,
                 neurons: LayerNeurons, surrogate: Surrogate, *, membrane: bool = False,
                 backward: str = "fused", compiled: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A layer's spikes and (if ``membrane``) membrane over ``steps`` steps
    (:func:`run_steps`), differentiable with the surrogate when the inputs need gradients.

    ``backward`` is ``"fused"`` (:class:`_FusedLIF`) or ``"autograd"`` (every
    step recorded: the reference, always eager).
    """
    needs_grad = torch.is_grad_enabled() and (
        current.requires_grad or (recurrent is not None and recurrent.requires_grad))
    if needs_grad and backward == "autograd":
        return run_steps(current, steps, recurrent, neurons, surrogate.spike_fn(),
                         membrane=membrane)[:2]
    if needs_grad:
        return _FusedLIF.apply(current, recurrent, steps, neurons, surrogate, membrane, compiled)
    return run_steps(current, steps, recurrent, neurons, surrogate.spike, membrane=membrane,
                     compiled=compiled)[:2]
