"""Counters x hardware profile -> :class:`EnergyReport`.

The arithmetic is exactly::

    energy  = sum over counted operations of count x energy per operation
            + static power x latency
    latency = max(compute time, simulated time if the chip runs in real time)
    compute time = sum of count x time per operation / parallel units
                   + steps x step overhead

nothing else: every cost a profile leaves out is listed in
:attr:`EnergyReport.not_modelled` instead of being guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml
from pydantic import ValidationError

from neurosim.config.crossbar import CrossbarConfig
from neurosim.energy.counters import CATEGORIES, CATEGORY, HARDWARE_KEYS, iter_counts
from neurosim.energy.profile import Profile, load_profile
from neurosim.units import pretty_quantity


@dataclass(frozen=True)
class EnergyLine:
    """The energy of one counter summed over every population or projection."""

    counter: str
    category: str
    count: int
    unit_energy: float
    energy: float


@dataclass
class EnergyReport:
    """Energy, latency and power of one run (or one batch) on one profile.

    Energies are in joules, times in seconds, power in watts. ``None`` means
    "not defined": no simulated duration (an ANN forward pass), or no timing
    figures in the profile.
    """

    profile: str
    title: str
    samples: int
    duration: float | None
    lines: list[EnergyLine]
    breakdown: dict[str, float]
    static_energy: float
    latency: float | None
    total: float
    not_modelled: list[str] = field(default_factory=list)
    latency_complete: bool = True
    """False when some priced work has no time figure: the latency is then a
    lower bound and the average power an upper bound."""

    @property
    def energy_per_sample(self) -> float:
        """Total energy divided by the number of samples."""
        return self.total / self.samples

    @property
    def energy_per_second(self) -> float | None:
        """Energy per simulated second (``None`` without a duration)."""
        return self.total / self.duration if self.duration else None

    @property
    def latency_per_sample(self) -> float | None:
        """Latency divided by the number of samples (samples run one after another)."""
        return self.latency / self.samples if self.latency is not None else None

    @property
    def average_power(self) -> float | None:
        """Total energy over the latency (the hardware's wall time)."""
        return self.total / self.latency if self.latency else None

    def to_dict(self) -> dict[str, float | int | str]:
        """Flat numbers (for HDF5 attributes and JSON); ``None`` values are left out."""
        out: dict[str, float | int | str] = {
            "profile": self.profile, "samples": self.samples, "total_J": self.total,
            "energy_per_sample_J": self.energy_per_sample, "static_J": self.static_energy,
        }
        optional = {"duration_s": self.duration, "latency_s": self.latency,
                    "latency_per_sample_s": self.latency_per_sample,
                    "energy_per_simulated_second_J": self.energy_per_second,
                    "average_power_W": self.average_power}
        out.update({k: v for k, v in optional.items() if v is not None})
        out["latency_complete"] = self.latency_complete
        out.update({f"breakdown.{_key(k)}_J": v for k, v in self.breakdown.items()})
        return out

    def format(self) -> str:
        """A short text report for people."""
        def joules(x: float) -> str:
            return pretty_quantity(x, "J")

        per_second = self.energy_per_second
        rows = [f"{self.profile}: {self.title}",
                f"  energy per sample   {joules(self.energy_per_sample):>12}"
                + (f"  ({self.samples} samples)" if self.samples != 1 else "")]
        if per_second is not None:
            rows.append(f"  per simulated s     {joules(per_second):>12}")
        power, latency = _bounded(self)
        rows.append(f"  average power       {power:>12}")
        if self.samples == 1:
            rows.append(f"  latency             {latency:>12}")
        else:  # several samples: the latency and the breakdown per sample
            rows.append(f"  latency per sample  {_bounded(self, per_sample=True)[1]:>12}")
            rows.append("  breakdown per sample")
        for category, energy in self.breakdown.items():
            if energy:
                share = 100 * energy / self.total
                rows.append(f"    {category:<18}{joules(energy / self.samples):>12}  {share:5.1f} %")
        rows += [f"  not modelled: {item}" for item in self.not_modelled]
        return "\n".join(rows)


def _bounded(report: EnergyReport, per_sample: bool = False) -> tuple[str, str]:
    """Power and latency (or latency per sample) as text; "<=" / ">=" when the
    latency misses some work."""
    if not report.latency:
        return "n/a", "n/a"
    upper, lower = ("", "") if report.latency_complete else ("<= ", ">= ")
    latency = report.latency_per_sample if per_sample else report.latency
    return (upper + pretty_quantity(report.average_power, "W"),
            lower + pretty_quantity(latency, "s"))


def _key(category: str) -> str:
    """``"ADC/DAC"`` -> ``"adc_dac"``: a category as an attribute-safe key."""
    return category.lower().replace("/", "_").replace(" ", "_")


def _steps(duration: float | None, dt: float | None) -> int:
    if duration is None or dt is None:
        return 0
    return int(math.floor(duration / dt + 0.5))


def estimate(counters: Mapping, profile: Profile | str, *, duration: float | None = None,
             dt: float | None = None, samples: int = 1,
             crossbar: Mapping | None = None) -> EnergyReport:
    """Price ``counters`` with a hardware profile.

    Parameters
    ----------
    counters:
        Plain counter dicts (:attr:`neurosim.result.Result.counters`, or
        :func:`neurosim.energy.torch_count.count_torch` output, or a sum of
        several with :func:`neurosim.energy.counters.add_counters`).
    profile:
        A :class:`Profile` or the name / path of one.
    duration, dt:
        Simulated time and time step (s) of the counted run, if it has them;
        they give the per-second figures, the real-time floor of the latency
        and the number of steps for per-step overheads.
    samples:
        How many input samples the counters cover (energy per sample =
        total / samples).
    crossbar:
        The run's crossbar settings (its resolved ``crossbar:`` section), if
        known: a setting the profile ``assumes`` otherwise is noted.
    """
    profile = load_profile(profile)
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    counts, notes = _totals(counters, profile)
    if crossbar is not None and any(counts.get(key) for key in profile.requires):
        notes += _assumption_notes(profile, crossbar)
    lines = [EnergyLine(key, CATEGORY[key], count, profile.energy[key].value,
                        count * profile.energy[key].value)
             for key, count in counts.items() if key in profile.energy]
    latency, complete, timing_notes = _latency(profile, counts, duration, dt)
    static = 0.0
    if profile.static_power is not None:
        if latency is None:
            timing_notes.append("static power: no latency to multiply it by")
        else:
            static = profile.static_power.value * latency
    breakdown = {category: math.fsum(line.energy for line in lines if line.category == category)
                 for category in CATEGORIES}
    breakdown["static"] = static
    total = math.fsum([*(line.energy for line in lines), static])
    return EnergyReport(
        profile=profile.name, title=profile.title, samples=samples, duration=duration,
        lines=lines, breakdown=breakdown, static_energy=static, latency=latency, total=total,
        not_modelled=notes + timing_notes + list(profile.not_modelled), latency_complete=complete,
    )


def _totals(counters: Mapping, profile: Profile) -> tuple[dict[str, int], list[str]]:
    """Counts per counter key over all entries, and notes on what goes unpriced."""
    notes: list[str] = []
    hardware = counters.get("hardware", {})
    skipped = set()
    for name, row in counters.get("projections", {}).items() if profile.requires else ():
        hw = hardware.get(name, {})
        if row.get("synaptic_events", 0) and not any(hw.get(k, 0) for k in profile.requires):
            skipped.add(name)
            notes.append(f"projection {name!r}: {row['synaptic_events']:,} synaptic events "
                         f"without {' / '.join(profile.requires)} counts (run it on a backend "
                         f"that counts them); its synaptic work is not priced")
    counts: dict[str, int] = {}
    for section, name, key, count in iter_counts(counters):
        if section == "populations" or name not in skipped:
            counts[key] = counts.get(key, 0) + count
    # Hardware counts describe the backend: only a profile of such hardware
    # (one that prices some of them) is told about those it leaves out.
    hardware_profile = any(key in HARDWARE_KEYS for key in profile.energy)
    notes[:0] = [f"{key}: {count:,} counted, no energy figure in this profile"
                 for key, count in counts.items()
                 if count and key not in profile.energy and key not in profile.included
                 and (hardware_profile or key not in HARDWARE_KEYS)]
    return counts, notes


def _assumption_notes(profile: Profile, crossbar: Mapping) -> list[str]:
    """A note per crossbar setting of the run that differs from the profile's."""
    notes = []
    for key in profile.assumes:
        assumed = profile.parameters[key].value
        if key in crossbar and crossbar[key] != assumed:
            notes.append(f"crossbar.{key}: the run used {crossbar[key]}, the profile's energies "
                         f"hold for {assumed:g}; they are not rescaled")
    return notes


def _latency(profile: Profile, counts: dict[str, int], duration: float | None,
             dt: float | None) -> tuple[float | None, bool, list[str]]:
    """(latency or None, whether every priced operation was timed, notes)."""
    notes: list[str] = []
    compute = math.fsum(counts.get(key, 0) * c.value for key, c in profile.time.items())
    compute /= profile.parallel_units.value if profile.parallel_units else 1.0
    if profile.step_overhead is not None:
        compute += _steps(duration, dt) * profile.step_overhead.value
    latency = compute if (profile.time or profile.step_overhead) else None
    if profile.real_time and duration:
        latency = max(latency or 0.0, duration)
    if latency is None:
        notes.append("latency: the profile has no timing figures")
        return None, True, notes
    covered = {key for keys in profile.time_covers.values() for key in keys}
    untimed = [key for key in profile.energy
               if counts.get(key) and key not in profile.time and key not in covered]
    complete = profile.real_time or not untimed
    if not complete:
        notes.append(f"latency: {', '.join(untimed)} have no time figure, so the latency "
                     f"is a lower bound and the average power an upper bound")
    return latency, complete, notes


def estimate_result(result, profile: Profile | str, samples: int = 1) -> EnergyReport:
    """:func:`estimate` for a :class:`~neurosim.result.Result` (its counters,
    duration, dt, and crossbar settings from its resolved config)."""
    return estimate(result.counters, profile, duration=result.duration, dt=result.dt,
                    samples=samples, crossbar=_crossbar_settings(result.config_text))


def _crossbar_settings(config_text: str) -> dict | None:
    """The run's crossbar settings (defaults where the config has no section);
    ``None`` when the config text cannot be read."""
    try:
        raw = yaml.safe_load(config_text)
        return CrossbarConfig.model_validate(raw.get("crossbar") or {}).model_dump()
    except (yaml.YAMLError, AttributeError, ValidationError):
        return None


def percent_less(new: float, reference: float) -> float:
    """How much less ``new`` is than ``reference``, in percent."""
    return 100.0 * (1.0 - new / reference)


def compare_table(reports: list[EnergyReport]) -> str:
    """One row per profile: energy per sample and per simulated second, power, latency
    (per sample when a report covers several)."""
    def cell(value: float | None, dim: str) -> str:
        return pretty_quantity(value, dim) if value else "n/a"

    per_sample = any(r.samples != 1 for r in reports)
    latency_head, width = ("latency/sample", 16) if per_sample else ("latency", 14)
    header = f"{'profile':<14}{'J/sample':>14}{'J/sim s':>14}{'power':>14}{latency_head:>{width}}"
    rows = [header, "-" * len(header)]
    for r in reports:
        power, latency = _bounded(r, per_sample)
        rows.append(f"{r.profile:<14}{cell(r.energy_per_sample, 'J'):>14}"
                    f"{cell(r.energy_per_second, 'J'):>14}{power:>14}{latency:>{width}}")
    return "\n".join(rows)
