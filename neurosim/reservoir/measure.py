"""Reservoir metrics of an LSM: from a result file, or by driving its liquid.

``neurosim metrics TARGET`` (see :func:`measure`):

- an LSM result file (``neurosim run`` of a ``task: lsm_classification``
  config) gives the branching factor stored per test sample, the kernel
  quality (:func:`~neurosim.reservoir.metrics.kernel_rank` of the test
  split's L1-normalised spike-count features, the readout's input) and the
  separation of those features by class label;
- an LSM config (or, on request, a result file, whose ``W_ini`` and config
  rebuild its liquid) gives the liquid's linear memory capacity, a largest
  Lyapunov exponent estimate and the branching factor of the driven liquid.

The drive: a random scalar ``u ~ U(0, 1)`` is held for ``hold`` steps per
value; every input neuron spikes with probability ``rate * u`` each step.
The liquid runs with the config's neuron dynamics and fixed weights
(plasticity off: the built liquid's initial weights for a config, ``W_ini``
for a result file). The state is the liquid raster low-pass filtered,
``x(t) = x(t-1) exp(-1/tau_filter) + s(t)``, read at the last step of every
held value.

Lyapunov estimate (spiking networks have no infinitesimal perturbation, so
this is the finite-size, one-spike version of Legenstein & Maass 2007): in
each trial a twin run under the identical input spikes gets one extra spike
of a neuron that is neither spiking nor refractory at step ``t0``; with
``delta(k)`` the Euclidean distance of the filtered states ``k`` steps later
(``delta(0) = 1``), ``lambda = ln(<delta(H)> / <delta(0)>) / H`` per step,
``<.>`` the mean over trials. Limits: if the extra spike changes no later
spike, ``delta(k) = exp(-k / tau_filter)`` and lambda sits at its floor
``-1/tau_filter`` (reported, with the fraction of such trials); a growing
difference saturates at the distance of unrelated trajectories, so lambda
falls with ``H``; it depends on the filter, and on the input rate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple

import h5py
import numpy as np
from numba import njit
from scipy.signal import lfilter

from neurosim.config import load_config, load_config_text
from neurosim.config.lsm import LSMConfig
from neurosim.errors import ConfigError, DataError
from neurosim.reservoir.branching import branching_factor, defined, undefined
from neurosim.models.lif_discrete import numba_kernels as lif_discrete
from neurosim.reservoir.kernels import advance, deliver, sample_state
from neurosim.reservoir.liquid import Liquid, build_liquid
from neurosim.reservoir.metrics import MemoryCapacity, kernel_rank, memory_capacity, separation
from neurosim.reservoir.pipeline import dynamics, liquid_spec
from neurosim.reservoir.readout import l1_features
from neurosim.reservoir.results import load_lsm
from neurosim.reservoir.simulate import Dynamics

FEATURE_METRICS = ("branching_factor", "kernel_rank", "separation")
DRIVE_METRICS = ("memory_capacity", "lyapunov")
METRICS = FEATURE_METRICS + DRIVE_METRICS
EXPIRED = 1e-3


@dataclass(frozen=True)
class DriveSettings:
    """The scalar drive and the estimators (steps of the config's ``protocol.dt``)."""

    values: int = 3000
    hold: int = 5
    rate: float = 0.5
    tau_filter: float = 20.0
    max_delay: int = 30
    washout: int = 100
    ridges: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
    trials: int = 10
    horizon: int = 50
    #: relative singular-value tolerance of the kernel rank (noisy spike counts)
    rank_tol: float = 1e-3


@dataclass
class Target:
    """What :func:`load_target` found: the config, its liquid and weights, and
    the stored features and branching factors of a result file."""

    label: str
    cfg: LSMConfig
    liquid: Liquid
    weights: np.ndarray
    is_result: bool
    test_counts: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    branching: np.ndarray | None = None


class Lyapunov(NamedTuple):
    exponent: float       # per step
    divergence: np.ndarray  # <delta(k)>, k = 0 .. horizon
    unchanged: float      # fraction of trials whose extra spike changed no later spike
    floor: float          # -1 / tau_filter


@njit(cache=True)
def _drive(w, pre_ptr, post, n_liquid, liquid_par, input_par, neuron, in_ptr, in_idx, steps,
           force_t, force_i, raster):
    """The fixed-weight step of :func:`neurosim.reservoir.kernels.simulate_sample`,
    with input spikes given per step (CSR ``in_ptr``, ``in_idx``) instead of drawn,
    and neuron ``force_i`` made to spike at step ``force_t`` unless refractory."""
    n_total = pre_ptr.size - 1
    ref_steps, i_in, t_last0 = np.int64(neuron[0]), neuron[1], neuron[4]
    v, x, last, spikes, _, counts = sample_state(n_total, n_liquid)
    last[:] = -np.int64(t_last0)
    for t in range(steps):
        ns = 0
        if t > 0:
            for q in range(in_ptr[t - 1], in_ptr[t]):
                x[0, n_liquid + in_idx[q]] += i_in
            ns = advance(v, x, liquid_par, input_par, ref_steps, spikes, n_liquid)
        if t == force_t and lif_discrete.force_spike(v, x, liquid_par, ref_steps, force_i):
            k = ns  # into the spike list, kept in increasing order
            while k > 0 and spikes[0, k - 1] > force_i:
                spikes[0, k] = spikes[0, k - 1]
                k -= 1
            spikes[0, k] = force_i
            ns += 1
        deliver(t, spikes[0], ns, n_liquid, w, pre_ptr, post, liquid_par[2], last, x[0], counts,
                raster)


def drive_liquid(liquid: Liquid, weights: np.ndarray, dyn: Dynamics, in_ptr: np.ndarray,
                 in_idx: np.ndarray, steps: int, force: tuple[int, int] = (-1, -1)) -> np.ndarray:
    """Liquid raster ``(steps, n_liquid)`` uint8 under the given input spikes.

    ``in_ptr`` (``steps + 1``) and ``in_idx`` list the input neurons (0-based
    among the inputs) that receive ``input_current`` at each step; ``force =
    (t, i)`` adds a spike of liquid neuron ``i`` at step ``t``.
    """
    raster = np.zeros((int(steps), liquid.n_liquid), np.uint8)
    _drive(np.asarray(weights, np.float32), liquid.pre_ptr, liquid.post, liquid.n_liquid,
           *dyn.neuron_args(), np.asarray(in_ptr, np.int64), np.asarray(in_idx, np.int32),
           int(steps), int(force[0]), int(force[1]), raster)
    return raster


def scalar_drive(n_inputs: int, settings: DriveSettings,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held random values ``u`` and the input spikes (CSR per step) encoding them."""
    u = rng.random(settings.values)
    p = np.repeat(settings.rate * u, settings.hold)
    rows, cols = np.nonzero(rng.random((p.size, n_inputs)) < p[:, None])
    ptr = np.zeros(p.size + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=p.size), out=ptr[1:])
    return u, ptr, cols.astype(np.int32)


def filter_states(raster: np.ndarray, tau: float) -> np.ndarray:
    """``x(t) = x(t-1) exp(-1/tau) + s(t)`` along time (axis 0), from ``x(-1) = 0``."""
    return lfilter([1.0], [1.0, -np.exp(-1.0 / tau)], np.asarray(raster, np.float64), axis=0)


def liquid_memory_capacity(raster: np.ndarray, u: np.ndarray,
                           settings: DriveSettings) -> tuple[MemoryCapacity, float]:
    """Memory capacity of the filtered ``raster`` read at the end of each held value of ``u``.

    The ridge penalty is chosen from ``settings.ridges`` by the capacity it
    gives within the training half alone (its own train/test split); the test
    half is scored once, with the chosen penalty. Returns ``(capacity, ridge)``.
    """
    states = filter_states(raster, settings.tau_filter)[settings.hold - 1 :: settings.hold]
    # Traces older than ~7 tau count as expired: a neuron that fell silent keeps a
    # vanishing, nearly constant trace whose z-score (ridge_fit standardises with
    # the training rows) would explode if it fires again in the test rows.
    states[states < EXPIRED] = 0.0
    start = max(settings.washout, settings.max_delay)
    cut = start + (states.shape[0] - start) // 2

    def mc(rows: int, ridge: float) -> MemoryCapacity:
        return memory_capacity(states[:rows], u[:rows], settings.max_delay,
                               washout=settings.washout, ridge=ridge)

    ridge = max(settings.ridges, key=lambda r: mc(cut, r).total)
    return mc(states.shape[0], ridge), ridge


def liquid_lyapunov(liquid: Liquid, weights: np.ndarray, dyn: Dynamics, in_ptr: np.ndarray,
                    in_idx: np.ndarray, raster: np.ndarray, settings: DriveSettings,
                    rng: np.random.Generator) -> Lyapunov:
    """One-extra-spike twin runs against the reference ``raster`` (module doc)."""
    h = settings.horizon
    t_ref = int(dyn.refractory)
    first = max(settings.washout * settings.hold, t_ref)
    if raster.shape[0] - h - 1 <= first:
        raise ConfigError(f"lyapunov: {raster.shape[0]} steps leave no perturbation time after "
                          f"the washout ({first} steps) and horizon ({h} steps)")
    decay = np.exp(-1.0 / settings.tau_filter)
    total = np.zeros(h + 1)
    unchanged = 0
    for _ in range(settings.trials):
        t0 = int(rng.integers(first, raster.shape[0] - h))
        free = np.flatnonzero(raster[t0 - t_ref : t0 + 1].sum(axis=0) == 0)
        if free.size == 0:
            raise DataError(f"lyapunov: every liquid neuron is spiking or refractory at step {t0}")
        twin = drive_liquid(liquid, weights, dyn, in_ptr, in_idx, t0 + h + 1,
                            force=(t0, int(rng.choice(free))))
        diff = twin[t0:].astype(np.float64) - raster[t0 : t0 + h + 1]
        unchanged += int(np.abs(diff[1:]).sum() == 0)
        total += np.linalg.norm(lfilter([1.0], [1.0, -decay], diff, axis=0), axis=1)
    mean = total / settings.trials
    return Lyapunov(float(np.log(mean[h] / mean[0]) / h), mean, unchanged / settings.trials,
                    -1.0 / settings.tau_filter)


def _read_result(path: Path) -> Target:
    res = load_lsm(path)
    cfg = load_config_text(res.config_text, name=path.stem)
    liquid = _liquid(cfg)
    if res.w_ini.size != liquid.n_synapses:
        raise DataError(f"{str(path)!r}: W_ini has {res.w_ini.size} synapses, its config's "
                        f"liquid {liquid.n_synapses}")
    test = res.features["test"]
    return Target(str(path), cfg, liquid, res.w_ini, True, test.counts, test.labels,
                  res.branching)


def _liquid(cfg: LSMConfig) -> Liquid:
    # The same seed child as run_lsm, so the liquid is the run's.
    return build_liquid(liquid_spec(cfg), cfg.seed)


def load_target(target: str | os.PathLike, overrides: Iterable[str] = ()) -> Target:
    """An LSM result file, or an LSM config (name or path) with ``--set`` overrides."""
    path = Path(target)
    if path.is_file() and h5py.is_hdf5(path):
        if list(overrides):
            raise ConfigError("--set applies to configs, not to result files")
        return _read_result(path)
    cfg = load_config(target, overrides=list(overrides))
    if not isinstance(cfg, LSMConfig):
        raise ConfigError(f"{str(target)!r} is not an LSM config (task: lsm_classification); "
                          "metrics needs one, or an LSM result file")
    liquid = _liquid(cfg)
    return Target(str(target), cfg, liquid, liquid.weight, False)


def _mean_sd(values: np.ndarray) -> dict:
    finite = defined(values)
    return {"mean": float(finite.mean()) if finite.size else None,
            "sd": float(finite.std()) if finite.size else None,
            "samples": int(finite.size)}


def measure(target: Target, metrics: Iterable[str] | None = None,
            settings: DriveSettings = DriveSettings()) -> dict:
    """The requested metrics as a JSON-ready dict.

    Default: branching factor, kernel rank and separation for a result file;
    branching factor (of the driven liquid, in ``sample_duration`` segments),
    memory capacity and Lyapunov estimate for a config. A result file gives the
    drive metrics too when asked, with its ``W_ini``.
    """
    default = FEATURE_METRICS if target.is_result else ("branching_factor",) + DRIVE_METRICS
    wanted = list(metrics) if metrics else list(default)
    unknown = [m for m in wanted if m not in METRICS]
    if unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; "
                          f"choose from {', '.join(METRICS)}")
    if not target.is_result and {"kernel_rank", "separation"} & set(wanted):
        raise ConfigError("kernel_rank and separation need the test features of an LSM result "
                          "file; run the config first ('neurosim run')")
    cfg = target.cfg
    out: dict = {"target": target.label, "liquid_neurons": target.liquid.n_liquid}
    if target.is_result:
        feats = l1_features(target.test_counts)
        if "branching_factor" in wanted:
            out["branching_factor"] = {**_mean_sd(np.asarray(target.branching, np.float64)),
                                       "source": "recorded test samples"}
        if "kernel_rank" in wanted:
            out["kernel_rank"] = {"rank": kernel_rank(feats, settings.rank_tol),
                                  "tol": settings.rank_tol, "samples": int(feats.shape[0])}
        if "separation" in wanted:
            out["separation"] = separation(feats, target.test_labels)
        if not set(DRIVE_METRICS) & set(wanted):
            return out
    dyn = dynamics(cfg)
    rng_drive, rng_twin = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(cfg.seed).spawn(6)[5].spawn(2))
    u, in_ptr, in_idx = scalar_drive(target.liquid.spec.n_inputs, settings, rng_drive)
    steps = u.size * settings.hold
    raster = drive_liquid(target.liquid, target.weights, dyn, in_ptr, in_idx, steps)
    out["drive"] = {"steps": int(raster.shape[0]), "dt_ms": cfg.protocol.dt * 1e3,
                    "weights": "W_ini" if target.is_result else "initial",
                    "liquid_rate_hz": float(raster.mean() / cfg.protocol.dt),
                    **{k: getattr(settings, k) for k in ("values", "hold", "rate", "tau_filter")}}
    if "branching_factor" in wanted and not target.is_result:
        span = cfg.steps(cfg.protocol.sample_duration)
        segments = raster[: raster.shape[0] // span * span].reshape(-1, span, raster.shape[1])
        sigma = branching_factor(segments, *target.liquid.liquid_adjacency(),
                                 window=cfg.steps(cfg.branching.window),
                                 margin=cfg.steps(cfg.branching.margin))
        out["branching_factor"] = {**_mean_sd(sigma), "source": "driven liquid segments"}
    if "memory_capacity" in wanted:
        mc, ridge = liquid_memory_capacity(raster, u, settings)
        out["memory_capacity"] = {"total": mc.total, "per_delay": mc.per_delay.tolist(),
                                  "max_delay": settings.max_delay, "ridge": ridge}
    if "lyapunov" in wanted:
        ly = liquid_lyapunov(target.liquid, target.weights, dyn, in_ptr, in_idx, raster, settings,
                             rng_twin)
        ms = cfg.protocol.dt * 1e3
        out["lyapunov"] = {"per_step": ly.exponent, "per_ms": ly.exponent / ms,
                           "floor_per_step": ly.floor, "floor_per_ms": ly.floor / ms,
                           "unchanged_fraction": ly.unchanged,
                           "horizon": settings.horizon, "trials": settings.trials,
                           "divergence": ly.divergence.tolist()}
    return out


def format_table(res: dict) -> str:
    """A few lines: one per metric."""
    lines = [f"{res['target']}: {res['liquid_neurons']} liquid neurons"]
    if "branching_factor" in res:
        b = res["branching_factor"]
        lines.append(f"  branching factor   {undefined(b['source'])}" if b["mean"] is None else
                     f"  branching factor   {b['mean']:.3f} +- {b['sd']:.3f} "
                     f"({b['samples']} {b['source']})")
    if "kernel_rank" in res:
        k = res["kernel_rank"]
        full = min(k["samples"], res["liquid_neurons"])
        lines.append(f"  kernel rank        {k['rank']} of {full} "
                     f"(test features, tol {k['tol']:g} x largest singular value)")
    if "separation" in res:
        lines.append(f"  separation         {res['separation']:.4g} (test features by label)")
    if "drive" in res:
        d = res["drive"]
        lines.append(f"  drive              {d['steps']} steps ({d['values']} values x "
                     f"{d['hold']}), {d['weights']} weights, liquid {d['liquid_rate_hz']:.1f} Hz")
    if "memory_capacity" in res:
        m = res["memory_capacity"]
        lines.append(f"  memory capacity    {m['total']:.3f} (delays 0..{m['max_delay']} values, "
                     f"ridge {m['ridge']:g})")
    if "lyapunov" in res:
        ly = res["lyapunov"]
        lines.append(f"  Lyapunov exponent  {ly['per_ms']:.4f} /ms (floor {ly['floor_per_ms']:.4f} "
                     f"/ms; {ly['trials']} twins, {ly['horizon']} steps, "
                     f"{100 * ly['unchanged_fraction']:.0f} % unchanged)")
    return "\n".join(lines)
