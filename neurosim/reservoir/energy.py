"""LSM runs in the counter vocabulary of :mod:`neurosim.energy`, per sample.

Everything is counted during the run, never estimated from the model:

* populations ``liquid`` (``neurons``; ``neuron_updates``: ``n_liquid`` per
  step; ``spikes``) and ``input`` (``neurons``, ``spikes``: the input neurons
  are the liquid's spike source; their Bernoulli draws and membranes are
  not priced, the report says so);
* projections ``input_liquid`` and ``liquid_liquid`` (``synapses``,
  ``synaptic_events``: a spike's fan-out);
* STDP weight updates (a spike updates its outgoing synapses, and a liquid
  neuron's spike also its incoming ones): no profile prices them, so every
  report lists them under *not modelled*;
* ``hardware`` (crossbar counters, for a profile that ``requires`` them):
  the recorded test samples' spikes replayed through tiles of the input and
  recurrent weight matrices (:mod:`neurosim.crossbar.activity`), with the
  tile size the profile's energies hold for (its ``tile_rows``/``tile_cols``
  parameters).

Three sets of samples (``basis``): ``"samples"`` (every train, validation and
test sample, from the kernel's counts; workload only), ``"init"`` (the
initialisation) and ``"recorded"`` (the test samples whose spikes were
recorded, counted from their spike lists; workload and crossbar counters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.config import load_config_text
from neurosim.config.crossbar import CrossbarConfig
from neurosim.crossbar.activity import fabricated_tiles, tile_activity, tile_work
from neurosim.energy import EnergyReport, Profile, compare_table, estimate
from neurosim.reservoir.kernels import TALLY, tally
from neurosim.reservoir.pipeline import LSMResult, RecordedSpikes
from neurosim.units import pretty_quantity

BASES = ("recorded", "samples", "init")
#: Partial sums leave a tile's ADC as float32.
_OUT_BYTES = 4


@dataclass
class LSMActivity:
    """What an LSM run counted: :attr:`LSMResult.counters`, its time step, the
    liquid's synapses (CSR by presynaptic neuron) and the recorded spikes."""

    counters: dict[str, int]
    dt: float
    plastic: bool
    n_liquid: int
    pre_ptr: np.ndarray
    post: np.ndarray
    recorded: RecordedSpikes | None

    @classmethod
    def from_parts(cls, counters: dict[str, int], config_text: str, pre_ptr: np.ndarray,
                   post: np.ndarray, recorded: RecordedSpikes | None) -> LSMActivity:
        cfg = load_config_text(config_text)
        return cls(dict(counters), cfg.protocol.dt, cfg.plasticity.rule != "none",
                   int(counters["liquid_neurons"]), pre_ptr, post, recorded)

    @classmethod
    def from_result(cls, result: LSMResult) -> LSMActivity:
        return cls.from_parts(result.counters, result.config_text, *result.structure,
                              result.recorded)

    @property
    def n_total(self) -> int:
        return len(self.pre_ptr) - 1

    def synapses(self) -> dict[str, int]:
        """Synapses per projection (input neurons come after the liquid)."""
        n_input = int(self.pre_ptr[-1] - self.pre_ptr[self.n_liquid])
        return {"input_liquid": n_input, "liquid_liquid": int(self.pre_ptr[-1]) - n_input}


@dataclass
class LSMCounts:
    """Energy counters of ``samples`` samples of ``steps`` steps each."""

    basis: str
    counters: dict
    samples: int
    steps: int
    dt: float
    weight_updates: int

    @property
    def duration(self) -> float:
        """Simulated time of all the samples (s)."""
        return self.samples * self.steps * self.dt


def energy_counters(activity: LSMActivity, counts: dict[str, int], samples: int,
                    steps: int) -> dict:
    """:data:`~neurosim.reservoir.kernels.TALLY` counts of ``samples`` samples
    -> counters in the energy vocabulary (workload sections)."""
    synapses = activity.synapses()
    n_inputs = activity.n_total - activity.n_liquid
    return {
        "populations": {
            "liquid": {"neurons": activity.n_liquid, "spikes": counts["liquid_spikes"],
                       "neuron_updates": activity.n_liquid * steps * samples},
            "input": {"neurons": n_inputs, "spikes": counts["input_spikes"]},
        },
        "projections": {
            "input_liquid": {"synapses": synapses["input_liquid"],
                             "synaptic_events": counts["input_synaptic_events"]},
            "liquid_liquid": {"synapses": synapses["liquid_liquid"],
                              "synaptic_events": counts["liquid_synaptic_events"]},
        },
        "hardware": {},
    }


def phase_counts(activity: LSMActivity, phase: str = "samples") -> LSMCounts:
    """Counters of the per-sample phase (``"samples"``) or the initialisation
    (``"init"``), from the kernel's counts during the run."""
    c = activity.counters
    prefix, samples, steps = (("init_", c["init_samples"], c["init_steps"]) if phase == "init"
                              else ("", c["samples"], c["steps"]))
    counts = {key: int(c[prefix + key]) for key in TALLY}
    return LSMCounts(phase, energy_counters(activity, counts, samples, steps), samples, steps,
                     activity.dt, counts["weight_updates"])


