"""The one table of tasks: what each config kind validates with, runs, saves, loads and prices.

Every config belongs to one task.  A top-level ``task`` key names it; a
config without one is a network run (:data:`DEFAULT_TASK`: populations and
projections, :class:`neurosim.config.run.RunConfig`).  ``neurosim run``,
``validate``, ``plot`` and ``energy``, :func:`neurosim.io.save` and
:func:`neurosim.io.load` all find their task here, and nowhere else; adding
one (training, sweeps, the hybrid experiment) is one entry and its own
modules.

Entries name their code as ``"module:attribute"`` and are imported only when
a config or a file asks for them: this module imports nothing of neurosim,
so every layer can read it.  Configs and results are matched to their entry
by the ``module:qualname`` of their class, also without importing anything.

Every result file carries the task's ``format`` and ``format_version`` at
its root (the layout convention: :mod:`neurosim.io.hdf5`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: The task of a config without a ``task`` key.
DEFAULT_TASK = "network"


@dataclass(frozen=True)
class Task:
    """One task: its config kind, its run, and its result files."""

    #: The pydantic model its configs validate with.
    schema: str
    #: ``run(cfg, *, output, threads, quiet, plot) -> summary text``: run, save, plot.
    run: str
    #: The class of what ``run`` produces, ``save`` writes and ``read`` gives back.
    result: str
    #: The ``format`` attribute of its result files.
    result_format: str
    #: The ``format_version`` it writes; every version from 1 up to it can be read.
    result_version: int
    #: ``save(result, path) -> Path``: write a result file atomically.
    save: str
    #: ``read(file: neurosim.io.hdf5.ResultFile) -> result``: the whole file back.
    read: str
    #: ``describe(cfg) -> str``: checks beyond the schema (backends ...) and the text of
    #: ``neurosim validate`` ("valid (...)"); None: the task's name says it.
    describe: str | None = None
    #: ``energy(path, profiles, *, samples) -> (reports, text)`` for ``neurosim energy``,
    #: or None (its result cannot be priced).
    energy: str | None = None
    #: ``plot(path, out) -> Path``: the PNG of ``neurosim plot``, or None (no figure).
    plot: str | None = None
    #: True: ``run`` also takes ``context``, a :class:`RunContext` from the command line.
    takes_context: bool = False


@dataclass(frozen=True)
class RunContext:
    """What ``neurosim run`` hands a task whose entry ``takes_context``."""

    #: ``time.perf_counter()`` when the command began (the summary's wall time).
    started: float
    #: A started :class:`~neurosim.plotting_worker.PlotWorker` to draw the PNG, or
    #: None: no PNG (``--no-plot``, or ``output.plots: false``).
    plotter: Any = None
    #: To call once the run's set-up is over, before its long work starts.
    startup_over: Callable[[], None] = field(default=lambda: None)


TASKS: dict[str, Task] = {
    # First: matching a config or a result to its entry imports nothing for the common case.
    DEFAULT_TASK: Task(
        schema="neurosim.config.run:RunConfig",
        run="neurosim.network_task:run_task",
        result="neurosim.result:Result",
        result_format="neurosim-result",
        result_version=2,
        save="neurosim.io.network:save_network",
        read="neurosim.io.network:read_network",
        describe="neurosim.network_task:describe",
        energy="neurosim.network_task:file_energy",
        plot="neurosim.network_task:plot_file",
        takes_context=True),
    "lsm_classification": Task(
        schema="neurosim.config.lsm:LSMConfig",
        run="neurosim.reservoir.task:run_task",
        result="neurosim.reservoir.pipeline:LSMResult",
        result_format="neurosim-lsm-result",
        result_version=2,
        save="neurosim.reservoir.results:save_lsm",
        read="neurosim.reservoir.results:read_lsm",
        energy="neurosim.reservoir.energy:lsm_file_energy",
        plot="neurosim.reservoir.results:plot_file"),
    "rram_lsm": Task(
        schema="neurosim.config.rram_lsm:RRAMLSMConfig",
        run="neurosim.reservoir.rram_lsm_run:run_task",
        result="neurosim.reservoir.rram_lsm_run:RRAMLSMResult",
        result_format="neurosim-rram-lsm-result",
        result_version=2,
        save="neurosim.reservoir.rram_lsm_run:save_rram_lsm",
        read="neurosim.reservoir.rram_lsm_run:read_rram_lsm"),
    "train": Task(
        schema="neurosim.config.train:TrainConfig",
        run="neurosim.training.task:run_task",
        result="neurosim.training.result:TrainResult",
        result_format="neurosim-train-result",
        result_version=1,
        save="neurosim.training.result:save_train",
        read="neurosim.training.result:read_train",
        describe="neurosim.training.task:describe"),
    "convert": Task(
        schema="neurosim.config.convert:ConvertConfig",
        run="neurosim.convert.task:run_task",
        result="neurosim.convert.result:ConvertResult",
        result_format="neurosim-convert-result",
        result_version=1,
        save="neurosim.convert.result:save_convert",
        read="neurosim.convert.result:read_convert",
        describe="neurosim.convert.task:describe",
        energy="neurosim.convert.energy:file_energy"),
    "deploy": Task(
        schema="neurosim.config.deploy:DeployConfig",
        run="neurosim.deploy.task:run_task",
        result="neurosim.deploy.result:DeployResult",
        result_format="neurosim-deploy-result",
        result_version=1,
        save="neurosim.deploy.result:save_deploy",
        read="neurosim.deploy.result:read_deploy",
        describe="neurosim.deploy.task:describe",
        energy="neurosim.deploy.task:file_energy"),
}


def resolve(reference: str):
    """The object a ``"module:attribute"`` reference names (imported now)."""
    module, attribute = reference.split(":")
    return getattr(importlib.import_module(module), attribute)


def reference(cls: type) -> str:
    """``"module:qualname"`` of a class, as the table names classes."""
    return f"{cls.__module__}:{cls.__qualname__}"


def task_of_format(result_format: str | None) -> tuple[str, Task] | None:
    """The task whose result files have this ``format`` attribute, if any."""
    return next(((name, task) for name, task in TASKS.items()
                 if task.result_format == result_format), None)


def _task_of_class(obj: object, kind: str) -> tuple[str, Task] | None:
    # The first entry naming the object's class or a base of it.
    for cls in type(obj).__mro__:
        ref = reference(cls)
        for name, task in TASKS.items():
            if getattr(task, kind) == ref:
                return name, task
    return None


def task_of_config(cfg: object) -> tuple[str, Task]:
    """The task a validated config belongs to (by its schema class)."""
    found = _task_of_class(cfg, "schema")
    if found is None:
        raise TypeError(f"{type(cfg).__name__} is no task's config (tasks: {', '.join(TASKS)})")
    return found


def task_of_result(result: object) -> tuple[str, Task]:
    """The task a result object belongs to (by its class)."""
    found = _task_of_class(result, "result")
    if found is None:
        raise TypeError(f"{type(result).__name__} is no task's result (tasks: {', '.join(TASKS)})")
    return found
