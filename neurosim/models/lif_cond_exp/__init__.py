r"""``lif_cond_exp``: conductance-based LIF with exponential conductances (NEST ``iaf_cond_exp``).

::

    C_m dV/dt = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) + I_e
    dg_x/dt = -g_x / tau_syn_x,              g_x += w on a spike

With the conductances frozen over a step the voltage equation is linear, and
is advanced by its exact solution over that step (exponential Euler, as
Brian2's ``exponential_euler``); conductances decay exactly.  Threshold,
reset, refractory clamp and delays as ``lif_exp``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.config.base import Voltage, q
from neurosim.models.base import NeuronModel, decay
from neurosim.models.lif_exp import LifExpParams, reset_problems


class LifCondExpParams(LifExpParams):
    """Parameters of ``lif_cond_exp``: those of ``lif_exp`` and two reversal potentials."""

    E_e: Voltage = q("0 mV")
    """Reversal potential of excitatory synapses."""
    E_i: Voltage = q("-85 mV")
    """Reversal potential of inhibitory synapses."""


@dataclass(frozen=True)
class LifCondExp(NeuronModel):
    """Conductance-based LIF (module docstring)."""

    def discretise(self, p, dt, extra_current):
        c_m = np.asarray(p["C_m"], np.float64)
        g_leak = c_m / np.asarray(p["tau_m"])
        current = np.asarray(p["I_e"]) + extra_current
        columns = [dt / c_m, g_leak, g_leak * np.asarray(p["E_L"]) + current, p["E_e"], p["E_i"],
                   decay(dt, p["tau_syn_e"]), decay(dt, p["tau_syn_i"]), p["V_th"], p["V_reset"]]
        return np.stack(np.broadcast_arrays(*(np.asarray(c, np.float64) for c in columns)), axis=1)

    def weight_sign(self, receptor):
        return True, ("conductance weights must be >= 0 for both receptors "
                      "(the reversal potential sets the effect)")

    def parameter_problems(self, p):
        return reset_problems(p)


MODEL = LifCondExp(
    name="lif_cond_exp",
    params=LifCondExpParams,
    state={"v": "V", "g_e": "S", "g_i": "S"},
    propagators=("dt_over_c", "g_leak", "leak_drive", "E_e", "E_i", "p11e", "p11i", "V_th",
                 "V_reset"),
    weight_dims=("S",),
    time_constants=("tau_m", "tau_syn_e", "tau_syn_i"),
)
