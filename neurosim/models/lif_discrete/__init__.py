r"""``lif_discrete``: the discrete-time LIF, in steps and membrane units.

::

    v[n] = beta v[n-1] + gain (I_e[n] + I_i[n]) + bias - threshold s[n-1] (reset: subtract)
    I_x[n+1] = alpha I_x[n],        I_x += w on a spike
    s[n] = 1 when v[n] >= threshold and the neuron is not refractory;
           with reset: zero, v[n] <- 0 at once

All quantities are dimensionless ("membrane units").  ``beta`` is the
membrane's factor per step: ``exp(-dt / tau)`` for an exact decay,
``1 - dt / tau`` for NIR's forward-Euler reading of its ``LIF`` (then
``gain = r dt / tau`` and ``bias = v_leak dt / tau``); ``alpha`` is the
synaptic current's (0: every input acts in one step only, as snnTorch's
``Leaky``; ``alpha > 0``: snnTorch's ``Synaptic``).

The two resets are those of the models this one stands for: ``subtract``
is snnTorch's default (the threshold comes off in the step after the spike,
so ``v`` of the spiking step is the one snnTorch reports); ``zero`` sets
``v`` to 0 in the spiking step, as the NALSM liquid (Ivanov & Michmizos
2021) and the RRAM LSM (Lin et al. 2025) do.  After a spike the neuron
cannot fire for ``round(t_ref / dt)`` steps but keeps integrating (no
clamp), as in the NALSM liquid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from neurosim.config.base import NonNegativeTime, StrictModel, q
from neurosim.models.base import NeuronModel


class LifDiscreteParams(StrictModel):
    """Parameters of ``lif_discrete`` (membrane units, times in steps of dt)."""

    beta: float = Field(default=0.9, gt=0, le=1)
    """Membrane factor per step."""
    alpha: float = Field(default=0.0, ge=0, lt=1)
    """Synaptic-current factor per step (0: no synaptic state)."""
    gain: float = Field(default=1.0, gt=0)
    """Membrane units per unit of synaptic current and step."""
    bias: float = 0.0
    """Constant input per step (membrane units)."""
    threshold: float = Field(default=1.0, gt=0)
    """Firing threshold."""
    reset: Literal["zero", "subtract"] = "subtract"
    """After a spike: v to 0, or v minus the threshold."""
    t_ref: NonNegativeTime = q("0 s")
    """Time after a spike in which the neuron cannot fire (it still integrates)."""


@dataclass(frozen=True)
class LifDiscrete(NeuronModel):
    """Discrete-time LIF (module docstring)."""

    def discretise(self, p, dt, extra_current):
        subtract = (np.asarray(p["reset"]) == "subtract").astype(np.float64)
        columns = [p["beta"], p["gain"], p["alpha"], p["bias"], p["threshold"], subtract]
        return np.stack(np.broadcast_arrays(*(np.asarray(c, np.float64) for c in columns)), axis=1)

    def held_steps(self, rows):
        # The hidden row 2 counts down from t_ref_steps + 1, stored by a spike.
        return np.maximum(np.asarray(rows[2]).astype(np.int64) - 1, 0)


MODEL = LifDiscrete(
    name="lif_discrete",
    params=LifDiscreteParams,
    state={"v": "", "I_e": "", "I_i": ""},
    propagators=("beta", "gain", "alpha", "bias", "threshold", "subtract"),
    weight_dims=("",),
    hidden_rows=1,
)
