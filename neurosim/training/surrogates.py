"""Surrogate spike derivatives: the Heaviside step forward, a smooth stand-in's slope backward.

A spike is ``H(v - threshold)``, whose derivative is zero almost everywhere;
backpropagation through time replaces it with the derivative of a smooth
function of the same shape (the *stand-in*, a sigmoid-like step).  Each
surrogate here is that pair: :meth:`Surrogate.smooth` (the stand-in, for
checking :meth:`Surrogate.derivative` by finite differences) and its exact
derivative.  The forward spike fires at ``x >= 0``, as the model layer's
threshold does (``v >= threshold``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Surrogate(ABC):
    """A smooth stand-in of the spike step and its derivative (subclasses: one each)."""

    @abstractmethod
    def derivative(self, x: torch.Tensor) -> torch.Tensor:
        """The stand-in's slope at ``x = v - threshold``."""

    @abstractmethod
    def smooth(self, x: torch.Tensor) -> torch.Tensor:
        """The stand-in itself: a step rising around ``x = 0``."""

    def spike(self, x: torch.Tensor) -> torch.Tensor:
        """The forward spike ``H(x)`` as floats (no gradient)."""
        return (x >= 0).to(x.dtype)

    def spike_fn(self):
        """:meth:`spike`, differentiated with :meth:`derivative` (for the model
        layer's torch steps, ``step(..., spike_fn=...)``)."""
        return lambda x: _SpikeStep.apply(x, self)


@dataclass(frozen=True)
class Atan(Surrogate):
    """``1/2 + arctan(pi alpha x / 2) / pi``; slope ``alpha / 2`` at the threshold."""

    alpha: float = 2.0

    def derivative(self, x):
        return (self.alpha / 2) / (1 + (math.pi / 2 * self.alpha * x) ** 2)

    def smooth(self, x):
        return 0.5 + torch.atan(math.pi / 2 * self.alpha * x) / math.pi


@dataclass(frozen=True)
class FastSigmoid(Surrogate):
    """``1/2 + x / (1 + slope |x|)``: the fast sigmoid, unnormalised (it spans
    ``1/2 +- 1/slope``), as SuperSpike uses its slope."""

    slope: float = 25.0

    def derivative(self, x):
        return 1 / (1 + self.slope * x.abs()) ** 2

    def smooth(self, x):
        return 0.5 + x / (1 + self.slope * x.abs())


@dataclass(frozen=True)
class Triangle(Surrogate):
    """A piecewise-quadratic ramp of width ``2 width``; its slope is a triangle of area 1."""

    width: float = 1.0

    def derivative(self, x):
        return (1 - x.abs() / self.width).clamp(min=0) / self.width

    def smooth(self, x):
        u = (x / self.width).clamp(-1, 1)
        return 0.5 + u - u * u.abs() / 2


_KINDS: dict[str, tuple[type[Surrogate], str]] = {
    "atan": (Atan, "alpha"), "fast_sigmoid": (FastSigmoid, "slope"),
    "triangle": (Triangle, "width"),
}


def get_surrogate(section) -> Surrogate:
    """The surrogate a config's ``surrogate:`` section names (:mod:`neurosim.config.train`)."""
    cls, parameter = _KINDS[section.kind]
    return cls(getattr(section, parameter))


class _SpikeStep(torch.autograd.Function):
    """The surrogate's spike forward, its derivative backward."""

    @staticmethod
    def forward(ctx, x, surrogate):
        ctx.save_for_backward(x)
        ctx.surrogate = surrogate
        return surrogate.spike(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.surrogate.derivative(x), None
