r"""``stdp``: pair-based spike-timing-dependent plasticity with all-to-all traces.

Every neuron keeps a presynaptic trace ``x`` and a postsynaptic trace ``y``
per plastic projection.  In each step, after every spike of the step is
known (the delivery of the step has used the weights as they were)::

    x <- x exp(-dt / tau_plus),   y <- y exp(-dt / tau_minus)    (every neuron)
    post spike of i:  w_ij <- clip(w_ij + a_plus  x_j, w_min, w_max)   (all its plastic inputs)
    pre spike of j:   w_ij <- clip(w_ij - a_minus y_i, w_min, w_max)   (all its plastic outputs)
    x_j += 1 for a spike of j,    y_i += 1 for a spike of i

Potentiation of the whole step comes first, then depression, each from the
traces before this step's spikes, so a pre and a post spike in the same step
change nothing.  With one pre spike at step ``s`` and one post spike at step
``t``, the weight changes by ``a_plus exp(-(t - s) dt / tau_plus)`` for
``t > s`` and by ``-a_minus exp(-(s - t) dt / tau_minus)`` for ``s > t``
(Bi & Poo 1998's window, as Song, Miller & Abbott 2000 model it); with many
spikes the changes of all pairs add.  Spike times are emission times: the
transmission delay does not shift the window.  ``a_plus``, ``a_minus``,
``w_min`` and ``w_max`` have the projection's weight unit.  An astrocyte
(:mod:`neurosim.models.astrocyte`) may set ``a_minus`` step by step.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from neurosim.config.base import PositiveTime, StrictModel, problems_error, q
from neurosim.config.values import Value
from neurosim.units import describe_dim


class Stdp(StrictModel):
    """The ``plasticity`` section of a projection (module docstring)."""

    rule: Literal["stdp"]
    """The plasticity rule."""
    a_plus: Value
    """Potentiation per pair at zero delay (the projection's weight unit)."""
    a_minus: Value
    """Depression per pair at zero delay (the projection's weight unit)."""
    tau_plus: PositiveTime = q("20 ms")
    """Decay time of the presynaptic trace (the potentiation window)."""
    tau_minus: PositiveTime = q("20 ms")
    """Decay time of the postsynaptic trace (the depression window)."""
    w_min: Value
    """Lower weight bound."""
    w_max: Value
    """Upper weight bound."""

    @model_validator(mode="after")
    def _constants(self) -> Stdp:
        problems = []
        for key in ("a_plus", "a_minus", "w_min", "w_max"):
            if not getattr(self, key).is_constant:
                problems.append(((key,), "must be one value, not a distribution"))
        dims = {getattr(self, k).dim for k in ("a_plus", "a_minus", "w_min", "w_max")}
        if len(dims) > 1:
            problems.append(((), "a_plus, a_minus, w_min and w_max must share one unit (got "
                                 + ", ".join(sorted(describe_dim(d) for d in dims)) + ")"))
        elif not problems and self.w_min.constant > self.w_max.constant:
            problems.append((("w_min",), "is above w_max"))
        if problems:
            raise problems_error(problems)
        return self

    @property
    def dim(self) -> str:
        """The unit of the rule's amounts (the projection's weight unit)."""
        return self.a_plus.dim
