"""Draw a run's PNG in a child process that imports matplotlib while the run goes on.

Importing matplotlib's figure machinery costs about 0.45 s of CPU, a third of
a short ``neurosim run``.  A child forked as the command starts, before
numba and pydantic are imported (``import neurosim.cli`` loads neither),
does that import on another core while the parent loads the config, builds,
simulates and writes the result; the parent then sends it the result and the
child draws it with :func:`neurosim.plotting.plot_result`, the same code and
data as in-process, so the PNG is the same file.  Where ``fork`` is not available (Windows) or
the child is lost, the plot is drawn in-process.

Only the import of :mod:`neurosim.plotting` runs in the child before the
result arrives: nothing of numba, and no thread of the parent, is used there.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from pathlib import Path


class PlotWorker:
    """A forked child ready to draw :func:`~neurosim.plotting.plot_result` once.

    Use as a context manager: leaving it without :meth:`plot` (an error in
    the run) stops the child.
    """

    def __init__(self) -> None:
        self._conn = self._proc = None
        self._sent = False
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        ctx = multiprocessing.get_context("fork")
        self._conn, child_end = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child_end, self._conn), daemon=True)
        with warnings.catch_warnings():
            # Python >= 3.12 warns when forking a process with threads (here
            # the BLAS pool numpy starts); the child only imports and draws,
            # it takes no lock those threads could hold.
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            self._proc.start()
        child_end.close()

    def plot(self, result, path: str | os.PathLike, title: str = "spikes") -> Path:
        """Write the raster/rate PNG of ``result`` to ``path`` (see :func:`plot_result`)."""
        if self._conn is not None:
            try:
                self._conn.send((result, title, path))
                self._sent = True
                ok, value = self._conn.recv()
            except (EOFError, OSError):  # the child is gone: draw here instead
                pass
            else:
                if not ok:
                    raise value
                return value
        from neurosim.plotting import plot_result

        return plot_result(result, path, title=title)

    def close(self) -> None:
        """Reap the child; one never sent a result (the run failed) is killed."""
        if self._proc is None:
            return
        self._conn.close()
        if not self._sent:  # it only imports: nothing to clean up
            self._proc.kill()
        self._proc.join()
        self._proc = None

    def __enter__(self) -> PlotWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(conn, parents_end) -> None:
    # The fork copied the parent's end of the pipe: closed here, the pipe ends
    # when the parent does, even by SIGKILL, and the child stops waiting
    # (else it would outlive the run, holding the caller's stderr).
    parents_end.close()
    try:
        from neurosim.plotting import plot_result

        result, title, path = conn.recv()
    except (EOFError, KeyboardInterrupt):  # the run failed or was interrupted
        return
    try:
        conn.send((True, plot_result(result, path, title=title)))
    except KeyboardInterrupt:  # the parent got it too
        return
    except Exception as err:  # noqa: BLE001  (the parent raises it as its own)
        conn.send((False, err))
