"""One run of a sweep, as a Dask worker executes it.

The task is a plain function of plain data (the resolved config text and
the result path), so any worker with neurosim installed can run it.  A run
that fails comes back as an :class:`Outcome` with its error rather than as
an exception: a failed run is a row of the table, and Dask's retries are
kept for what they are for, a worker that died (the scheduler hands its
tasks to another worker, ``distributed.scheduler.allowed-failures`` times).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neurosim.errors import NeurosimError

#: A worker runs one task at a time, on one thread: the cores go to the workers.
THREADS_PER_RUN = 1


@dataclass(frozen=True)
class Outcome:
    """What became of one run."""

    #: ``done`` (run now), ``reused`` (its result file was there) or ``failed``.
    status: str
    error: str = ""
    numbers: dict[str, int | float] = field(default_factory=dict)


def run_one(config_text: str, path: str) -> Outcome:
    """Run a resolved config, write its result to ``path``; return its numbers or its error."""
    from neurosim.config import load_config_text
    from neurosim.io import open_result
    from neurosim.sweep.summary import summary_numbers
    from neurosim.tasks import resolve, task_of_config

    try:
        cfg = load_config_text(config_text)
        _, task = task_of_config(cfg)
        resolve(task.run)(cfg, output=path, threads=THREADS_PER_RUN, quiet=True, plot=False)
        with open_result(path) as rf:
            return Outcome("done", numbers=summary_numbers(rf))
    except NeurosimError as err:
        return Outcome("failed", error=str(err))
    except Exception as err:  # noqa: BLE001 - any failure of one run is that run's row
        return Outcome("failed", error=f"{type(err).__name__}: {err}")
