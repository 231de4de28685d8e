"""Run samples through a liquid: the initialisation and the per-sample phase.

:class:`Dynamics` holds the neuron, plasticity and astrocyte constants in
steps of ``dt`` (converted once, here); :class:`LiquidSimulator` feeds batches
of input probabilities to the compiled kernels of
:mod:`neurosim.reservoir.kernels` and keeps the weights between phases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from neurosim.data.encoders import sample_key
from neurosim.models.lif_discrete import MODEL as LIF_DISCRETE
from neurosim.reservoir.kernels import (
    ASTRO_STDP,
    FIXED,
    STDP,
    TALLY,
    input_raster,
    run_batch,
    run_serial,
    tally,
)
from neurosim.reservoir.liquid import INH, Liquid

RULES = {"none": FIXED, "stdp": STDP, "astro_stdp": ASTRO_STDP}


@dataclass(frozen=True)
class Dynamics:
    """Model constants, times in steps of dt (defaults: the NALSM paper).

    Membrane quantities (``threshold``, ``input_current``) are in the paper's
    dimensionless membrane units.
    """

    tau_v: float = 64.0
    tau_u: float = 1.0
    threshold: float = 20.0
    refractory: int = 2
    input_current: float = 100.0
    rule: str = "astro_stdp"
    a_plus: float = 0.15
    trace_decay: float = 0.905
    trace_increment: float = 0.1
    lr_decay: float = 0.99
    w_astro: float = 0.015
    astro_bias: float = 0.15
    tau_astro: float = 100.0
    astro_initial: float = 0.15
    #: Steps since the last spike that every neuron starts a sample with
    #: (the reference's t_lim: its synaptic current is exp(-20), i.e. none).
    rest_since: int = 20

    def neuron_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``lif_discrete`` propagator rows of the liquid (float64) and of
        the input neurons (float32), see :mod:`neurosim.reservoir.kernels`."""
        beta = 1.0 - 1.0 / self.tau_v

        def row(gain, alpha):
            p = {"beta": [beta], "gain": [gain], "alpha": [alpha], "bias": [0.0],
                 "threshold": [float(self.threshold)], "reset": ["zero"]}
            return LIF_DISCRETE.discretise(p, 1.0, None)[0]

        return (row(1.0 / self.tau_u, float(np.exp(-1.0 / self.tau_u))),
                row(1.0, 0.0).astype(np.float32))

    def neuron_args(self) -> tuple:
        """The neuron arguments of the kernels: ``(liquid_par, input_par,
        (t_ref, input_current, trace_decay, trace_increment, rest_since))``."""
        return (*self.neuron_rows(),
                (float(self.refractory), float(self.input_current), float(self.trace_decay),
                 float(self.trace_increment), float(self.rest_since)))

    def plastic_tuple(self) -> tuple:
        return (float(RULES[self.rule]), float(self.a_plus), float(self.w_astro),
                float(self.astro_bias), float(self.tau_astro), float(self.astro_initial))


