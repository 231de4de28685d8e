r"""``astrocytes``: a slow population-level variable that sets STDP's depression.

One astrocyte listens to the spikes of some populations and drives the
``a_minus`` of the plastic projections it modulates (Ivanov & Michmizos
2021, NALSM)::

    A <- A + (w (E - I) + b - A) dt / tau          (once per step, after STDP)
    a_minus of every modulated projection = A      (from the next step on)

``E`` and ``I`` are the step's spike counts of the ``excite`` and
``inhibit`` populations; ``A`` starts at ``initial``.  ``w``, ``b`` and
``initial`` have the modulated projections' weight unit, so ``A`` is an
``a_minus``.  The run's result keeps ``A`` after every step.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from neurosim.config.base import PositiveTime, StrictModel, problems_error
from neurosim.config.values import Value
from neurosim.units import describe_dim


class Astrocyte(StrictModel):
    """One entry of the ``astrocytes`` section (module docstring)."""

    excite: list[str] = Field(min_length=1)
    """Populations whose spikes raise ``A`` by ``w dt / tau`` each."""
    inhibit: list[str] = []
    """Populations whose spikes lower it."""
    w: Value
    """Drive per spike (the modulated projections' weight unit)."""
    b: Value
    """Constant drive."""
    tau: PositiveTime
    """Time constant of ``A``."""
    initial: Value
    """``A`` before the first step."""
    modulates: list[str] = Field(min_length=1)
    """Plastic projections whose ``a_minus`` is ``A``."""

    @model_validator(mode="after")
    def _constants(self) -> Astrocyte:
        problems = [((key,), "must be one value, not a distribution")
                    for key in ("w", "b", "initial") if not getattr(self, key).is_constant]
        dims = {getattr(self, k).dim for k in ("w", "b", "initial")}
        if len(dims) > 1:
            problems.append(((), "w, b and initial must share one unit (got "
                                 + ", ".join(sorted(describe_dim(d) for d in dims)) + ")"))
        if problems:
            raise problems_error(problems)
        return self

    @property
    def dim(self) -> str:
        return self.w.dim
