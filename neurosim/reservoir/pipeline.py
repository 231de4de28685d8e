"""The LSM protocol end to end: data, liquid, initialisation, samples, readouts.

1. Initialisation (plastic rules only): ``protocol.init_samples`` training
   images, each for ``init_duration``, one after another with the weights and
   traces carried -> ``W_ini``.
2. Every training, validation and test sample starts from ``W_ini`` (state at
   rest, traces zero) and runs for ``sample_duration`` with plasticity on and
   the learning rates decaying; its liquid spike counts are its features.
3. Readouts on the L1-normalised counts: softmax layer (test accuracy at the
   best validation epoch) and ridge regression; branching factor on the
   recorded test samples.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from neurosim.config.lsm import LSMConfig
from neurosim.data import l1_peak, load_fashion_mnist, normalise_images, split_pools
from neurosim.progress import SampleProgress
from neurosim.reservoir.branching import branching_factor, defined, undefined
from neurosim.reservoir.footprint import check_lsm_fits
from neurosim.reservoir.kernels import TALLY
from neurosim.reservoir.liquid import Liquid, LiquidSpec, build_liquid
from neurosim.reservoir.readout import (ReadoutResult, best_on_validation, l1_features,
                                        softmax_per_rate, train_ridge)
from neurosim.reservoir.simulate import Dynamics, LiquidSimulator

if TYPE_CHECKING:
    from neurosim.driver.checkpoints import RunCheckpoints

SPLITS = ("train", "validation", "test")
# Offsets of the input-spike stream ids: every presentation draws its own spikes.
_ID_OFFSET = {"train": 0, "validation": 0, "test": 1 << 32, "init": 1 << 40}
#: Seed streams of a run (children of ``SeedSequence(cfg.seed)``): liquid,
#: data split, initialisation order, input spikes, readout.
_SEED_STREAMS, _READOUT_STREAM = 5, 4


@dataclass
class SplitFeatures:
    """Liquid spike counts of one split, with labels and data-set indices."""

    counts: np.ndarray   # (n, n_liquid) uint16
    labels: np.ndarray   # (n,) uint8
    indices: np.ndarray  # (n,) int64, index in the data set's split file


@dataclass
class RecordedSpikes:
    """Every spike of the recorded test samples, liquid and input neurons.

    Spike ``k`` of sample ``s`` (``ptr[s] <= k < ptr[s + 1]``) is neuron
    ``neuron[k]`` (liquid ``0..n_liquid-1``, then the inputs) at step
    ``step[k]``, sorted by step, then neuron.
    """

    ptr: np.ndarray     # (samples + 1,) int64
    step: np.ndarray    # int32
    neuron: np.ndarray  # int32

    @property
    def samples(self) -> int:
        return len(self.ptr) - 1

    @classmethod
    def from_rasters(cls, rasters: list[np.ndarray]) -> RecordedSpikes:
        """From ``(steps, neurons)`` rasters, one per sample."""
        hits = [np.nonzero(r) for r in rasters]
        ptr = np.zeros(len(hits) + 1, np.int64)
        np.cumsum([len(step) for step, _ in hits], out=ptr[1:])
        empty = [np.zeros(0, np.int32)]
        return cls(ptr, np.concatenate(empty + [h[0] for h in hits]).astype(np.int32),
                   np.concatenate(empty + [h[1] for h in hits]).astype(np.int32))

    def liquid_rasters(self, steps: int, n_liquid: int) -> np.ndarray:
        """The liquid part of the samples' rasters, ``(samples, steps, n_liquid)`` uint8
        (as :meth:`LiquidSimulator.run` records them)."""
        rasters = np.zeros((self.samples, steps, n_liquid), np.uint8)
        sample = np.repeat(np.arange(self.samples), np.diff(self.ptr))
        liquid = self.neuron < n_liquid
        rasters[sample[liquid], self.step[liquid], self.neuron[liquid]] = 1
        return rasters

    def concatenate(self, other: RecordedSpikes) -> RecordedSpikes:
        """The samples of ``self``, then those of ``other``."""
        return RecordedSpikes(np.concatenate([self.ptr, other.ptr[1:] + self.ptr[-1]]),
                              np.concatenate([self.step, other.step]),
                              np.concatenate([self.neuron, other.neuron]))


@dataclass
class LSMResult:
    """Everything a run produced (see :func:`neurosim.reservoir.results.save_lsm`)."""

    name: str
    config_text: str
    features: dict[str, SplitFeatures]
    softmax: ReadoutResult
    ridge: ReadoutResult
    branching: np.ndarray
    """The branching factor of each recorded test sample that has one."""
    w_ini: np.ndarray
    n_synapses: int
    timings: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    recorded: RecordedSpikes | None = None
    structure: tuple[np.ndarray, np.ndarray] | None = None
    """The liquid's synapses, ``(pre_ptr, post)`` in CSR order (as ``w_ini``)."""
    energy: dict[str, dict] = field(default_factory=dict)
    """Energy reports per profile (:meth:`EnergyReport.to_dict`), if asked for."""

    @property
    def branching_factor(self) -> float | None:
        """The mean over the samples that have one; None when none has."""
        return float(self.branching.mean()) if self.branching.size else None

    def branching_text(self) -> str:
        """The branching factor for a summary: its mean and samples, or why it has none."""
        if self.branching_factor is None:
            return undefined("recorded test samples")
        return f"{self.branching_factor:.3f} ({self.branching.size} test samples)"