def active_inputs(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(ptr, idx)`` of the inputs with non-zero probability, per sample."""
    rows, cols = np.nonzero(probs > 0)
    ptr = np.zeros(len(probs) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(probs)), out=ptr[1:])
    return ptr, cols.astype(np.int32)


def tally_dict(tally: np.ndarray) -> dict[str, int]:
    """Per-sample :data:`~neurosim.reservoir.kernels.TALLY` rows -> their sums by name."""
    return dict(zip(TALLY, (int(x) for x in tally.sum(axis=0)), strict=True))


def sample_keys(seed: int, ids: np.ndarray) -> np.ndarray:
    """Input-spike keys of the given global sample ids."""
    return np.array([sample_key(np.uint64(seed), np.uint64(i)) for i in ids], dtype=np.uint64)


class LiquidSimulator:
    """A liquid, its dynamics and its current weights.

    Parameters
    ----------
    liquid:
        The built liquid (its ``weight`` is the starting point).
    dynamics:
        Model constants.
    seed:
        Root of the input-spike draws (sample ``i`` always gets the same spikes).
    threads:
        Samples simulated in parallel in :meth:`run`.
    """

    def __init__(self, liquid: Liquid, dynamics: Dynamics, seed: int, threads: int = 1) -> None:
        self.liquid = liquid
        self.dynamics = dynamics
        self.seed = int(seed)
        self.threads = int(threads)
        self.weights = liquid.weight.copy()
        self.trace = np.zeros(liquid.n_total, np.float32)
        self._exc_like = liquid.kind != INH

    def _structure(self) -> tuple:
        lq = self.liquid
        return (lq.pre_ptr, lq.post, lq.in_ptr, lq.in_syn, lq.in_pre, self._exc_like,
                lq.w_lo, lq.w_hi, lq.n_liquid)

    def initialise(self, probs: np.ndarray, ids: np.ndarray, steps: int,
                   lr_decay: float = 1.0) -> dict[str, int]:
        """Present samples one after another with plasticity on, weights and traces carried.

        In the initialisation the learning rates do not decay (``lr_decay``
        1, as in the reference). Returns the counts of :func:`tally_dict`.
        """
        if self.dynamics.rule == "none":
            return dict.fromkeys(TALLY, 0)
        ptr, idx = active_inputs(probs)
        tally = run_serial(self.weights, self.trace, *self._structure(),
                            np.ascontiguousarray(probs, dtype=np.float32), ptr, idx,
                            sample_keys(self.seed, ids), int(steps), *self.dynamics.neuron_args(),
                            self.dynamics.plastic_tuple(), float(lr_decay))
        return tally_dict(tally)

    def run(self, probs: np.ndarray, ids: np.ndarray, steps: int,
            record: np.ndarray | None = None,
            ) -> tuple[np.ndarray, np.ndarray | None, dict[str, int]]:
        """Run independent samples from the current weights.

        Parameters
        ----------
        probs:
            ``(n, n_inputs)`` float32 spike probabilities per step.
        ids:
            Global sample ids (select the input-spike stream).
        steps:
            Steps per sample.
        record:
            Boolean mask of the samples whose liquid raster is wanted.

        Returns
        -------
        counts ``(n, n_liquid)`` int32, rasters ``(n_recorded, steps, n_liquid)``
        uint8 (or None), the counts of :func:`tally_dict`.
        """
        n = len(probs)
        slot = np.full(n, -1, dtype=np.int64)
        if record is not None and record.any():
            slot[record] = np.arange(int(record.sum()))
        rasters = np.zeros((max(int((slot >= 0).sum()), 0), int(steps), self.liquid.n_liquid),
                           np.uint8)
        counts = np.zeros((n, self.liquid.n_liquid), np.int32)
        ptr, idx = active_inputs(probs)
        previous = numba.get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))
        try:
            tally = run_batch(self.weights, *self._structure(),
                               np.ascontiguousarray(probs, dtype=np.float32),
                               ptr, idx, sample_keys(self.seed, ids), int(steps),
                               *self.dynamics.neuron_args(), self.dynamics.plastic_tuple(),
                               float(self.dynamics.lr_decay), counts, rasters, slot,
                               max(1, min(self.threads, n)))
        finally:
            numba.set_num_threads(previous)
        return counts, (rasters if len(rasters) else None), tally_dict(tally)

    def tally_counts(self, per_neuron: np.ndarray) -> dict[str, int]:
        """The counts of :func:`tally_dict` from samples' spike counts per neuron
        ``(n, n_total)`` (for simulators that count spikes but not events)."""
        out = np.zeros((len(per_neuron), len(TALLY)), np.int64)
        for k, sample in enumerate(per_neuron):
            tally(sample, self.liquid.pre_ptr, self.liquid.in_ptr, self.liquid.n_liquid,
                  self.dynamics.plastic_tuple(), out[k])
        return tally_dict(out)

    def input_spikes(self, probs: np.ndarray, ids: np.ndarray, steps: int) -> np.ndarray:
        """The input neurons' spikes of samples ``ids`` in :meth:`run`,
        ``(n, steps, n_inputs)`` uint8, regenerated from their draws."""
        ptr, idx = active_inputs(probs)
        keys = sample_keys(self.seed, ids)
        probs = np.ascontiguousarray(probs, dtype=np.float32)
        _, input_par, neuron = self.dynamics.neuron_args()
        out = np.zeros((len(probs), int(steps), self.liquid.n_total - self.liquid.n_liquid),
                       np.uint8)
        for k in range(len(probs)):
            input_raster(probs[k], idx[ptr[k]:ptr[k + 1]], keys[k], int(steps), input_par,
                         neuron, out[k])
        return out
