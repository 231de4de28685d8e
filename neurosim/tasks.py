"""The one table of config kinds (tasks): what each validates with, runs, saves and prices.

A config with a top-level ``task`` key is one of these; a config without it is
a network run (:class:`neurosim.config.run.RunConfig`, run by
:mod:`neurosim.driver`, saved by :mod:`neurosim.io`).  Adding a task
(training, sweeps, the hybrid experiment) is one entry here and its own
modules.  Entries name their code as ``"module:attribute"`` and are imported
only when a config asks for them: this module imports nothing of neurosim,
so the config layer can read it.

Every result file of every kind carries ``format`` and ``format_version``
attributes at its root; ``result_format`` says which a task writes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """One config kind."""

    #: The pydantic model its configs validate with.
    schema: str
    #: ``run(cfg, *, output, threads, quiet, plot) -> summary text``: run, save, plot.
    run: str
    #: The ``format`` attribute of the HDF5 files it writes.
    result_format: str
    #: ``energy(path, profiles) -> (reports, text)`` for ``neurosim energy``, or None.
    energy: str | None = None


TASKS: dict[str, Task] = {
    "lsm_classification": Task(
        schema="neurosim.config.lsm:LSMConfig",
        run="neurosim.reservoir.task:run_task",
        result_format="neurosim-lsm-result",
        energy="neurosim.reservoir.energy:lsm_file_energy"),
    "rram_lsm": Task(
        schema="neurosim.config.rram_lsm:RRAMLSMConfig",
        run="neurosim.reservoir.rram_lsm_run:run_task",
        result_format="neurosim-rram-lsm-result"),
}


def resolve(reference: str):
    """The object a ``"module:attribute"`` reference names (imported now)."""
    module, attribute = reference.split(":")
    return getattr(importlib.import_module(module), attribute)


def task_of_format(result_format: str) -> tuple[str, Task] | None:
    """The task whose result files have this ``format`` attribute, if any."""
    return next(((name, task) for name, task in TASKS.items()
                 if task.result_format == result_format), None)
