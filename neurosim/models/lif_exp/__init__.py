r"""``lif_exp``: current-based LIF with exponential synaptic currents (NEST ``iaf_psc_exp``).

::

    C_m dV/dt = -(C_m / tau_m) (V - E_L) + I_syn_e + I_syn_i + I_e
    dI_syn_x/dt = -I_syn_x / tau_syn_x,      I_syn_x += w on a spike

The subthreshold system is linear, so it is integrated exactly: one step of
``dt`` is a fixed linear map (the propagators).  The engine keeps the
synaptic currents as the voltage they would hold the membrane at,
``x = I_syn * tau_m / C_m`` (volts), which saves a multiply per neuron per
step; weights are converted the same way once at build time.

After a spike (``V >= V_th``) ``V = V_reset`` and ``V`` is clamped for
``round(t_ref / dt)`` steps while the synaptic currents keep evolving.  A
spike emitted in step ``n`` with a delay of ``d`` steps is added to the
synaptic variable of its target in step ``n + d``, after that step's decay
(NEST's convention).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import model_validator

from neurosim.config.base import (
    Current,
    NonNegativeTime,
    PositiveCapacitance,
    PositiveTime,
    StrictModel,
    Voltage,
    problems_error,
    q,
)
from neurosim.models.base import NeuronModel, decay, psc_to_v_propagator
from neurosim.units import pretty_quantity


def reset_problems(p: Mapping) -> list[tuple[str, str]]:
    """A reset at or above threshold would fire again on the next step."""
    v_reset, v_th = np.broadcast_arrays(np.atleast_1d(p["V_reset"]), np.atleast_1d(p["V_th"]))
    bad = np.flatnonzero(~(v_reset < v_th))
    if not bad.size:
        return []
    k = bad[0]
    which = "" if v_reset.size == 1 else (
        f" (neuron {k}{f' and {bad.size - 1} more' if bad.size > 1 else ''})")
    return [("V_reset", f"must be below V_th ({pretty_quantity(float(v_reset[k]), 'V')} >= "
                        f"{pretty_quantity(float(v_th[k]), 'V')}){which}")]


class LifExpParams(StrictModel):
    """Parameters of ``lif_exp``."""

    C_m: PositiveCapacitance = q("250 pF")
    """Membrane capacitance."""
    tau_m: PositiveTime = q("10 ms")
    """Membrane time constant."""
    E_L: Voltage = q("-70 mV")
    """Resting (leak reversal) potential."""
    V_th: Voltage = q("-55 mV")
    """Spike threshold."""
    V_reset: Voltage = q("-70 mV")
    """Potential after a spike; must be below ``V_th``."""
    t_ref: NonNegativeTime = q("2 ms")
    """Absolute refractory period."""
    tau_syn_e: PositiveTime = q("2 ms")
    """Decay time constant of the excitatory synaptic input."""
    tau_syn_i: PositiveTime = q("2 ms")
    """Decay time constant of the inhibitory synaptic input."""
    I_e: Current = q("0 pA")
    """Constant external current."""

    @model_validator(mode="after")
    def _consistent(self):
        problems = MODEL.parameter_problems(self.__dict__)
        if problems:
            raise problems_error([((key,), why) for key, why in problems])
        return self


def exp_propagators(p: Mapping, dt: float, extra_current) -> list[np.ndarray]:
    """The eight columns of ``lif_exp``'s table (also the voltage part of ``alif``)."""
    p22 = decay(dt, p["tau_m"])
    resistance = np.asarray(p["tau_m"]) / np.asarray(p["C_m"])
    current = np.asarray(p["I_e"]) + extra_current
    return [p22,
            psc_to_v_propagator(dt, p["tau_m"], p["tau_syn_e"]),
            psc_to_v_propagator(dt, p["tau_m"], p["tau_syn_i"]),
            decay(dt, p["tau_syn_e"]),
            decay(dt, p["tau_syn_i"]),
            (1.0 - p22) * (np.asarray(p["E_L"]) + resistance * current),
            np.asarray(p["V_th"], np.float64),
            np.asarray(p["V_reset"], np.float64)]


@dataclass(frozen=True)
class LifExp(NeuronModel):
    """Current-based LIF with exponential currents (module docstring)."""

    def discretise(self, p, dt, extra_current):
        return np.stack(np.broadcast_arrays(*exp_propagators(p, dt, extra_current)), axis=1)

    def weight_factor(self, p, dim):
        # A weight in A is a jump of the synaptic current; one in V is a jump
        # of R * I_syn (Brian2's CUBA ``ge``), not a PSP height.
        self.check_weight_dim(dim)
        return p["tau_m"] / p["C_m"] if dim == "A" else 1.0

    def state_factor(self, p, var):
        if var in ("I_syn_e", "I_syn_i"):
            return np.asarray(p["tau_m"]) / np.asarray(p["C_m"])
        return 1.0

    def weight_sign(self, receptor):
        if receptor == "exc":
            return True, f"excitatory (receptor exc) weights onto {self.name} must be >= 0"
        return False, f"inhibitory (receptor inh) weights onto {self.name} must be <= 0"

    def parameter_problems(self, p):
        return reset_problems(p)


MODEL = LifExp(
    name="lif_exp",
    params=LifExpParams,
    state={"v": "V", "I_syn_e": "A", "I_syn_i": "A"},
    propagators=("p22", "p21e", "p21i", "p11e", "p11i", "drive", "V_th", "V_reset"),
    weight_dims=("A", "V"),
    time_constants=("tau_m", "tau_syn_e", "tau_syn_i"),
)
