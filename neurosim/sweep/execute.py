"""Running a sweep's runs on Dask: a local cluster or an existing one, progress, retries.

Each run not already done is one task (:func:`neurosim.sweep.worker.run_one`).
A run whose result file is there, reads back and holds the same resolved
config is reused, not run again: that is how a sweep that was interrupted,
or that had failures, continues.  Workers write the result files
themselves, so on a cluster the sweep folder must be on a file system every
worker sees.

A worker that dies (killed, out of memory, a crash in native code) takes no
run with it: the scheduler hands its tasks to the other workers, up to
``distributed.scheduler.allowed-failures`` times (3 by default) for any one
task; a run that kills its worker every time is then recorded as failed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from neurosim.errors import ConfigError, DataError
from neurosim.io import open_result
from neurosim.io.lock import writer_lock
from neurosim.sweep.plan import PlannedRun, SweepPlan
from neurosim.sweep.summary import summary_numbers
from neurosim.sweep.worker import THREADS_PER_RUN, Outcome, run_one

#: The environment of local workers: one thread each, numba's pool included, so that
#: N workers use N cores (numba reads it at import, in the worker process).
WORKER_ENV = {"NUMBA_NUM_THREADS": str(THREADS_PER_RUN), "OMP_NUM_THREADS": str(THREADS_PER_RUN)}
#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT_S = 10


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[object]:
    """A ``distributed.Client`` of the scheduler at ``scheduler``, or of a new
    ``LocalCluster`` of ``workers`` one-thread worker processes (closed on leaving)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as err:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", env=WORKER_ENV,  # any free port
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def execute(plan: SweepPlan, connect: Callable[[], AbstractContextManager], progress: bool
            ) -> list[Outcome]:
    """Run every run of ``plan`` not already done; one :class:`Outcome` per run, in order.

    ``connect()`` gives the ``distributed.Client`` to run on (:func:`dask_client`),
    called only if some run is left to do.
    """
    from distributed import as_completed

    outcomes: dict[int, Outcome] = {}
    for run in plan.runs:
        reused = _reused(run)
        if reused is not None:
            outcomes[run.index] = reused
    pending = [run for run in plan.runs if run.index not in outcomes]
    if not pending:
        return [outcomes[run.index] for run in plan.runs]
    # One sweep at a time per folder: the lock is .sweep.lock in it.
    with writer_lock(plan.folder / "sweep", what=f"the sweep folder {plan.folder}"):
        try:
            with connect() as client, _task_bar(len(plan.runs), len(outcomes), progress) as bar:
                futures = {client.submit(run_one, run.config_text, str(run.path),
                                         key=f"neurosim-run-{run.path.stem}"): run
                           for run in pending}
                failed = 0
                for future in as_completed(futures):
                    run = futures[future]
                    outcomes[run.index] = _outcome(future)
                    failed += outcomes[run.index].status == "failed"
                    bar.set_postfix_str(f"{failed} failed", refresh=False)
                    bar.update()
        finally:  # the local workers are gone now, also after an interrupt
            _remove_leftovers(plan)
    return [outcomes[run.index] for run in plan.runs]


def _outcome(future) -> Outcome:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as err:
        return Outcome("failed", error=f"the workers running it died every time ({err})")
    except Exception as err:  # noqa: BLE001 - the scheduler lost it: that run's row
        return Outcome("failed", error=f"{type(err).__name__}: {err}")


def _reused(run: PlannedRun) -> Outcome | None:
    """The outcome of a run whose result file is complete and of the same config."""
    if not run.path.is_file():
        return None
    try:
        with open_result(run.path) as rf:
            if rf.header.config != run.config_text:
                return None  # written by another sweep of other settings
            return Outcome("reused", numbers=summary_numbers(rf))
    except (DataError, KeyError):  # damaged: run it again
        return None


def _remove_leftovers(plan: SweepPlan) -> None:
    """Temporary files of result writes that a dying worker left (:func:`neurosim.io.hdf5.atomic_path`)."""
    for stale in (plan.folder / "runs").glob(".*.h5.tmp-*"):
        stale.unlink(missing_ok=True)


def _task_bar(total: int, done: int, enabled: bool):
    """A bar over runs on stderr, as :mod:`neurosim.progress` draws: on a TTY, after 2 s."""
    from tqdm import tqdm

    shown = enabled and sys.stderr.isatty()
    return tqdm(total=total, initial=done, unit="run", desc="sweep", file=sys.stderr,
                delay=2.0, dynamic_ncols=True, disable=not shown)
