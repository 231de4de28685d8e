"""What a sweep runs: the grid, the seeds and one resolved config per combination.

A grid maps config keys (dotted, as ``--set`` takes them) to lists of
values.  Every combination of grid values, times every seed, is one run:
its overrides go through the config loader's ``--set`` machinery
(:func:`neurosim.config.load_config`), so a grid key is checked exactly as
``--set`` checks it, and every run's config is validated here, before any
work starts.  What is sent to a worker is the run's resolved config text
(:func:`neurosim.config.dump_config`): a worker on another machine needs no
access to the config file.

A sweep file holds one top-level ``sweep:`` mapping that names a base
config (:class:`SweepFile`); the command line's ``--grid``, ``--set`` and
``--seeds`` add to it or replace its entries.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, field_validator

from neurosim.config import dump_config, format_validation_error, load_config, parse_override
from neurosim.config.base import Seed, StrictModel
from neurosim.config.loader import _parse_yaml  # the guarded YAML reading of configs
from neurosim.errors import ConfigError
from neurosim.io import result_path

#: More runs than this is a typo in a grid, not a sweep (and enumerating them would hang).
MAX_RUNS = 100_000


class SweepSection(StrictModel):
    """The ``sweep:`` mapping of a sweep file."""

    config: str
    """The base config: a YAML file (relative to the sweep file) or a built-in name."""
    set: list[str] = Field(default_factory=list)
    """``KEY.PATH=VALUE`` overrides applied to every run, as ``--set``."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """Config key -> the values it takes; every combination is run."""
    seeds: Annotated[int, Field(ge=1)] | list[Seed] | None = None
    """A count (the config's seed and the next ones) or the seeds themselves."""

    @field_validator("grid")
    @classmethod
    def _values_given(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = [key for key, values in grid.items() if not values]
        if empty:
            raise ValueError(f"{', '.join(empty)}: no values")
        return grid


class SweepFile(StrictModel):
    """A sweep file: ``sweep:`` and nothing else."""

    sweep: SweepSection


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep."""

    index: int
    #: Grid key -> its value in this run, as written in the grid.
    params: dict[str, Any]
    seed: int
    #: The run's resolved config (what its result file stores).
    config_text: str
    #: Its result file; named by a digest of ``config_text``, so a rerun finds it.
    path: Path

    @property
    def label(self) -> str:
        """``key=value, ..., seed=N``: the run in messages."""
        return ", ".join([*(f"{k}={override_value(v)}" for k, v in self.params.items()),
                          f"seed={self.seed}"])


@dataclass(frozen=True)
class SweepPlan:
    """Every run of a sweep and where its files go."""

    keys: list[str]
    runs: list[PlannedRun]
    folder: Path


def parse_grid_option(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` of ``--grid`` as the key and its YAML-read values.

    The values are read as one YAML flow list, so a value may itself be a
    quantity (``20 ms``), a quoted string or a list (``[1, 2],[3, 4]``).
    """
    key, sep, values = text.partition("=")
    if not sep or not values.strip():
        raise ConfigError(f"malformed --grid {text!r}: expected KEY=V1,V2,..., e.g. "
                          "populations.exc.params.tau_m=10ms,20ms")
    path, parsed = parse_override(f"{key}=[{values}]")
    return ".".join(path), parsed


def read_sweep_file(path: Path) -> SweepSection | None:
    """The ``sweep:`` section of a sweep file, or None if ``path`` is no sweep file."""
    try:
        if not path.is_file():
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError):
        return None  # the config loader says what is wrong with it
    raw = _parse_yaml(text, repr(str(path)))
    if "sweep" not in raw:
        return None
    try:
        return SweepFile.model_validate(raw).sweep
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"sweep file {str(path)!r}")) from None


def make_plan(source: str, overrides: list[str], grid: dict[str, list[Any]],
              seeds: int | list[int] | None, folder: str | os.PathLike | None) -> SweepPlan:
    """Resolve and validate every run of a sweep of ``source``.

    ``source`` is a config (file or built-in name) or a sweep file; ``overrides``,
    ``grid`` and ``seeds`` come from the command line and add to, or replace, the
    sweep file's.  ``folder`` defaults to ``<output.dir>/<name>-sweep``.
    """
    section = read_sweep_file(Path(source))
    if section is not None:
        base = Path(source).parent / section.config
        source = str(base) if base.is_file() else section.config
        overrides = [*section.set, *overrides]
        grid = {**section.grid, **grid}
        seeds = section.seeds if seeds is None else seeds
    if not grid and seeds is None:
        raise ConfigError("a sweep needs a grid (--grid KEY=V1,V2,... or grid: in a sweep "
                          "file) or seeds (--seeds N)")
    if seeds is not None and "seed" in grid:
        raise ConfigError("seed is both in the grid and given by seeds; use one of them")
    base_cfg = load_config(source, overrides)
    seed_list = _seed_list(seeds, base_cfg.seed)
    count = math.prod(len(values) for values in grid.values()) * len(seed_list)
    if count > MAX_RUNS:
        raise ConfigError(f"the sweep has {count:,} runs, more than {MAX_RUNS:,}: "
                          "is a grid longer than meant?")
    out = Path(folder) if folder else result_path(base_cfg).parent / f"{base_cfg.name}-sweep"
    runs: list[PlannedRun] = []
    seen: dict[str, PlannedRun] = {}
    keys = list(grid)
    for values in itertools.product(*grid.values(), [None] if seeds is None else seed_list):
        params = dict(zip(keys, values[:-1], strict=True))
        sets = [f"{key}={override_value(value)}" for key, value in params.items()]
        if seeds is not None:
            sets.append(f"seed={values[-1]}")
        try:
            cfg = load_config(source, [*overrides, *sets])
        except ConfigError as err:
            raise ConfigError(f"sweep run {', '.join(sets)}: {err}") from None
        text = dump_config(cfg)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        run = PlannedRun(len(runs), params, cfg.seed, text, out / "runs" / f"{digest}.h5")
        if digest in seen:
            raise ConfigError(f"sweep runs {seen[digest].label} and {run.label} are the same "
                              "run (equal configs); remove the repeated value")
        seen[digest] = run
        runs.append(run)
    return SweepPlan(keys, runs, out)


def _seed_list(seeds: int | list[int] | None, first: int) -> list[int]:
    if seeds is None:
        return [first]
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds: a count of at least 1, got {seeds}")
        return list(range(first, first + seeds))
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ConfigError(f"seeds: a list of distinct seeds, got {seeds}")
    return list(seeds)


def override_value(value: Any) -> str:
    """``value`` as the YAML text of a ``--set`` override that reads back equal."""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()  # the end marker of a bare scalar document
