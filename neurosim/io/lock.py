"""One writer per output: a run holds a lock on its result path until it ends.

Two runs given the same output would otherwise both run to the end and the
later rename would silently replace the earlier result.  The second one is
refused at start instead, naming the process that holds the path.  The lock
is ``flock`` on a hidden ``.<name>.lock`` file beside the result: the kernel
releases it when the holder exits, however it ends (a SIGKILL included), so
a killed run never leaves a path locked; the file itself is removed when the
lock is released normally.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neurosim.errors import OutputError


def lock_path(output: str | os.PathLike) -> Path:
    """The lock file of ``output``."""
    output = Path(output)
    return output.with_name(f".{output.name}.lock")


@contextmanager
def writer_lock(output: str | os.PathLike, what: str | None = None) -> Iterator[None]:
    """Hold ``output`` for this process; :class:`OutputError` if another holds it
    (``what`` names the output there; default: its path)."""
    path = lock_path(output)
    created = _missing_folders(path.parent)
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise OutputError(f"cannot write {output}: {err.strerror or err}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(f"{what or output} is being written by another run (pid {holder}); "
                              "wait for it to end, or choose another --output") from None
        # A holder that just released it removed the file: lock the one now there.
        try:
            same = os.fstat(fd).st_ino == path.stat().st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
        for folder in created:  # a run that wrote nothing leaves no folder either
            try:
                folder.rmdir()
            except OSError:
                break


def _missing_folders(folder: Path) -> list[Path]:
    """The folders ``mkdir(parents=True)`` of ``folder`` would create, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing
