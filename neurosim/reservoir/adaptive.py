"""E/I reservoir whose inhibition adapts locally to target firing rates.

After Srinivasan, Plenz & Girvan, "Boosting Reservoir Computing with
Brain-inspired Adaptive Dynamics" (arXiv:2504.12480, 2025).  The paper's full
text was not reachable from here; the equations below follow its abstract and
a public re-implementation that quotes its Eqs. 1 and 7 and Table I.  Where we
chose a form ourselves it is marked *(ours)*.

Model.  N rate units, a fraction ``exc_fraction`` excitatory, the rest
inhibitory (Dale's law: a unit's outgoing weights all have its sign).  Each
unit receives ``in_degree`` inputs from units drawn at random among all
others, so about f_E of them excitatory *(ours)*.
Weight magnitudes are |normal(mu, 0.2 mu)| with mu_E = 1 / (in_degree f_E)
for excitatory and mu_I = (f_E / f_I) mu_E for inhibitory sources, so that a
unit's summed excitatory and summed inhibitory weights are both about 1: the
balanced network.  Rates evolve as::

    V_i(t)  = sum_j A^E_ij r_j(t-1) - sum_j A^I_ij r_j(t-1) + w_i u(t)
    r_i(t)  = (1 - a) r_i(t-1) + a sigmoid(c (V_i(t) - theta))

with gain c, threshold theta and leak a (a = 1: no leak; the leak on the
rate, ESN-style, is *(ours)*).  A fraction
``input_fraction`` of units receives the input, w_i uniform on
[-input_scaling, input_scaling].

Global E/I balance *(our parametrisation)*: ``beta`` scales all inhibitory
weights by (1 - beta), so a unit's summed inhibition is about 1 - beta against
summed excitation 1: beta = 0 is balanced, beta > 0 excitation-dominated,
beta < 0 over-inhibited.  The "globally tuned" reservoir picks one beta for all.

Local adaptation (the paper's Eq. 7): while adapting, at every step each
inhibitory synapse onto unit i moves by::

    A^I_ij <- max(0, A^I_ij + delta (r_i(t) - rho_i))

so a unit firing above its target rate rho_i gains inhibition and one below
loses it, until every unit fires near its own target.  Targets are one rate
for all (homogeneous) or drawn per unit, uniform on [rho - spread, rho + spread]
(heterogeneous; the uniform law is *(ours)*).  The paper's one-step design
(inhibition set in closed form from the targets) is not implemented.  After
adaptation the weights are frozen and the reservoir is used like any other.
The rule controls time-averaged rates when the network settles to irregular
low-amplitude activity; with few, strong synapses (in_degree of about 20 or
less at gain 10) the network oscillates with large amplitude and the rates
miss their targets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from neurosim.errors import ConfigError


@dataclass(frozen=True)
class EIReservoir:
    """Connectivity and parameters of an E/I rate reservoir (CSR by target unit)."""

    indptr: np.ndarray      # int64 (N+1,)
    sources: np.ndarray     # int32 (nnz,)
    weight: np.ndarray      # float64 (nnz,) magnitudes, >= 0
    inhibitory: np.ndarray  # bool (nnz,) the source is inhibitory
    w_in: np.ndarray        # float64 (N,)
    gain: float
    threshold: float
    leak: float

    @property
    def size(self) -> int:
        return self.indptr.size - 1

    def signed_weight(self) -> np.ndarray:
        """A fresh array of the weights with their signs (inhibitory negative)."""
        return np.where(self.inhibitory, -self.weight, self.weight)


def make_ei_reservoir(n: int = 500, exc_fraction: float = 0.8, in_degree: int = 50,
                      beta: float = 0.0, input_fraction: float = 1.0, input_scaling: float = 0.5,
                      gain: float = 10.0, threshold: float = 0.0, leak: float = 1.0,
                      seed: int | np.random.SeedSequence = 0) -> EIReservoir:
    """Draw an E/I reservoir (see the module docstring); same seed, same reservoir."""
    if not 0.0 < exc_fraction < 1.0:
        raise ConfigError(f"make_ei_reservoir: exc_fraction must be in (0, 1), got {exc_fraction}")
    if not 0 < in_degree < n:
        raise ConfigError(f"make_ei_reservoir: in_degree must be in (0, n={n}), got {in_degree}")
    if not beta <= 1.0:
        raise ConfigError(f"make_ei_reservoir: beta must be <= 1 (inhibition scaled by 1 - beta), got {beta}")
    if not 0.0 < leak <= 1.0:
        raise ConfigError(f"make_ei_reservoir: leak must be in (0, 1], got {leak}")
    # spawn() advances a SeedSequence: spawn from a copy so the caller's stays as given.
    ss = (np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key)
          if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed))
    structure, weights, inputs = (np.random.default_rng(s) for s in ss.spawn(3))
    n_exc = int(round(exc_fraction * n))
    f_e, f_i = n_exc / n, 1.0 - n_exc / n
    # in_degree distinct sources per unit, excluding itself: the in_degree smallest of n-1 random
    # keys, shifted past the diagonal (an (n, n-1) draw: fine up to a few thousand units).
    keys = structure.random((n, n - 1))
    picks = np.argpartition(keys, in_degree - 1, axis=1)[:, :in_degree]
    picks.sort(axis=1)
    sources = picks + (picks >= np.arange(n)[:, None])
    sources = sources.astype(np.int32).ravel()
    inhibitory = sources >= n_exc
    mu_e = 1.0 / (in_degree * f_e)
    mu = np.where(inhibitory, (f_e / f_i) * mu_e, mu_e)
    weight = np.abs(mu * (1.0 + 0.2 * weights.standard_normal(sources.size)))
    weight[inhibitory] *= 1.0 - beta
    w_in = inputs.uniform(-input_scaling, input_scaling, n)
    w_in[inputs.permutation(n)[: n - int(round(input_fraction * n))]] = 0.0
    indptr = np.arange(0, n * in_degree + 1, in_degree, dtype=np.int64)
    return EIReservoir(indptr, sources, weight, inhibitory, w_in, float(gain), float(threshold),
                       float(leak))


def targets(n: int, rho: float, spread: float = 0.0,
            seed: int | np.random.SeedSequence = 0) -> np.ndarray:
    """Per-unit target rates: ``rho`` for all, or uniform on [rho - spread, rho + spread]."""
    if not (0.0 < rho - spread and rho + spread < 1.0):
        raise ConfigError(f"targets: rates must stay inside (0, 1), got rho {rho} +- {spread}")
    return np.random.default_rng(seed).uniform(rho - spread, rho + spread, n) if spread else np.full(n, rho)


@njit(cache=True)
def _run(indptr, sources, weight, inhibitory, w_in, gain, threshold, leak, u, r, target, delta,
         states):
    """Advance rates ``r`` over inputs ``u``; adapt inhibitory ``weight`` in place if delta > 0.

    ``weight`` is signed here (inhibitory <= 0) so the synapse loop has no branch.
    """
    n = r.size
    prev = r.copy()
    for t in range(u.size):
        for i in range(n):
            v = w_in[i] * u[t]
            for s in range(indptr[i], indptr[i + 1]):
                v += weight[s] * prev[sources[s]]
            r[i] = (1.0 - leak) * prev[i] + leak / (1.0 + np.exp(-gain * (v - threshold)))
        if delta > 0.0:
            for i in range(n):
                step = delta * (r[i] - target[i])
                for s in range(indptr[i], indptr[i + 1]):
                    if inhibitory[s]:
                        weight[s] = min(0.0, weight[s] - step)
        if states.shape[0] > 0:
            states[t] = r
        prev[:] = r


def run(res: EIReservoir, u: np.ndarray, r0: np.ndarray | None = None) -> np.ndarray:
    """States (T, N) of the frozen reservoir driven by ``u``, starting from rates ``r0`` (default 0)."""
    u = np.ascontiguousarray(u, dtype=np.float64).reshape(-1)
    r = np.zeros(res.size) if r0 is None else np.array(r0, dtype=np.float64)
    states = np.empty((u.size, res.size))
    _run(res.indptr, res.sources, res.signed_weight(), res.inhibitory, res.w_in, res.gain,
         res.threshold, res.leak, u, r, r, 0.0, states)
    return states


def adapt(res: EIReservoir, u: np.ndarray, target: np.ndarray, delta: float = 1e-3,
          r0: np.ndarray | None = None) -> tuple[EIReservoir, np.ndarray]:
    """Run the inhibitory plasticity over inputs ``u``; return the adapted reservoir and final rates.

    ``res`` is left unchanged (the adapted weights are a copy).
    """
    if target.shape != (res.size,):
        raise ConfigError(f"adapt: target must have one rate per unit ({res.size}), got {target.shape}")
    if not delta > 0.0:
        raise ConfigError(f"adapt: delta must be positive, got {delta}")
    u = np.ascontiguousarray(u, dtype=np.float64).reshape(-1)
    weight = res.signed_weight()
    r = np.zeros(res.size) if r0 is None else np.array(r0, dtype=np.float64)
    _run(res.indptr, res.sources, weight, res.inhibitory, res.w_in, res.gain, res.threshold,
         res.leak, u, r, np.asarray(target, dtype=np.float64), float(delta), np.empty((0, res.size)))
    return replace(res, weight=np.abs(weight)), r
