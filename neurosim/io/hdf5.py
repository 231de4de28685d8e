"""Result files: one HDF5 layout convention for every task, one writer helper, one loader.

Every result file, whatever task wrote it, starts the same way::

    /   attrs: format            the task's result format (neurosim.tasks.TASKS)
               format_version    the layout version of that format
               task              the task's name in the table
               config            the fully resolved config YAML (neurosim.config.dump_config)
               seed              the root seed of the run
               neurosim_version  the version that wrote the file
               created           when, ISO 8601 in UTC
               meta.<key>        what describes the run (backend, threads, versions ...)
               timing.<key>      seconds per phase of the run
               counter.<key>     flat counts of the run's work
    /energy/<profile>            attrs: the energy report of one hardware profile, if
                                 the run was priced (EnergyReport.to_dict)

and each task adds its own groups and datasets (its writer's docstring
lists them).  The ``meta``, ``timing`` and ``counter`` sections are there
where a task has such numbers; their values are str, int, float or bool.
:func:`create_result` writes the header, atomically (:func:`atomic_path`).

:func:`load` reads any result file back: it opens the file, checks it
(:func:`open_result`) and hands it to the reader its ``format`` names in the
task table.  Version 1 files (written before this convention: no ``task``,
``neurosim_version`` or ``created``; LSM files without a ``seed``, network
files with their timings among ``meta.``) read as well: the header fills in
what they lack from the table and the config.  Files of a newer version are
refused with one error naming the version.
"""

from __future__ import annotations

import operator
import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import neurosim
from neurosim.errors import DataError, OutputError
from neurosim.tasks import TASKS, Task, resolve, task_of_format, task_of_result

#: The flat sections of the root attributes: ``<section>.<key>``.
SECTIONS = ("meta", "timing", "counter")

_SCALAR_TYPES = (str, bool, int, float, np.bool_, np.integer, np.floating)


@dataclass(frozen=True)
class Header:
    """The root attributes every result file has (:mod:`neurosim.io.hdf5`)."""

    format: str
    format_version: int
    task: str
    config: str
    seed: int | None
    neurosim_version: str | None
    created: str | None


@dataclass
class ResultFile:
    """An open, checked result file: its path, its HDF5 file, header and task entry."""

    path: Path
    file: h5py.File
    header: Header
    task: Task
    #: The root attributes as Python values (read once: a config text is long).
    attrs: dict[str, object]

    def section(self, name: str) -> dict[str, object]:
        """The ``<name>.<key>`` root attributes as ``{key: value}``, in file order."""
        return _section(self.attrs, name)


#: What a path that is not a regular file is, by its ``stat`` test.
_NOT_FILES = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"),
              (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
              (stat.S_ISSOCK, "a socket"))


def check_writable(path: str | os.PathLike) -> None:
    """Fail early if a result file could not be written at ``path``.

    Meant to run before a long simulation starts. Folders that do not exist
    yet are fine as long as the nearest existing one is a writable folder.
    Nothing is created or left behind.

    Parameters
    ----------
    path:
        Where the result file is going to be written.

    Raises
    ------
    OutputError
        If ``path`` exists and is not a regular file (a folder, a symbolic
        link, a FIFO, a device: the rename would replace it, not write
        through it), an ancestor of it is a regular file, or the nearest
        existing folder cannot be written to.
    """
    final = Path(path)
    try:
        mode = final.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # the walk below says which
        mode = None
    except OSError as exc:  # a name too long, a folder on the way we may not read
        raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc
    except ValueError as exc:  # a NUL in the path
        raise OutputError(f"cannot write {str(final)!r}: {exc}") from exc
    if mode is not None:
        what = next((name for test, name in _NOT_FILES if test(mode)), None)
        if what is not None:
            raise OutputError(f"cannot write {final}: it is {what}, not a regular file "
                              "(refusing to replace it)")
    folder = final.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {final}: {folder} is a file, not a folder")
    # A real probe rather than os.access(): access() reads permission bits
    # and can disagree with the file system (root-squashed NFS, ACLs, SELinux).
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc


def result_path(cfg: Any, output: str | os.PathLike | None = None) -> Path:
    """Where a run of ``cfg`` writes its result: ``output``, else ``<output.dir>/<name>.h5``.

    The config's ``name`` is one file name (:func:`neurosim.config.base.name_problem`),
    so the default stays inside ``output.dir`` (``results`` for a config without
    an ``output`` section).
    """
    if output:
        return Path(output)
    return Path(getattr(getattr(cfg, "output", None), "dir", "results")) / f"{cfg.name}.h5"


