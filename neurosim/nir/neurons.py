r"""NIR neuron nodes and neurosim's models: the parameter maps, both ways.

NIR's neurons are continuous-time (``nir.LIF``: :math:`\tau \dot v = v_{leak}
- v + R I`); the engine steps ``lif_discrete``
(:mod:`neurosim.models.lif_discrete`: ``v <- beta v + gain I + bias``).
Reading a node in steps of ``dt``, a spike is the value 1 held for one step,
as the reference implementations have it, and the membrane is kept relative
to ``v_reset`` (``u = v - v_reset``: lif_discrete resets to 0), starting at
``v = 0`` as they do.  With ``k = dt / tau`` (forward Euler, the default) or
``k = 1 - exp(-dt / tau)`` (``integration: exact``, the input held over the step):

=========  ====================================================================
NIR node   lif_discrete
=========  ====================================================================
LIF        beta = 1 - k, gain = R k, bias = k (v_leak - v_reset),
           threshold = v_threshold - v_reset, v(0) = -v_reset, reset: zero
CubaLIF    as LIF with tau_mem; alpha = 1 - dt / tau_syn (exact:
           exp(-dt / tau_syn)); each spike adds (dt / tau_syn) w_in W to the
           current, folded into the weights; exact: gain = R P with P the
           membrane's response over one step to a unit current decaying with
           tau_syn (:func:`neurosim.models.base.psc_to_v_propagator`)
IF         beta = 1, gain = R dt, threshold = v_threshold - v_reset
LI, I,     as LIF, CubaLIF, IF but never firing (threshold :data:`NEVER`):
CubaLI     their membrane is read out as a trace
Threshold  the step's input itself: beta = the least normal float32 (what
           remains of the last step is below 1e-38 of it), gain 1
=========  ====================================================================

The synaptic current uses this step's input (``v`` of step ``n`` sees the
spikes of step ``n``), as snnTorch's ``Synaptic`` and norse's ``LIFCell`` do.
NIR fires on ``v > v_threshold``, lif_discrete on ``v >= threshold``: they
differ only when the membrane lands exactly on the threshold.  NIR has no
subtractive reset and no refractory period; neurosim's exports keep them in
the node's metadata (``neurosim_reset``, ``neurosim_t_ref``), which the
importer reads and other tools ignore (a subtract-reset node then reads as
reset-to-zero, as snnTorch's own export of its default ``Leaky`` does).

Exports invert the Euler reading.  Each written number is the double whose
reading gives the model's factor back exactly (a neighbour of the closed
form, found in a few ulps), so a round trip is bit-identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ConfigError
from neurosim.models.base import psc_to_v_propagator

#: Threshold of nodes that never fire (LI, I, CubaLI): far above any membrane
#: a finite float32 run reaches, and within the config's range.
NEVER = 1e30

#: ``beta`` of a Threshold node: float32's least normal number.
MEMORYLESS = float(np.finfo(np.float32).tiny)

#: Metadata keys of neurosim's own exports.
RESET_KEY = "neurosim_reset"
T_REF_KEY = "neurosim_t_ref"

SPIKING = ("LIF", "CubaLIF", "IF", "Threshold")
MEMBRANE = ("LI", "I", "CubaLI")


@dataclass
class Discrete:
    """One node's neurons as lif_discrete: per-neuron parameter arrays, the
    factor every incoming weight is multiplied by, and the initial membrane."""

    params: dict[str, np.ndarray]
    weight_scale: np.ndarray
    v0: np.ndarray
    reset: str = "zero"
    t_ref: float = 0.0


def _array(node, field: str, size: int, where: str) -> np.ndarray:
    value = np.asarray(getattr(node, field), dtype=np.float64)
    if value.size not in (1, size):
        raise ConfigError(f"{where}: {field} has {value.size} values for {size} neurons")
    value = np.broadcast_to(value.reshape(-1), (size,)).copy()
    if not np.all(np.isfinite(value)):
        raise ConfigError(f"{where}: {field} is not finite")
    return value


def _factor(dt: float, tau: np.ndarray, exact: bool, where: str, name: str) -> np.ndarray:
    """``k`` of the module docstring for time constant ``tau``."""
    if np.any(tau <= 0):
        raise ConfigError(f"{where}: {name} must be positive, got {tau.min():g} s")
    if exact:
        return -np.expm1(-dt / tau)
    k = dt / tau
    if np.any(k > 1):
        raise ConfigError(f"{where}: dt = {dt:g} s exceeds {name} = {tau.min():g} s, so forward "
                          f"Euler's factor 1 - dt/{name} is negative; choose a smaller dt or "
                          "integration exact")
    return k


def discretise(node, kind: str, size: int, dt: float, exact: bool, where: str) -> Discrete:
    """The lif_discrete reading of NIR neuron node ``node`` (a ``kind`` of
    :data:`SPIKING` or :data:`MEMBRANE`) with ``size`` neurons."""
    get = lambda field: _array(node, field, size, where)  # noqa: E731
    ones, zeros = np.ones(size), np.zeros(size)
    if kind == "Threshold":
        return Discrete({"beta": np.full(size, MEMORYLESS), "alpha": zeros, "gain": ones,
                         "bias": zeros, "threshold": _positive(get("threshold"), where, "threshold")},
                        ones, zeros)
    spiking = kind in SPIKING
    v_reset = get("v_reset") if spiking and getattr(node, "v_reset", None) is not None else zeros
    v_th = get("v_threshold") - v_reset if spiking else np.full(size, NEVER)
    r = get("r")
    if np.any(r <= 0):
        raise ConfigError(f"{where}: r must be positive, got {r.min():g}")
    alpha, scale = zeros, ones
    if kind in ("IF", "I"):
        beta, gain, bias = ones, r * dt, zeros
    else:
        tau_name = "tau" if kind in ("LIF", "LI") else "tau_mem"
        tau = get(tau_name)
        k = _factor(dt, tau, exact, where, tau_name)
        beta, gain, bias = 1.0 - k, r * k, k * (get("v_leak") - v_reset)
        if exact:
            beta = np.exp(-dt / tau)
        if kind in ("CubaLIF", "CubaLI"):
            tau_syn = get("tau_syn")
            k_syn = _factor(dt, tau_syn, exact, where, "tau_syn")
            alpha = np.exp(-dt / tau_syn) if exact else 1.0 - k_syn
            if np.any(alpha >= 1):
                raise ConfigError(f"{where}: tau_syn = {tau_syn.max():g} s is too long for "
                                  f"dt = {dt:g} s (the current would never decay)")
            scale = dt / tau_syn * get("w_in")
            if exact:
                gain = r * psc_to_v_propagator(dt, tau, tau_syn)
    if np.any(beta <= 0):
        raise ConfigError(f"{where}: the membrane factor per step is {beta.min():g}; "
                          "it must be positive (choose a smaller dt)")
    out = Discrete({"beta": beta, "alpha": alpha, "gain": gain, "bias": bias,
                    "threshold": _positive(v_th, where, "v_threshold - v_reset")}, scale, -v_reset)
    meta = getattr(node, "metadata", None) or {}
    if RESET_KEY in meta:
        out.reset = _text(meta[RESET_KEY])
        if out.reset not in ("zero", "subtract"):
            raise ConfigError(f"{where}: metadata {RESET_KEY} must be zero or subtract, "
                              f"got {out.reset!r}")
        if out.reset == "subtract" and np.any(v_reset != 0):
            raise ConfigError(f"{where}: a subtractive reset needs v_reset = 0")
    if T_REF_KEY in meta:
        out.t_ref = float(np.asarray(meta[T_REF_KEY]))
    return out


def _positive(values: np.ndarray, where: str, name: str) -> np.ndarray:
    if np.any(values <= 0):
        raise ConfigError(f"{where}: {name} must be positive (lif_discrete fires at a positive "
                          f"threshold above its reset), got {values.min():g}")
    return values


def _text(value) -> str:
    value = value.item() if isinstance(value, np.ndarray) else value
    return value.decode() if isinstance(value, bytes) else str(value)


# -- export: the inverse of the Euler reading ---------------------------------------


def inverse(read, target: float, guess: float) -> float:
    """A double ``x`` near ``guess`` with ``read(x) == target`` exactly, if one
    lies within a few ulps; else ``guess`` (off by an ulp of ``target`` at most)."""
    for steps in range(9):
        for x in {_nudge(guess, steps), _nudge(guess, -steps)}:
            if read(x) == target:
                return x
    return guess


def _nudge(x: float, ulps: int) -> float:
    towards = math.inf if ulps > 0 else -math.inf
    for _ in range(abs(ulps)):
        x = math.nextafter(x, towards)
    return x


def lif_node_fields(beta: float, gain: float, bias: float, dt: float) -> dict[str, float]:
    """``tau``, ``r``, ``v_leak`` whose Euler reading is ``beta``, ``gain``, ``bias``."""
    tau = inverse(lambda t: 1.0 - dt / t, beta, dt / (1.0 - beta))
    k = dt / tau
    r = inverse(lambda x: x * k, gain, gain / k)
    v_leak = inverse(lambda x: k * x, bias, bias / k)
    return {"tau": tau, "r": r, "v_leak": v_leak}


def synapse_fields(alpha: float, dt: float) -> dict[str, float]:
    """``tau_syn`` and ``w_in`` whose reading is ``alpha`` and a unit weight scale."""
    tau_syn = inverse(lambda t: 1.0 - dt / t, alpha, dt / (1.0 - alpha))
    k = dt / tau_syn
    return {"tau_syn": tau_syn, "w_in": inverse(lambda w: k * w, 1.0, 1.0 / k)}