def liquid_spec(cfg: LSMConfig) -> LiquidSpec:
    lq = cfg.liquid
    return LiquidSpec(grid=tuple(lq.grid), n_inputs=lq.inputs, exc_fraction=lq.exc_fraction,
                      lam=lq.length_scale, c_ee=lq.c_ee, c_ei=lq.c_ei, c_ie=lq.c_ie,
                      c_ii=lq.c_ii, input_density=lq.input_density, w_init=lq.w_init,
                      w_max=lq.w_max)


def dynamics(cfg: LSMConfig) -> Dynamics:
    """Config -> constants in steps of ``protocol.dt``."""
    dt = cfg.protocol.dt
    return Dynamics(
        tau_v=cfg.neuron.tau_v / dt, tau_u=cfg.neuron.tau_u / dt,
        threshold=cfg.neuron.threshold, refractory=cfg.steps(cfg.neuron.refractory),
        input_current=cfg.encoder.input_current, rule=cfg.plasticity.rule,
        a_plus=cfg.plasticity.a_plus, trace_decay=cfg.plasticity.trace_decay,
        trace_increment=cfg.plasticity.trace_increment, lr_decay=cfg.plasticity.lr_decay,
        w_astro=cfg.astrocyte.w_astro, astro_bias=cfg.astrocyte.bias,
        tau_astro=cfg.astrocyte.tau / dt, astro_initial=cfg.astrocyte.initial,
        rest_since=int(np.ceil(20.0 * cfg.neuron.tau_u / dt)))


