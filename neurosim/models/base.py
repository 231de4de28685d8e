"""What every model declares: parameters, state and discretisation.

A model here is a description: the YAML parameter class (units, defaults,
checks), the state variables with their dimensions, and how one step of
``dt`` is computed from the parameters (the *propagator* table the kernels
read).  The kernels that advance the state live beside each model, one
module per backend family (``numba_kernels``, ``torch_kernels``), and are
found through :func:`neurosim.models.implementation`.

Parameters reach :meth:`NeuronModel.discretise` as a mapping of numpy
arrays, one entry per *parameter group* (a run of neurons that share every
value: a whole population when its parameters are constants, single neurons
when they are drawn per neuron), so the table has one row per group.
Transcendental functions go through :mod:`math`, element by element: numpy's
vectorised ``exp`` may differ from the C library's in the last bit, and the
propagators of constant parameters must not change with the layout.
"""

from __future__ import annotations

import math
from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from neurosim.errors import ConfigError
from neurosim.units import to_steps

#: Receptors of every spiking model: the first rows of its synaptic state,
#: which projections deliver into (``receptor: exc | inh``).
RECEPTORS = ("exc", "inh")

_exp = np.vectorize(math.exp, otypes=[np.float64])
_expm1 = np.vectorize(math.expm1, otypes=[np.float64])


def decay(dt: float, tau) -> np.ndarray:
    """``exp(-dt / tau)`` per element: the factor of an exponential decay over one step."""
    return _exp(-dt / np.asarray(tau, dtype=np.float64))


def psc_to_v_propagator(dt: float, tau_m, tau_s) -> np.ndarray:
    """Voltage gained over ``dt`` per unit of an exponentially decaying input.

    Solves ``tau_m dV/dt = -V + x0 exp(-t / tau_s)`` from ``V(0) = 0``.  For
    ``tau_s`` close to ``tau_m`` the closed form cancels catastrophically, so
    the limit ``(dt / tau_m) exp(-dt / tau_m)`` is used (as NEST does); expm1
    keeps precision when ``dt`` is tiny against both time constants.
    """
    tau_m, tau_s = np.broadcast_arrays(np.asarray(tau_m, np.float64),
                                       np.asarray(tau_s, np.float64))
    near = np.abs(tau_s - tau_m) < 1e-9 * tau_m
    with np.errstate(divide="ignore", invalid="ignore"):
        general = tau_s / (tau_s - tau_m) * (_expm1(-dt / tau_s) - _expm1(-dt / tau_m))
    return np.where(near, dt / tau_m * _exp(-dt / tau_m), general)


@dataclass(frozen=True)
class NeuronModel(ABC):
    """Description of one neuron model (subclasses fill in the equations).

    Attributes
    ----------
    name:
        Registry key (``model:`` in YAML).
    params:
        The pydantic class of its ``params:`` section (units, defaults,
        checks); ``None`` for models without parameters.
    state:
        State variables in engine order with their SI dimension: ``v``
        first, then the rows of the synaptic state (the receptors first).
    propagators:
        Column names of :meth:`discretise`'s table, in kernel order.
    weight_dims:
        Dimensions a weight onto this model may carry.
    time_constants:
        Parameters that are time constants of a decay: ``dt`` must not exceed them.
    source:
        True for models without dynamics whose spikes come from outside the
        kernels (Poisson, spike generators).
    hidden_rows:
        Rows of kernel state after the named ones (e.g. a refractory count),
        neither initialised nor recorded.
    """

    name: str
    params: type | None
    state: dict[str, str] = field(default_factory=dict)
    propagators: tuple[str, ...] = ()
    weight_dims: tuple[str, ...] = ()
    time_constants: tuple[str, ...] = ()
    source: bool = False
    hidden_rows: int = 0

    @property
    def is_source(self) -> bool:
        return self.source

    @property
    def state_rows(self) -> int:
        """Rows of the state array after ``v`` this model uses (receptors first)."""
        return max(len(self.state) - 1, 0) + self.hidden_rows

    # -- discretisation ------------------------------------------------------
    def discretise(self, p: Mapping[str, np.ndarray], dt: float,
                   extra_current: np.ndarray) -> np.ndarray:
        """The propagator table ``(groups, len(propagators))`` for one step of ``dt``.

        ``p`` maps every parameter to an array with one value per group;
        ``extra_current`` (A, per group) is added to the constant input.
        """
        raise ConfigError(f"model '{self.name}' has no dynamics to discretise")

    def refractory_steps(self, p: Mapping[str, np.ndarray], dt: float) -> np.ndarray:
        """Steps each group is held after a spike (``t_ref`` in steps, 0 without one)."""
        t_ref = p.get("t_ref")
        if self.source or t_ref is None:
            return np.zeros(np.size(next(iter(p.values()), 0)), dtype=np.int64)
        return np.atleast_1d(to_steps(t_ref, dt))

    def held_steps(self, rows: np.ndarray) -> np.ndarray | None:
        """Steps each neuron still cannot fire, for models that count them in
        their state rows ``(rows, n)``; None for the others (their kernels
        encode the refractory state themselves)."""
        return None

    def resting_potential(self, p: Mapping[str, np.ndarray]):
        """The membrane potential a neuron starts from without an ``initial:`` value."""
        return p.get("E_L", 0.0)

    # -- units at the edges -------------------------------------------------
    def weight_factor(self, p: Mapping[str, float], dim: str) -> float:
        """Factor from a weight given in ``dim`` to the engine's internal unit."""
        self.check_weight_dim(dim)
        return 1.0

    def check_weight_dim(self, dim: str) -> None:
        if dim not in self.weight_dims:
            raise ConfigError(
                f"weight in '{dim or 'no unit'}' cannot drive a {self.name} neuron "
                f"(expected {' or '.join(self.weight_dims) or 'nothing: it takes no synapses'})"
            )

    def state_factor(self, p: Mapping[str, np.ndarray], var: str):
        """Factor from state variable ``var`` in SI units to the engine's unit."""
        return 1.0

    def weight_sign(self, receptor: str) -> tuple[bool | None, str]:
        """Whether weights onto ``receptor`` must be non-negative (True),
        non-positive (False) or may have either sign (None), and why."""
        return None, ""

    def parameter_problems(self, p: Mapping[str, np.ndarray]) -> list[tuple[str, str]]:
        """``(parameter, reason)`` for values no neuron of this model may have
        together (checked on constants at load, per neuron at build)."""
        return []

