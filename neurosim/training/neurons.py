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

A sequence may start from the state another ended in (:class:`LayerState`);
the fused node then passes the gradients of its end state back into the
start state (``g_v0 = beta g_vv[0]``, the carried current's ``g_e[0]``, the
recurrent spikes' ``g_e[0] R``), so the steps can be cut into pieces
(``recompute_steps``, :mod:`neurosim.training.model`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

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


class LayerState(NamedTuple):
    """What a layer carries from one step into the next: the membrane ``v``, the
    refractory ``count``, the synaptic current ``carried`` over (None when
    ``alpha`` is 0) and the last step's spikes (None unless the layer is recurrent).
    A sequence that starts from a state continues the one that ended in it."""

    v: torch.Tensor
    count: torch.Tensor
    carried: torch.Tensor | None
    spikes: torch.Tensor | None


def _forward_run(current, steps: int, recurrent, par, carries: bool, spike, start: LayerState,
                 membrane: bool, record: bool):
    """:func:`run_steps` from ``start`` with the steps in one loop: the stacked
    spikes, membranes (or None), ``x`` (or None) and the end state."""
    constant = current.dim() == 2
    v, count, carried, last = start
    spikes, membranes, shifted = [], [], []
    for t in range(steps):
        e = current if constant else current[t]
        if recurrent is not None and last is not None:
            e = e + last @ recurrent.T
        if carried is not None:
            e = e + carried
        last, v, carried, count, x = _forward_step(v, e, count, par, spike)
        if not carries:
            carried = None  # nothing carries over: skip adding zeros
        spikes.append(last)
        if membrane:
            membranes.append(v)
        if record:
            shifted.append(x)
    end = LayerState(v, count, carried, last if recurrent is not None else None)
    return (torch.stack(spikes), torch.stack(membranes) if membrane else None,
            torch.stack(shifted) if record else None, end)


def _backward_run(g_spikes, g_mem, shifted, spikes, recurrent, g_v_later, g_e_later, g_e_next,
                  beta: float, gain: float, alpha: float, zero_reset: bool, slope):
    """The fused backward over the steps of ``shifted``, last to first (module
    docstring): ``g_e`` of every step, stacked, and the gradient of the membrane
    the first step started from (``beta g_vv[0]``).

    From the steps after these come ``g_v_later`` (reaching the last step's
    membrane), ``g_e_later`` (the next step's ``g_e``, reaching the last step's
    carried current through ``alpha``) and ``g_e_next`` (the same, reaching the
    last step's spikes through the recurrent weights); None where nothing comes.
    """
    g_currents = []
    for t in reversed(range(len(shifted))):
        g_s = g_spikes[t]
        if recurrent is not None and g_e_next is not None:
            g_s = g_s + g_e_next @ recurrent
        g_v = g_mem[t] if g_mem is not None else None
        if g_v_later is not None:
            g_v = g_v_later if g_v is None else g_v + g_v_later
        g_vv = _backward_step(g_s, g_v, shifted[t], spikes[t], slope, zero_reset)
        g_e = g_vv * gain if gain != 1 else g_vv
        if alpha != 0 and g_e_later is not None:
            g_e = g_e + g_e_later * alpha
        g_currents.append(g_e)
        g_v_later, g_e_later, g_e_next = g_vv * beta, g_e, g_e
    g_currents.reverse()
    return torch.stack(g_currents), g_v_later


#: Most steps one compiled call unrolls: longer sequences run in pieces of this many
#: (the compile time grows with the unrolled steps).
_UNROLL = 25


@functools.cache
def _kernels(compiled: bool):
    """The forward and backward runs: eager, or by ``torch.compile``, which unrolls
    the steps and fuses each run into a few loops over the neurons (the steps'
    ~20 elementwise passes each, the stacking and the per-step calls become one);
    one compilation, shape-generic, serves every layer and batch size."""
    if not compiled:
        return _forward_run, _backward_run
    return (torch.compile(_forward_run, dynamic=True),
            torch.compile(_backward_run, dynamic=True))


def _pieces(steps: int, compiled: bool) -> list[tuple[int, int]]:
    """``(first, stop)`` of the runs the steps go in: one eager run, or compiled
    runs of at most :data:`_UNROLL` steps."""
    size = _UNROLL if compiled else steps
    return [(first, min(first + size, steps)) for first in range(0, steps, size)]


def _at_rest(current: torch.Tensor) -> LayerState:
    shape = current.shape[-2:]
    return LayerState(current.new_zeros(shape), current.new_zeros(shape), None, None)


def run_steps(current: torch.Tensor, steps: int, recurrent: torch.Tensor | None,
              neurons: LayerNeurons, spike, *, start: LayerState | None = None,
              membrane: bool = False, record: bool = False, compiled: bool = False):
    """``steps`` steps of the model layer's step, from ``start`` (None: rest).

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
    start:
        The state the steps start from (:class:`LayerState`); None: at rest.
    membrane:
        Whether to return the membrane the step reports, per step.
    record:
        Whether to return ``x = v - threshold`` of every step (what the fused backward needs).
    compiled:
        Whether to run the steps through ``torch.compile``.

    Returns
    -------
    spikes ``(steps, batch, n)``, the membranes and the ``x`` (each
    ``(steps, batch, n)`` or None), and the :class:`LayerState` after the last step.
    """
    forward = _kernels(compiled)[0]
    constant = current.dim() == 2
    state = start if start is not None else _at_rest(current)
    parts = []
    for first, stop in _pieces(steps, compiled):
        piece = current if constant else current[first:stop]
        *outputs, state = forward(piece, stop - first, recurrent, neurons.par,
                                  neurons.alpha != 0, spike, state, membrane, record)
        parts.append(outputs)
    if len(parts) == 1:
        return (*parts[0], state)
    return (*(None if pieces[0] is None else torch.cat(pieces) for pieces in zip(*parts)),
            state)


class _FusedLIF(torch.autograd.Function):
    """The neurons of one layer over a sequence of steps as one autograd node
    (module docstring).  Inputs past ``recurrent`` are the start state
    (:class:`LayerState`'s fields, ``count`` last); outputs are the spikes, the
    membranes and the end state (``v``, ``carried``, ``count``), so a sequence
    cut into pieces passes gradients from each piece to the one before."""

    @staticmethod
    def forward(ctx, current, recurrent, v0, carried0, spikes0, count0, steps, neurons,
                surrogate, membrane, compiled):
        start = None if v0 is None else LayerState(v0, count0, carried0, spikes0)
        spikes, mem, shifted, end = run_steps(current, steps, recurrent, neurons, surrogate.spike,
                                              start=start, membrane=membrane, record=True,
                                              compiled=compiled)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(shifted, spikes, recurrent, spikes0)
        ctx.neurons, ctx.surrogate = neurons, surrogate
        ctx.constant, ctx.compiled = current.dim() == 2, compiled
        ctx.mark_non_differentiable(end.count)
        return spikes, mem, end.v, end.carried, end.count

    @staticmethod
    def backward(ctx, g_spikes, g_mem, g_v_end, g_carried_end, _g_count):
        shifted, spikes, recurrent, spikes0 = ctx.saved_tensors
        nrn = ctx.neurons
        backward = _kernels(ctx.compiled)[1]
        if g_spikes is None:
            g_spikes = torch.zeros_like(spikes)
        g_v_later, g_e_later, g_e_next = g_v_end, g_carried_end, None
        parts = []
        for first, stop in reversed(_pieces(len(shifted), ctx.compiled)):
            g_current, g_v_later = backward(
                g_spikes[first:stop], None if g_mem is None else g_mem[first:stop],
                shifted[first:stop], spikes[first:stop], recurrent, g_v_later, g_e_later,
                g_e_next, nrn.beta, nrn.gain, nrn.alpha, nrn.zero_reset,
                ctx.surrogate.derivative)
            parts.append(g_current)
            g_e_later = g_e_next = g_current[0]
        g_current = parts[0] if len(parts) == 1 else torch.cat(parts[::-1])
        g_recurrent = g_spikes0 = None
        if recurrent is not None and ctx.needs_input_grad[1]:
            n = spikes.shape[-1]
            g_recurrent = g_current[1:].reshape(-1, n).T @ spikes[:-1].reshape(-1, n)
            if spikes0 is not None:
                g_recurrent = g_recurrent + g_current[0].T @ spikes0
        if spikes0 is not None and ctx.needs_input_grad[4]:
            g_spikes0 = g_current[0] @ recurrent
        g_v0 = g_v_later if ctx.needs_input_grad[2] else None
        g_carried0 = g_current[0] if ctx.needs_input_grad[3] else None
        if ctx.constant:
            g_current = g_current.sum(0)
        return (g_current, g_recurrent, g_v0, g_carried0, g_spikes0,
                None, None, None, None, None, None)


def lif_sequence(current: torch.Tensor, steps: int, recurrent: torch.Tensor | None,
                 neurons: LayerNeurons, surrogate: Surrogate, *, start: LayerState | None = None,
                 membrane: bool = False, backward: str = "fused", compiled: bool = False
                 ) -> tuple[torch.Tensor, torch.Tensor | None, LayerState]:
    """A layer's spikes, (if ``membrane``) membrane and end state over ``steps``
    steps from ``start`` (:func:`run_steps`), differentiable with the surrogate
    when the inputs need gradients.

    ``backward`` is ``"fused"`` (:class:`_FusedLIF`) or ``"autograd"`` (every
    step recorded: the reference, always eager).
    """
    inputs = (current, recurrent) + (tuple(start) if start is not None else ())
    needs_grad = torch.is_grad_enabled() and any(
        tensor is not None and tensor.requires_grad for tensor in inputs)
    if needs_grad and backward == "autograd":
        spikes, mem, _, end = run_steps(current, steps, recurrent, neurons, surrogate.spike_fn(),
                                        start=start, membrane=membrane)
        return spikes, mem, end
    if needs_grad:
        v0, count0, carried0, spikes0 = start if start is not None else (None,) * 4
        spikes, mem, v, carried, count = _FusedLIF.apply(
            current, recurrent, v0, carried0, spikes0, count0, steps, neurons, surrogate,
            membrane, compiled)
        return spikes, mem, LayerState(v, count, carried,
                                       spikes[-1] if recurrent is not None else None)
    spikes, mem, _, end = run_steps(current, steps, recurrent, neurons, surrogate.spike,
                                    start=start, membrane=membrane, compiled=compiled)
    return spikes, mem, end