def plot_path(result: str | os.PathLike) -> Path:
    """The PNG drawn beside a result file: its name with the suffix ``.png``."""
    return Path(result).with_suffix(".png")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    The temporary file is ``.<name>.tmp-<pid>`` in the destination folder (same
    file system, so :func:`os.replace` is atomic), created anew by this call
    (never a file or link that was there). The destination is checked with
    :func:`check_writable` and parent folders are created first. A file that
    is replaced keeps its permission bits. On any exception the temporary
    file is removed and the exception re-raised, with operating-system
    failures turned into :class:`OutputError`.

    Parameters
    ----------
    path:
        Final destination.

    Yields
    ------
    Path
        The temporary path to write to.
    """
    final = Path(path)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    check_writable(final)  # one place for the clear "X is a file" messages
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(final)
        _create_empty(tmp)
    except OSError as exc:
        raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc
    try:
        yield tmp
        try:
            os.chmod(tmp, stat.S_IMODE(final.stat().st_mode))
        except FileNotFoundError:
            pass  # a new file: the umask's mode
        # The data reaches the disk before the rename, and the rename before
        # we return: after a crash the path holds the old file or the new one.
        _fsync(tmp)
        os.replace(tmp, final)
        _fsync_folder(final.parent)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {final}: {_reason(exc)}") from exc
        raise


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable, where the file system lets a folder be synced."""
    try:
        _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        pass  # e.g. EINVAL on file systems without folder fsync: the rename is done anyway


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed writer of ``path`` left behind.

    :func:`atomic_path` writes ``.<name>.tmp-<pid>``; one whose process no
    longer runs (killed mid-write: no ``finally`` ran) will never be renamed.
    A live writer's stays.  Returns what was removed.
    """
    final = Path(path)
    prefix = f".{final.name}.tmp-"
    try:
        candidates = [p for p in final.parent.iterdir() if p.name.startswith(prefix)]
    except FileNotFoundError:  # no folder yet, nothing left in it
        return []
    removed = []
    for tmp in candidates:
        pid = tmp.name[len(prefix):]
        if pid.isdigit() and not _process_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or never a pid
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _create_empty(tmp: Path) -> None:
    """Create ``tmp`` as a new empty file; a leftover of an earlier process of our pid goes first.

    Exclusive creation: a link planted at the temporary name would otherwise
    have the writer truncate whatever it points to.
    """
    for attempt in (1, 2):
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return
        except FileExistsError:
            if attempt == 2:
                raise
            tmp.unlink()  # removes a link itself, not what it points to


@contextmanager
def create_result(path: str | os.PathLike, task: str, config_text: str,
                  seed: int | None = None, provenance: bool = True) -> Iterator[h5py.File]:
    """A new result file of ``task`` at ``path``, its header written; atomic.

    Yields the open file for the task's own parts; on leaving, the file is
    closed and renamed into place (on an error, nothing is left behind and a
    previous file at ``path`` stays).  ``seed`` defaults to the config's.
    Groups and attributes keep creation order.  With ``provenance`` the file
    records the package versions and the machine (``meta.version_<package>``,
    ``meta.machine_<key>``) where its writer did not.
    """
    from neurosim.driver.metadata import machine, versions

    entry = TASKS[task]
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as f:
        seed = _config_seed(config_text) if seed is None else operator.index(seed)
        f.attrs.update({
            "format": entry.result_format, "format_version": entry.result_version,
            "task": task, "config": config_text,
            **({} if seed is None else {"seed": seed}),  # a config text without one
            "neurosim_version": neurosim.__version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        })
        yield f
        if not provenance:
            return
        written = read_section(f, "meta")
        provenance = {**{f"version_{k}": v for k, v in versions().items()},
                      **{f"machine_{k}": v for k, v in machine().items()}}
        write_section(f, "meta", {k: v for k, v in provenance.items() if k not in written})


def write_section(f: h5py.File, name: str, values: Mapping[str, object]) -> None:
    """Write ``values`` as the ``<name>.<key>`` root attributes (one of :data:`SECTIONS`)."""
    if name not in SECTIONS:
        raise ValueError(f"section must be one of {SECTIONS}, got {name!r}")
    set_attrs(f, values, prefix=f"{name}.")


def read_section(f: h5py.File, name: str) -> dict[str, object]:
    """The ``<name>.<key>`` root attributes as ``{key: value}``, in file order."""
    return _section(scalar_attrs(f), name)


def _section(attrs: Mapping[str, object], name: str) -> dict[str, object]:
    prefix = f"{name}."
    return {key[len(prefix):]: value for key, value in attrs.items() if key.startswith(prefix)}


def write_energy(f: h5py.File, energy: Mapping[str, Mapping[str, object]]) -> None:
    """``/energy/<profile>`` for each priced profile (no group when there is none)."""
    if energy:
        group = ordered_group(f, "energy")
        for profile, numbers in energy.items():
            set_attrs(ordered_group(group, profile), numbers)


def read_energy(f: h5py.File) -> dict[str, dict[str, object]]:
    """The ``/energy`` group back as ``{profile: {key: value}}`` (empty if absent)."""
    return {name: scalar_attrs(group) for name, group in f.get("energy", {}).items()}


def save(result: object, path: str | os.PathLike) -> Path:
    """Write any task's result to ``path`` (its task's writer, found by its class)."""
    _, entry = task_of_result(result)
    return resolve(entry.save)(result, path)


def load(path: str | os.PathLike) -> object:
    """Read a result file of any task back (its ``format`` picks the reader).

    Returns
    -------
    object
        What the task's run produced: a :class:`~neurosim.result.Result` for a
        network run, an :class:`~neurosim.reservoir.pipeline.LSMResult`, ... (the
        ``result`` of its entry in :data:`neurosim.tasks.TASKS`).

    Raises
    ------
    DataError
        If the file is missing, is not HDF5, is not a neurosim result, was
        written by a newer format version, or lacks a required part.
    """
    with open_result(path) as rf:
        return read_parts(rf, resolve(rf.task.read))


def read_parts(rf: ResultFile, read: Callable[..., Any], *args, what: str = "neurosim") -> Any:
    """``read(rf, *args)``, a part it misses (a ``KeyError``) one :class:`DataError`
    saying that the file is a damaged ``what`` result."""
    try:
        return read(rf, *args)
    except KeyError as exc:
        raise DataError(f"{rf.path} is a damaged {what} result: missing {exc}") from None


def result_task(path: str | os.PathLike) -> tuple[str, Task]:
    """The task (name and entry) of a result file, after the checks of :func:`open_result`."""
    with open_result(path) as rf:
        return rf.header.task, rf.task


def result_format(path: str | os.PathLike) -> str | None:
    """The ``format`` attribute of a result file of any kind (None if unreadable or absent)."""
    try:
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
    except OSError:
        return None
    return None if fmt is None else str(fmt)


@contextmanager
def open_result(path: str | os.PathLike, task: str | None = None) -> Iterator[ResultFile]:
    """Open a result file for reading and check it: a known format, a readable version.

    Parameters
    ----------
    path:
        The HDF5 file.
    task:
        If given, the file must be this task's.

    Raises
    ------
    DataError
        If the file is missing or not HDF5, its ``format`` is no task's (or not
        ``task``'s), or its ``format_version`` is not one this neurosim reads.
    """
    src = Path(path)
    try:
        f = h5py.File(src, "r")
    except FileNotFoundError as exc:
        raise DataError(f"result file {src} does not exist") from exc
    except OSError as exc:
        raise DataError(f"cannot read {src} as HDF5: {_reason(exc)}") from exc
    with f:
        attrs = scalar_attrs(f)
        fmt = attrs.get("format")
        found = task_of_format(None if fmt is None else str(fmt))
        if found is None:
            known = ", ".join(repr(t.result_format) for t in TASKS.values())
            raise DataError(f"{src} is not a neurosim result file "
                            f"(format attribute is {fmt!r}, expected one of {known})")
        name, entry = found
        if task is not None and name != task:
            raise DataError(f"{src} is a {name} result ({fmt}), not a {task} result")
        version = attrs.get("format_version")
        if type(version) is not int or not 1 <= version <= entry.result_version:
            shown = "(none)" if version is None else version
            raise DataError(f"{src} has {fmt} format version {shown}; "
                            f"this neurosim reads versions 1 to {entry.result_version}")
        yield ResultFile(src, f, _header(attrs, name, entry, version), entry, attrs)


def _header(attrs: Mapping[str, object], task: str, entry: Task, version: int) -> Header:
    config = str(attrs.get("config", ""))
    # Version 1 files lack task, neurosim_version and created (and LSM ones the seed).
    seed = attrs.get("seed")
    return Header(
        format=entry.result_format, format_version=version, task=task, config=config,
        seed=int(seed) if seed is not None else _config_seed(config),
        neurosim_version=_text(attrs.get("neurosim_version", attrs.get("meta.version_neurosim"))),
        created=_text(attrs.get("created")))


def _config_seed(config_text: str) -> int | None:
    """The top-level ``seed`` of a config text (None if it has none)."""
    import yaml  # not for network runs: their results know their seed

    try:
        seed = yaml.load(config_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                         ).get("seed")
    except (yaml.YAMLError, AttributeError):
        return None
    return seed if isinstance(seed, int) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def ordered_group(parent: h5py.Group, name: str) -> h5py.Group:
    """A new group that keeps creation order; refuses names HDF5 would split."""
    # A "/" would silently create nested groups that a reader cannot map back.
    if "/" in name or name in ("", ".", ".."):
        raise OutputError(f"cannot store {name!r} in HDF5: not a valid group name")
    return parent.create_group(name, track_order=True)


def set_attrs(obj: h5py.HLObject, items: Mapping[str, object], prefix: str = "") -> None:
    """Store str/int/float/bool values as attributes (``prefix`` before each key)."""
    for key, value in items.items():
        if not isinstance(value, _SCALAR_TYPES):
            raise TypeError(
                f"cannot store {prefix}{key}={value!r} as an HDF5 attribute: "
                "expected str, int, float or bool"
            )
        obj.attrs[prefix + key] = value


def scalar_attrs(obj: h5py.HLObject) -> dict[str, object]:
    """Attributes as Python values: the ``int``/``float``/``bool``/``str`` that were stored."""
    # h5py returns numpy scalars (np.int64, np.bool_, ...); .item() gives the
    # Python value that was saved. Strings already come back as str.
    return {
        key: value.item() if isinstance(value, np.generic) else value
        for key, value in obj.attrs.items()
    }


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
