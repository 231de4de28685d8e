"""Hardware profiles: cited cost tables loaded from ``hardware/*.yaml``.

A profile prices the counters of :mod:`neurosim.energy.counters`. Every
number in it is a :class:`Constant`: a quantity with its unit (parsed by
:mod:`neurosim.units`), the source it comes from (paper, table, year) and its
basis: ``measured`` (silicon), ``simulated`` (pre-silicon or circuit
simulation), ``spec`` (a datasheet or design figure such as a core count) or
``estimate`` (derived here; the source then says how).

Layout of a profile file::

    name: loihi
    title: Intel Loihi (14 nm, 2018)
    description: free text
    energy:          # joules per counted operation, keyed by counter name
      synaptic_events: {value: 23.6 pJ, basis: simulated, source: "..."}
    time:            # optional: seconds per counted operation (latency model)
      synaptic_events: {value: 3.5 ns, basis: simulated, source: "..."}
    parallel_units:  # optional: units sharing the timed work (default 1)
    step_overhead:   # optional: time added per simulation step
    time_covers:     # optional: counted work whose time is inside a time figure
      crossbar_reads: [activated_rows, adc_conversions]
    real_time: false # true: the chip paces itself, latency >= simulated time
    static_power:    # optional: watts drawn for as long as the run lasts
    included:        # counters whose cost is inside another constant: reason
      bytes_moved: "the synaptic op energy includes the synapse memory read"
    requires: []     # hardware counters without which a projection is not priced
    assumes: []      # crossbar: settings the figures hold for, each a parameter
    parameters:      # the constants the figures above were derived from
      tile_cols: {value: 128, basis: simulated, source: "..."}
    not_modelled: ["what the profile leaves out", ...]

``name`` is a plain identifier (letters, digits, ``_ . + -``): it names the
profile's HDF5 group and report entry. Which counters a profile prices is
described in :mod:`neurosim.energy.counters`.

Profiles ship as the package ``neurosim.hardware`` (the ``hardware/``
folder); :func:`load_profile` finds one by name or reads a file.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.loader import format_validation_error
from neurosim.config.base import problems_error
from neurosim.energy.counters import HARDWARE_KEYS, PRICED_KEYS
from neurosim.errors import ConfigError
from neurosim.units import parse_with_dim, pretty_quantity

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

Basis = Literal["measured", "simulated", "spec", "estimate"]
_SUFFIXES = (".yaml", ".yml")
#: A profile name: it becomes an HDF5 group name and a dict key.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constant(_Strict):
    """One cited number: ``{value: 23.6 pJ, basis: simulated, source: "..."}``."""

    value: float
    """SI value (J, s, W, or a plain number)."""
    dim: str = ""
    """Dimension symbol of the value as written (see :data:`neurosim.units.DIMENSIONS`)."""
    basis: Basis
    """How the number was obtained."""
    source: str = Field(min_length=1)
    """Paper / datasheet, table and year; for an estimate, how it was derived."""
    note: str = ""
    """Anything else a reader should know."""

    @model_validator(mode="before")
    @classmethod
    def _parse_value(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise ValueError("expected a mapping {value, basis, source}")
        if "value" not in raw:
            return raw  # pydantic reports the missing key
        try:
            value, dim = parse_with_dim(raw["value"])
        except ConfigError as err:
            raise ValueError(str(err)) from None
        return {**raw, "value": value, "dim": dim}

    @field_validator("source")
    @classmethod
    def _real_source(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("source must say where the number comes from")
        return text

    def __str__(self) -> str:
        return pretty_quantity(self.value, self.dim)


def _require_dim(section: str, items: dict[str, Constant], dim: str,
                 what: str) -> list[tuple[tuple[str, ...], str]]:
    return [((section, key, "value"), f"{what} must be in {dim}, got {c.dim or 'a bare number'}")
            for key, c in items.items() if c.dim != dim]


class Profile(_Strict):
    """A hardware target's cost table (see the module docstring for the layout)."""

    name: str
    title: str = Field(min_length=1)
    description: str = ""
    energy: dict[str, Constant] = Field(min_length=1)
    time: dict[str, Constant] = {}
    time_covers: dict[str, list[str]] = {}
    parallel_units: Constant | None = None
    step_overhead: Constant | None = None
    real_time: bool = False
    static_power: Constant | None = None
    included: dict[str, str] = {}
    requires: list[str] = []
    assumes: list[str] = []
    parameters: dict[str, Constant] = {}
    not_modelled: list[str] = []

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain name (letters, digits, _ . + -; "
                             "no '/' or spaces): it names the profile's HDF5 group")
        return name

    @field_validator("energy", "time", "included")
    @classmethod
    def _known_counters(cls, table: dict[str, Any]) -> dict[str, Any]:
        unknown = [key for key in table if key not in PRICED_KEYS]
        if unknown:
            raise ValueError(f"unknown counter(s) {', '.join(map(repr, unknown))} "
                             f"(counters: {', '.join(PRICED_KEYS)})")
        return table

    @field_validator("requires")
    @classmethod
    def _hardware_counters(cls, keys: list[str]) -> list[str]:
        unknown = [key for key in keys if key not in HARDWARE_KEYS]
        if unknown:
            raise ValueError(f"unknown hardware counter(s) {', '.join(map(repr, unknown))} "
                             f"(hardware counters: {', '.join(HARDWARE_KEYS)})")
        return keys

    @model_validator(mode="after")
    def _dimensions(self) -> Profile:
        problems = _require_dim("energy", self.energy, "J", "an energy per operation")
        problems += _require_dim("time", self.time, "s", "a time per operation")
        for field, dim in (("static_power", "W"), ("step_overhead", "s"), ("parallel_units", "")):
            constant = getattr(self, field)
            if constant is not None and constant.dim != dim:
                problems.append(((field, "value"), f"must be in {dim or 'a bare number'}, "
                                                   f"got {constant.dim or 'a bare number'}"))
        if self.parallel_units is not None and self.parallel_units.value <= 0:
            problems.append((("parallel_units", "value"), "must be > 0"))
        for section in ("energy", "time"):
            problems += [((section, key, "value"), "must be >= 0")
                         for key, c in getattr(self, section).items() if c.value < 0]
        problems += [(("included", key), "is also priced under energy")
                     for key in self.included if key in self.energy]
        for key, covered in self.time_covers.items():
            if key not in self.time:
                problems.append((("time_covers", key), "has no figure under time"))
            problems += [(("time_covers", key), f"unknown counter {c!r}")
                         for c in covered if c not in PRICED_KEYS]
        for key in self.assumes:
            if key not in CrossbarConfig.model_fields:
                problems.append((("assumes",), f"{key!r} is not a crossbar: setting"))
            elif key not in self.parameters:
                problems.append((("assumes",), f"{key!r} has no value under parameters"))
        if problems:
            raise problems_error(problems, "hardware profile")
        return self