def recorded_counts(activity: LSMActivity, tile_rows: int | None = None,
                    tile_cols: int | None = None) -> LSMCounts:
    """Counters of the recorded test samples, from their spikes; with a tile
    size, also the crossbar counters of replaying them through the tiles."""
    rec = activity.recorded
    n_liq, n_total = activity.n_liquid, activity.n_total
    spikes = np.bincount(rec.neuron, minlength=n_total).astype(np.int64)
    in_ptr = np.zeros(n_liq + 1, np.int64)
    np.cumsum(np.bincount(activity.post, minlength=n_liq), out=in_ptr[1:])
    out = np.zeros(len(TALLY), np.int64)
    tally(spikes, activity.pre_ptr, in_ptr, n_liq, np.array([float(activity.plastic)]), out)
    counts = dict(zip(TALLY, (int(x) for x in out), strict=True))
    steps = int(activity.counters["steps"])
    counters = energy_counters(activity, counts, rec.samples, steps)
    if tile_rows is not None:
        counters["hardware"] = replay_crossbar(activity, steps, tile_rows, tile_cols)
    return LSMCounts("recorded", counters, rec.samples, steps, activity.dt,
                     counts["weight_updates"])


def replay_crossbar(activity: LSMActivity, steps: int, tile_rows: int,
                    tile_cols: int) -> dict[str, dict[str, int]]:
    """Crossbar counters per projection of the recorded spikes on tiles of
    ``tile_rows x tile_cols`` (input matrix ``n_inputs x n_liquid``, recurrent
    ``n_liquid x n_liquid``; rows are presynaptic neurons)."""
    rec, n_liq = activity.recorded, activity.n_liquid
    pre = np.repeat(np.arange(activity.n_total), np.diff(activity.pre_ptr))
    # One global step per (sample, step): spikes sorted by it, then by neuron.
    sample = np.repeat(np.arange(rec.samples), np.diff(rec.ptr))
    when = sample.astype(np.int64) * steps + rec.step
    hardware = {}
    for name, (lo, hi) in {"input_liquid": (n_liq, activity.n_total),
                           "liquid_liquid": (0, n_liq)}.items():
        mine = (rec.neuron >= lo) & (rec.neuron < hi)
        step_ptr = np.zeros(rec.samples * steps + 1, np.int64)
        np.cumsum(np.bincount(when[mine], minlength=rec.samples * steps), out=step_ptr[1:])
        syn = (pre >= lo) & (pre < hi)
        present = fabricated_tiles(pre[syn] - lo, activity.post[syn], hi - lo, n_liq,
                                   tile_rows, tile_cols)
        work = tile_activity(step_ptr, rec.neuron[mine] - lo, present, tile_rows, tile_cols,
                             n_liq)
        hardware[name] = tile_work(*work, _OUT_BYTES)
    return hardware


def tile_size(profile: Profile) -> tuple[int, int]:
    """The tile size a profile's energies hold for (backend defaults if it names none)."""
    default = CrossbarConfig()
    params = profile.parameters
    return (int(params["tile_rows"].value) if "tile_rows" in params else default.tile_rows,
            int(params["tile_cols"].value) if "tile_cols" in params else default.tile_cols)


def lsm_reports(activity: LSMActivity, profiles: list[Profile],
                basis: str = "recorded") -> tuple[list[EnergyReport], list[LSMCounts]]:
    """One report per profile, per sample of ``basis``; and the counts priced.

    ``"recorded"`` falls back to ``"samples"`` when the run recorded no sample.
    """
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if basis == "recorded" and (activity.recorded is None or activity.recorded.samples == 0):
        basis = "samples"
    reports, used, cache = [], [], {}
    for profile in profiles:
        # Crossbar counters only for a profile that prices them, on its tiles.
        tiles = tile_size(profile) if profile.requires and basis == "recorded" else None
        if tiles not in cache:
            cache[tiles] = (phase_counts(activity, basis) if basis != "recorded"
                            else recorded_counts(activity, *(tiles or ())))
        counts = cache[tiles]
        report = estimate(counts.counters, profile, duration=counts.duration, dt=counts.dt,
                          samples=counts.samples)
        report.not_modelled += [
            f"plasticity: {counts.weight_updates / counts.samples:,.0f} STDP weight updates "
            "per sample counted; no profile prices them",
            "input encoding: the input neurons' Bernoulli drive and membranes (the inputs "
            "are the spike source)"]
        reports.append(report)
        used.append(counts)
    return reports, used


_BASIS_TEXT = {"recorded": "recorded test samples (counted from their spikes)",
               "samples": "train, validation and test samples (the run's counts)",
               "init": "initialisation samples (the run's counts)"}


def lsm_energy_text(activity: LSMActivity, profiles: list[Profile],
                    basis: str = "recorded") -> tuple[list[EnergyReport], str]:
    """:func:`lsm_reports` and their text: what was priced, each report, a table."""
    reports, counts = lsm_reports(activity, profiles, basis)
    if not reports:
        return [], ""
    c = counts[0]
    head = (f"energy per sample over {c.samples:,} {_BASIS_TEXT[c.basis]}, "
            f"{c.steps} steps of {pretty_quantity(c.dt, 's')} each")
    return reports, "\n\n".join([head, *(r.format() for r in reports), compare_table(reports)])


def lsm_file_energy(path, profiles: list[Profile], *,
                    samples: int = 1) -> tuple[list[EnergyReport], str]:
    """``neurosim energy`` of a saved LSM result (its task's ``energy`` entry).

    ``samples`` is not used: an LSM result knows how many samples it ran.
    """
    from neurosim.reservoir.results import load_activity

    return lsm_energy_text(load_activity(path), profiles)
