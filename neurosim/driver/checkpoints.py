"""Checkpoints of a long run: when to write one, and whether one may be resumed.

A run asks for checkpoints every ``every`` seconds of simulated time and/or
every ``wall`` seconds of wall-clock time (``neurosim run --checkpoint-every``,
``--checkpoint-wall``).  Both are counted in the run's own steps, so a
simulated-time checkpoint falls on the same step whatever the chunking; the
task writes it at the first chunk (network run) or batch of samples (LSM run)
boundary that reaches it.  The file (:mod:`neurosim.io.checkpoint`) goes
beside the result as ``<name>.ckpt``, holds the task's state plus the
resolved config it belongs to, and is removed once the result is saved
(:func:`~neurosim.io.checkpoint.discard_checkpoint`).

``--resume`` reads it back before any work starts and refuses it, with the
keys that differ, if it was written for another run: only
:data:`MAY_CHANGE` may differ, as they do not enter the simulation.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import yaml

import neurosim
from neurosim.errors import ConfigError, DataError
from neurosim.io.checkpoint import checkpoint_path, read_checkpoint, write_checkpoint
from neurosim.units import parse_quantity

#: Top-level config keys a resumed run may change: names, threads and where the
#: files go (results are the same for every thread count).
MAY_CHANGE = ("name", "description", "threads", "output")
#: Prefix of the checkpoint's own arrays (the task's state has the other keys).
_HEADER = "checkpoint."


@dataclass(frozen=True)
class CheckpointOptions:
    """What the command line asked for: intervals (seconds) and whether to resume."""

    every: float | None = None
    wall: float | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        for option, value in (("--checkpoint-every", self.every), ("--checkpoint-wall", self.wall)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{option}: the interval must be a positive, finite time "
                                  f"(got {value:g} s)")

    @classmethod
    def parse(cls, every: str | None, wall: str | None, resume: bool) -> CheckpointOptions:
        """From the command line's texts (``"1 s"``, ``"500 ms"``)."""
        def seconds(option: str, text: str | None) -> float | None:
            if text is None:
                return None
            try:
                return parse_quantity(text, "s")
            except ConfigError as err:
                raise ConfigError(f"{option}: {err}") from None

        return cls(seconds("--checkpoint-every", every), seconds("--checkpoint-wall", wall),
                   resume)

    @property
    def wanted(self) -> bool:
        """Whether the run reads or writes a checkpoint at all."""
        return self.resume or self.every is not None or self.wall is not None