def _profiles_dir() -> Traversable:
    """The folder of built-in profiles: the checkout's, else the installed package data."""
    # In a source checkout hardware/ sits next to the package folder (as
    # pyproject.toml maps it); prefer it, so that a checkout on PYTHONPATH
    # does not read the profiles of another, installed copy.
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "hardware").is_dir():
        return root / "hardware"
    return resources.files("neurosim.hardware")


def available_profiles() -> list[str]:
    """Names of the built-in hardware profiles, sorted."""
    folder = _profiles_dir()
    return sorted(entry.name.rsplit(".", 1)[0] for entry in folder.iterdir()
                  if entry.is_file() and entry.name.endswith(_SUFFIXES))


def parse_profile(raw: Any, label: str) -> Profile:
    """Validate a parsed YAML mapping; any problem is one :class:`ConfigError`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"hardware profile {label}: expected a mapping at the top, "
                          f"got {type(raw).__name__}")
    try:
        return Profile.model_validate(raw)
    except ValidationError as err:
        message = format_validation_error(err, label)
        raise ConfigError(message.replace("invalid config", "invalid hardware profile", 1)) from None


def load_profile(name_or_path: str | os.PathLike[str] | Profile) -> Profile:
    """Load a built-in profile by name (``loihi``) or a profile YAML file.

    Raises
    ------
    ConfigError
        If the profile is unknown, unreadable or invalid; the message names
        every bad key path (``energy.synaptic_events.source: ...``).
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    path = Path(name_or_path)
    if path.is_file():
        entry, label = path, repr(str(path))
    else:
        name = str(name_or_path)
        entry = None
        if "/" not in name and os.sep not in name:
            found = [_profiles_dir() / f"{name}{s}" for s in _SUFFIXES]
            entry = next((e for e in found if e.is_file()), None)
        if entry is None:
            raise ConfigError(f"hardware profile {name!r} is neither a file nor a built-in "
                              f"profile (built-in: {', '.join(available_profiles())})")
        label = f"{name!r} (built-in)"
    try:
        text = entry.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"hardware profile {label} is not UTF-8 text ({err.reason} at "
                          f"byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"hardware profile {label} cannot be read: "
                          f"{err.strerror or err}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"hardware profile {label} is not valid YAML: {err}") from None
    return parse_profile(raw, label)


def resolve_profiles(names: list[str]) -> list[Profile]:
    """Load several profiles; ``all`` stands for every built-in one.

    Raises
    ------
    ConfigError
        If two different profiles have the same ``name`` (their reports and
        HDF5 groups would overwrite each other).
    """
    expanded: list[str] = []
    for name in names:
        expanded += available_profiles() if name == "all" else [name]
    profiles: dict[str, Profile] = {}
    sources: dict[str, str] = {}
    for source in dict.fromkeys(expanded):
        profile = load_profile(source)
        if profile.name in profiles:
            if profile == profiles[profile.name]:
                continue  # the same profile asked for twice (by name and by file)
            raise ConfigError(f"hardware profiles {sources[profile.name]!r} and {source!r} are "
                              f"both named {profile.name!r}; give one another name")
        profiles[profile.name], sources[profile.name] = profile, source
    return list(profiles.values())
