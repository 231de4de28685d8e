r"""Leaky integrate-and-fire neurons with exponential synapses.

``lif_exp`` (current-based, as NEST ``iaf_psc_exp``)::

    C_m dV/dt = -(C_m / tau_m) (V - E_L) + I_syn_e + I_syn_i + I_e
    dI_syn_x/dt = -I_syn_x / tau_syn_x,      I_syn_x += w on a spike

The subthreshold system is linear, so it is integrated exactly: one step of
``dt`` is a fixed linear map (the *propagators*), computed once here.  The
engine keeps the synaptic currents as the voltage they would hold the
membrane at, ``x = I_syn * tau_m / C_m`` (volts), which saves a multiply
per neuron per step; weights are converted the same way once at build time.

``lif_cond_exp`` (conductance-based, as NEST ``iaf_cond_exp``)::

    C_m dV/dt = g_L (E_L - V) + g_e (E_e - V) + g_i (E_i - V) + I_e
    dg_x/dt = -g_x / tau_syn_x,              g_x += w on a spike

With the conductances frozen over a step the voltage equation is linear, and
is advanced by its exact solution over that step (exponential Euler, as
Brian2's ``exponential_euler``); conductances decay exactly.

Both: after a spike (``V >= V_th``) ``V = V_reset`` and ``V`` is clamped
for ``round(t_ref / dt)`` steps while the synaptic variables keep evolving.
A spike emitted in step ``n`` with a delay of ``d`` steps is added to the
synaptic variable of its target in step ``n + d``, after that step's decay
(NEST's convention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ConfigError

#: Integer codes the kernels dispatch on (one branch per population per step).
MODEL_CODES = {"lif_exp": 0, "lif_cond_exp": 1, "poisson": -1, "spike_generator": -1}
#: Models without dynamics: their spikes come from outside the kernel.
SOURCE_MODELS = frozenset({"poisson", "spike_generator"})

#: Width of a row of the per-population parameter table the kernels read.
PARAM_WIDTH = 9


def to_steps(t, dt: float):
    """Whole steps in time ``t`` (scalar or array), rounding halves up.

    The one rounding rule for every duration: refractory periods, delays,
    spike times, current changes.
    """
    return np.floor(np.asarray(t) / dt + 0.5).astype(np.int64)


def _decay(dt: float, tau: float) -> float:
    return math.exp(-dt / tau)


def _psc_to_v_propagator(dt: float, tau_m: float, tau_s: float) -> float:
    """Voltage gained over ``dt`` per unit of an exponentially decaying input.

    Solves ``tau_m dV/dt = -V + x0 exp(-t / tau_s)`` from ``V(0) = 0``.  For
    ``tau_s`` close to ``tau_m`` the closed form cancels catastrophically, so
    the limit ``(dt / tau_m) exp(-dt / tau_m)`` is used (as NEST does).
    """
    if abs(tau_s - tau_m) < 1e-9 * tau_m:
        return dt / tau_m * math.exp(-dt / tau_m)
    # expm1 keeps precision when dt is tiny against both time constants.
    return tau_s / (tau_s - tau_m) * (math.expm1(-dt / tau_s) - math.expm1(-dt / tau_m))


@dataclass(frozen=True)
class NeuronModel:
    """Static description of one neuron model."""

    name: str
    state: tuple[str, ...]
    #: SI dimensions a weight onto this model may carry (see :meth:`weight_factor`).
    weight_dims: tuple[str, ...]

    @property
    def code(self) -> int:
        return MODEL_CODES[self.name]

    @property
    def is_source(self) -> bool:
        return self.name in SOURCE_MODELS

    def weight_factor(self, params: dict, dim: str) -> float:
        """Factor from a weight given in ``dim`` to the internal unit.

        For ``lif_exp`` a weight in A is a jump of the synaptic current; one in
        V is a jump of ``R * I_syn`` (Brian2's CUBA ``ge``), not a PSP height.
        """
        if dim not in self.weight_dims:
            raise ConfigError(
                f"weight in '{dim or 'no unit'}' cannot drive a {self.name} neuron "
                f"(expected {' or '.join(self.weight_dims)})"
            )
        if self.name == "lif_exp" and dim == "A":
            return params["tau_m"] / params["C_m"]
        return 1.0

    def state_factor(self, params: dict, var: str) -> float:
        """Factor from a state variable in SI units to the engine's unit."""
        if self.name == "lif_exp" and var in ("I_syn_e", "I_syn_i"):
            return params["tau_m"] / params["C_m"]
        return 1.0

    def param_row(self, params: dict, dt: float, extra_current: float = 0.0) -> np.ndarray:
        """The row of propagators and constants the kernel reads each step
        (``V_reset`` at :data:`V_RESET_COLUMN`)."""
        row = np.zeros(PARAM_WIDTH)
        p = params
        current = p.get("I_e", 0.0) + extra_current
        if self.name == "lif_exp":
            p22 = _decay(dt, p["tau_m"])
            resistance = p["tau_m"] / p["C_m"]
            row[:] = [
                p22,
                _psc_to_v_propagator(dt, p["tau_m"], p["tau_syn_e"]),
                _psc_to_v_propagator(dt, p["tau_m"], p["tau_syn_i"]),
                _decay(dt, p["tau_syn_e"]),
                _decay(dt, p["tau_syn_i"]),
                (1.0 - p22) * (p["E_L"] + resistance * current),
                p["V_th"],
                p["V_reset"],
                0.0,
            ]
        elif self.name == "lif_cond_exp":
            g_leak = p["C_m"] / p["tau_m"]
            row[:] = [
                dt / p["C_m"],
                g_leak,
                g_leak * p["E_L"] + current,
                p["E_e"],
                p["E_i"],
                _decay(dt, p["tau_syn_e"]),
                _decay(dt, p["tau_syn_i"]),
                p["V_th"],
                p["V_reset"],
            ]
        return row

    def refractory_steps(self, params: dict, dt: float) -> int:
        return 0 if self.is_source else int(to_steps(params.get("t_ref", 0.0), dt))


#: Where ``V_reset`` sits in each spiking model's :meth:`NeuronModel.param_row`.
V_RESET_COLUMN = {"lif_exp": 7, "lif_cond_exp": 8}

_MODELS = {
    "lif_exp": NeuronModel("lif_exp", ("v", "I_syn_e", "I_syn_i"), ("A", "V")),
    "lif_cond_exp": NeuronModel("lif_cond_exp", ("v", "g_e", "g_i"), ("S",)),
    "poisson": NeuronModel("poisson", (), ()),
    "spike_generator": NeuronModel("spike_generator", (), ()),
}


def get_model(name: str) -> NeuronModel:
    """Look a model up by name; unknown names are a :class:`ConfigError`."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ConfigError(
            f"unknown neuron model '{name}' (known: {', '.join(sorted(_MODELS))})"
        ) from None