class RunCheckpoints:
    """The checkpoint file of one run of one config.

    Parameters
    ----------
    options:
        The intervals and ``resume``; a resumed run without intervals of its
        own keeps those of its checkpoint.
    result:
        The run's result file (the checkpoint goes beside it).
    task:
        The task's name; a checkpoint of another task is refused.
    config_text:
        The resolved config (:func:`neurosim.config.dump_config`).

    Raises
    ------
    DataError
        ``resume`` and the checkpoint is missing, damaged or another task's.
    ConfigError
        ``resume`` and the checkpoint belongs to another config or version.
    """

    #: The MPI ranks that write the checkpoint (None: one process).
    ranks: int | None = None

    def __init__(self, options: CheckpointOptions, result: str | os.PathLike, task: str,
                 config_text: str) -> None:
        self.path = checkpoint_path(result)
        self.task = task
        self.config_text = config_text
        #: The task's state from the checkpoint (``resume``), else None.
        self.saved: dict[str, np.ndarray] | None = None
        #: The checkpoint's own entries (``resume``: task, config, intervals...).
        self.header: dict[str, np.ndarray] = {}
        every, wall = options.every, options.wall
        if options.resume:
            arrays = read_checkpoint(self.path)
            self._check(arrays)
            self.header = {k[len(_HEADER):]: v for k, v in arrays.items()
                           if k.startswith(_HEADER)}
            if every is None and wall is None:
                every, wall = (_optional(self.header[key]) for key in ("every", "wall"))
            self.saved = {k: v for k, v in arrays.items() if not k.startswith(_HEADER)}
        self.every, self.wall = every, wall
        self._every_steps: int | None = None
        self._next_step: int | None = None
        self._last_write = time.perf_counter()

    def _check(self, arrays: Mapping[str, np.ndarray]) -> None:
        try:
            task, version, config = (str(arrays[f"{_HEADER}{key}"])
                                     for key in ("task", "neurosim_version", "config"))
        except KeyError as exc:
            raise DataError(f"{self.path} is not a neurosim run checkpoint "
                            f"(it has no {exc})") from None
        if task != self.task:
            raise DataError(f"checkpoint {self.path} is of a {task} run, not of a {self.task} run")
        if version != neurosim.__version__:
            raise ConfigError(f"checkpoint {self.path} was written by neurosim {version}; this "
                              f"is {neurosim.__version__}, which may build or step the run "
                              "differently (run it again without --resume)")
        ranks = int(arrays[f"{_HEADER}ranks"]) if f"{_HEADER}ranks" in arrays else None
        if ranks != self.ranks:
            how = ("neurosim run ... --resume, without --distributed" if ranks is None else
                   f"mpirun -n {ranks} neurosim run ... --distributed --resume")
            raise ConfigError(f"checkpoint {self.path} was written by {_ranks(ranks)}; this "
                              f"run is {_ranks(self.ranks)}: resume it as it was run ({how})")
        changed = config_differences(config, self.config_text)
        if changed:
            raise ConfigError(f"checkpoint {self.path} was written for a different run: "
                              + "; ".join(changed) + " (only " + ", ".join(MAY_CHANGE)
                              + " may change on --resume)")

    def start(self, dt: float, step: int) -> None:
        """Count the simulated-time interval in steps of ``dt``, from ``step`` on."""
        self._every_steps = None if self.every is None else max(1, round(self.every / dt))
        self._next_step = None if self._every_steps is None else self._following(step)
        self._last_write = time.perf_counter()

    def _following(self, step: int) -> int:
        return (step // self._every_steps + 1) * self._every_steps

    def next_boundary(self, step: int) -> int | None:
        """The step of the next simulated-time checkpoint after ``step`` (None: none)."""
        return None if self._every_steps is None else self._following(step)

    def reached(self, step: int, state: Callable[[], Mapping[str, np.ndarray]]) -> bool:
        """Write ``state()`` if a checkpoint is due at ``step``; whether one was written."""
        if not self._due(step):
            return False
        write_checkpoint(self.path, {**state(), **self._header_arrays()})
        self._written(step)
        return True

    def _due(self, step: int) -> bool:
        by_sim = self._next_step is not None and step >= self._next_step
        by_wall = self.wall is not None and time.perf_counter() - self._last_write >= self.wall
        return by_sim or by_wall

    def _header_arrays(self, **extra) -> dict[str, object]:
        """The checkpoint's own entries: what it belongs to, its intervals, ``extra``."""
        header = {"task": self.task, "config": self.config_text,
                  "neurosim_version": neurosim.__version__,
                  "every": np.nan if self.every is None else self.every,
                  "wall": np.nan if self.wall is None else self.wall, **extra}
        return {_HEADER + k: v for k, v in header.items()}

    def _written(self, step: int) -> None:
        if self._every_steps is not None:
            self._next_step = self._following(step)
        self._last_write = time.perf_counter()


def _ranks(count: int | None) -> str:
    return "one process" if count is None else f"a distributed run on {count} rank(s)"


def _optional(value: np.ndarray) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def config_differences(saved: str, current: str) -> list[str]:
    """``key: checkpoint X, config Y`` for each setting outside :data:`MAY_CHANGE`
    in which two resolved config texts differ (dotted key paths)."""
    ours = yaml.safe_load(current)
    theirs = yaml.safe_load(saved)
    if not isinstance(theirs, dict):
        return [f"config: the checkpoint's is not a mapping ({type(theirs).__name__})"]
    out: list[str] = []
    _compare(theirs, ours, "", out)
    return [line for line in out if line.split(":", 1)[0].split(".", 1)[0] not in MAY_CHANGE]


def _compare(theirs: object, ours: object, key: str, out: list[str]) -> None:
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for name in list(theirs) + [k for k in ours if k not in theirs]:
            _compare(theirs.get(name), ours.get(name), f"{key}.{name}" if key else str(name), out)
    elif theirs != ours:
        out.append(f"{key}: checkpoint {_shown(theirs)}, config {_shown(ours)}")


def _shown(value: object) -> str:
    return "(absent)" if value is None else repr(value)