def _select(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    return pool if n == len(pool) else np.sort(rng.choice(pool, n, replace=False))


def init_batches(rng: np.random.Generator, n_fit: int, n_init: int, batch: int, done: int = 0
                 ) -> Iterator[tuple[int, np.ndarray]]:
    """``(first sample, training-image indices)`` of each initialisation batch from
    sample ``done`` on: successive permutations of the ``n_fit`` training images,
    each drawn when reached (the whole order would take 8 bytes a sample, 8 GB for
    ``init_samples: 10**9``, before the first sample ran)."""
    perm, drawn = np.zeros(0, np.int64), 0  # permutations drawn; the last is perm
    for start in range(done, n_init, batch):
        stop, parts, pos = min(start + batch, n_init), [], start
        while pos < stop:
            k = pos // n_fit
            while drawn <= k:
                perm, drawn = rng.permutation(n_fit).astype(np.int64), drawn + 1
            end = min(stop, (k + 1) * n_fit)
            parts.append(perm[pos - k * n_fit : end - k * n_fit])
            pos = end
        yield start, np.concatenate(parts)


def readout_inputs(features: dict[str, SplitFeatures]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(L1 features, labels) of the train, validation and test splits."""
    return [(l1_features(features[s].counts), features[s].labels) for s in SPLITS]


def softmax_readouts(cfg: LSMConfig, xy: list[tuple[np.ndarray, np.ndarray]],
                     ) -> list[ReadoutResult]:
    """One softmax layer per learning rate of ``cfg.readout`` (same seed) on
    :func:`readout_inputs`."""
    ro = cfg.readout
    seed = np.random.SeedSequence(cfg.seed).spawn(_SEED_STREAMS)[_READOUT_STREAM]
    return softmax_per_rate(*xy, learning_rates=ro.learning_rate, epochs=ro.epochs,
                            batch_size=ro.batch_size, seed=int(seed.generate_state(1)[0]))


def train_readouts(cfg: LSMConfig, features: dict[str, SplitFeatures],
                   ) -> tuple[ReadoutResult, ReadoutResult]:
    """The softmax readout (its learning rate chosen on validation) and the
    ridge readout of ``cfg.readout``."""
    xy = readout_inputs(features)
    softmax = best_on_validation(softmax_readouts(cfg, xy))
    return softmax, train_ridge(*xy, alphas=list(cfg.readout.ridge_alphas))


def split_peaks(peak_from: str, train_images: np.ndarray,
                test_images: np.ndarray) -> dict[str, float]:
    """The maximum each split's L1-normalised pixels are divided by
    (``encoder.peak_from``): validation samples come from the training file,
    so they always share its maximum; the test file has its own unless
    ``peak_from`` is ``train``."""
    train = l1_peak(train_images)
    test = train if peak_from == "train" else l1_peak(test_images)
    return {"train": train, "validation": train, "test": test}


@dataclass
class ProtocolPosition:
    """How far a run of the protocol got: what a checkpoint holds to continue it.

    Initialisation samples are presented in batches with the weights and
    traces carried, so the position in it is the samples done and the
    simulator's weights and traces; the samples after it are independent, so
    their position is the count done (over the splits in order) and their
    features.  The rasters of the recorded test samples are in ``recorded``.
    """

    counts: dict[str, np.ndarray]
    init_done: int = 0
    samples_done: int = 0
    init_tally: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TALLY, 0))
    sample_tally: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TALLY, 0))
    recorded: RecordedSpikes = field(default_factory=lambda: RecordedSpikes.from_rasters([]))
    #: Seconds spent in the initialisation and the samples before this process.
    init_s: float = 0.0
    samples_s: float = 0.0

    def simulated_steps(self, init_steps: int, sample_steps: int) -> int:
        """Steps simulated up to this position (where simulated-time checkpoints fall)."""
        return self.init_done * init_steps + self.samples_done * sample_steps

    def to_arrays(self, sim: LiquidSimulator, init_s: float,
                  samples_s: float) -> dict[str, np.ndarray]:
        """The position, the simulator's weights and traces, and the seconds spent
        so far in each phase, as named arrays."""
        out = {"init_done": np.array(self.init_done), "samples_done": np.array(self.samples_done),
               "weights": sim.weights.copy(), "trace": sim.trace.copy(),
               "init_s": np.array(init_s), "samples_s": np.array(samples_s),
               "recorded.ptr": self.recorded.ptr, "recorded.step": self.recorded.step,
               "recorded.neuron": self.recorded.neuron}
        out.update((f"counts.{split}", c) for split, c in self.counts.items())
        out.update((f"init_tally.{k}", np.array(v)) for k, v in self.init_tally.items())
        out.update((f"sample_tally.{k}", np.array(v)) for k, v in self.sample_tally.items())
        return out

    @classmethod
    def from_arrays(cls, saved: dict[str, np.ndarray], sim: LiquidSimulator) -> ProtocolPosition:
        """Back from :meth:`to_arrays`; the simulator takes its weights and traces."""
        sim.weights[:] = saved["weights"]
        sim.trace[:] = saved["trace"]
        return cls(counts={s: saved[f"counts.{s}"].copy() for s in SPLITS},
                   init_done=int(saved["init_done"]), samples_done=int(saved["samples_done"]),
                   init_tally={k: int(saved[f"init_tally.{k}"]) for k in TALLY},
                   sample_tally={k: int(saved[f"sample_tally.{k}"]) for k in TALLY},
                   recorded=RecordedSpikes(saved["recorded.ptr"], saved["recorded.step"],
                                           saved["recorded.neuron"]),
                   init_s=float(saved["init_s"]), samples_s=float(saved["samples_s"]))


def run_lsm(cfg: LSMConfig, config_text: str, *, progress: bool = True,
            threads: int | None = None, liquid: Liquid | None = None,
            checkpoints: RunCheckpoints | None = None) -> LSMResult:
    """Run the whole protocol of ``cfg``; ``liquid`` replaces the built one (tests).

    ``checkpoints`` writes the run's :class:`ProtocolPosition` when due, after a
    batch of samples, and has it continue from its saved one.
    """
    t_start = time.perf_counter()
    if liquid is None:
        check_lsm_fits(cfg, liquid_spec(cfg))
    data = load_fashion_mnist(cfg.data.path)
    seeds = np.random.SeedSequence(cfg.seed).spawn(_SEED_STREAMS)
    rng_split, rng_init = np.random.default_rng(seeds[1]), np.random.default_rng(seeds[2])
    input_seed = int(seeds[3].generate_state(1)[0])
    liquid = build_liquid(liquid_spec(cfg), cfg.seed) if liquid is None else liquid
    if cfg.backend == "torch":  # imported here: torch loads only when asked for
        from neurosim.reservoir.torch_simulate import TorchLiquidSimulator
        sim = TorchLiquidSimulator(liquid, dynamics(cfg), input_seed, threads or cfg.threads,
                                   device=cfg.device, batch=cfg.torch_batch)
    else:
        sim = LiquidSimulator(liquid, dynamics(cfg), input_seed, threads or cfg.threads)

    train_img, test_img = data["train"], data["test"]
    peak_of = split_peaks(cfg.encoder.peak_from, train_img.images, test_img.images)
    wanted = {"train": cfg.data.train, "validation": cfg.data.validation, "test": cfg.data.test}
    pools = split_pools(data, wanted)
    n_fit = len(pools["train"])
    chosen = {s: _select(rng_split, pools[s], wanted[s]) for s in SPLITS}
    source = {"train": train_img, "validation": train_img, "test": test_img}
    batch = cfg.protocol.batch
    t_build = time.perf_counter()

    at = (ProtocolPosition.from_arrays(checkpoints.saved, sim)
          if checkpoints is not None and checkpoints.saved is not None else
          ProtocolPosition({s: np.zeros((len(chosen[s]), liquid.n_liquid), np.uint16)
                            for s in SPLITS}))

    # 1. initialisation: one image after another, weights carried
    n_init = cfg.protocol.init_samples if cfg.plasticity.rule != "none" else 0
    init_steps = cfg.steps(cfg.protocol.init_duration)
    steps = cfg.steps(cfg.protocol.sample_duration)

    def checkpoint(init_s: float, samples_s: float) -> None:
        """Write the position if a checkpoint is due (``*_s``: this process's seconds)."""
        if checkpoints is not None:
            checkpoints.reached(at.simulated_steps(init_steps, steps), lambda: at.to_arrays(
                sim, at.init_s + init_s, at.samples_s + samples_s))

    if checkpoints is not None:
        checkpoints.start(cfg.protocol.dt, at.simulated_steps(init_steps, steps))
    with SampleProgress(n_init, "initialisation", progress) as bar:
        for start, idx in init_batches(rng_init, n_fit, n_init, batch, at.init_done):
            probs = normalise_images(train_img.images[idx], peak_of["train"])
            _add(at.init_tally, sim.initialise(probs, _ID_OFFSET["init"] + start
                                               + np.arange(len(idx)), init_steps))
            at.init_done = start + len(idx)
            bar.update(at.init_done, synaptic_events(at.init_tally))
            checkpoint(time.perf_counter() - t_build, 0.0)
    w_ini = sim.weights.copy()
    t_init = time.perf_counter()

    # 2. every sample from W_ini
    n_record = cfg.branching.samples
    total = sum(len(chosen[s]) for s in SPLITS)
    split_start = 0  # the split's first sample, counted over all splits
    with SampleProgress(total, "samples", progress) as bar:
        for split in SPLITS:
            idx_all = chosen[split]
            for start in range(max(at.samples_done - split_start, 0), len(idx_all), batch):
                idx = idx_all[start : start + batch]
                probs = normalise_images(source[split].images[idx], peak_of[split])
                record = None
                if split == "test":
                    record = (start + np.arange(len(idx))) < n_record
                c, r, tally = sim.run(probs, _ID_OFFSET[split] + idx, steps, record)
                at.counts[split][start : start + len(idx)] = c
                if r is not None:
                    inputs = sim.input_spikes(probs[record], _ID_OFFSET[split] + idx[record], steps)
                    at.recorded = at.recorded.concatenate(RecordedSpikes.from_rasters(
                        [np.concatenate(pair, axis=1) for pair in zip(r, inputs, strict=True)]))
                _add(at.sample_tally, tally)
                at.samples_done = split_start + start + len(idx)
                bar.update(at.samples_done, synaptic_events(at.sample_tally))
                checkpoint(t_init - t_build, time.perf_counter() - t_init)
            split_start += len(idx_all)
    features = {s: SplitFeatures(at.counts[s], source[s].labels[chosen[s]].copy(), chosen[s])
                for s in SPLITS}
    t_sim = time.perf_counter()

    # 3. readouts and branching factor
    softmax, ridge = train_readouts(cfg, features)
    rasters = at.recorded.liquid_rasters(steps, liquid.n_liquid)
    sigma = (defined(branching_factor(rasters, *liquid.liquid_adjacency(),
                                      window=cfg.steps(cfg.branching.window),
                                      margin=cfg.steps(cfg.branching.margin)))
             if len(rasters) else np.zeros(0))
    t_end = time.perf_counter()
    timings = {"build_s": t_build - t_start, "init_s": at.init_s + t_init - t_build,
               "samples_s": at.samples_s + t_sim - t_init, "readout_s": t_end - t_sim,
               "wall_s": t_end - t_start}
    counters = {"liquid_neurons": liquid.n_liquid, "init_samples": n_init, "init_steps": init_steps,
                "init_synaptic_events": synaptic_events(at.init_tally),
                **{f"init_{k}": v for k, v in at.init_tally.items()},
                "samples": total, "steps": steps,
                "synaptic_events": synaptic_events(at.sample_tally),
                **at.sample_tally, "threads": sim.threads}
    return LSMResult(cfg.name, config_text, features, softmax, ridge, sigma, w_ini,
                     liquid.n_synapses, timings, counters, at.recorded,
                     (liquid.pre_ptr, liquid.post))


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        into[key] += value


def synaptic_events(tally: dict[str, int]) -> int:
    """Synaptic events (input and liquid synapses) of a simulator's tally."""
    return tally["input_synaptic_events"] + tally["liquid_synaptic_events"]
