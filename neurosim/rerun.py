"""``neurosim rerun RESULT.h5``: repeat a run from its result file and say whether it
came out bit-identical.

A result file holds what its run needs to be repeated: the resolved config
(``config``, the seed in it and in ``seed``) and, for a network run, the
thread count it ran with (``meta.threads``); it also records the versions
and the machine it ran on (``meta.version_*``, ``meta.machine_*``).  The
repeat runs the same task on the same config, into a temporary file (or
``--output``), and compares the two files:

- every dataset: shape, type and every byte of its values;
- every attribute of every group, except what describes when, where and
  how fast the run went rather than what it computed: ``created``,
  ``neurosim_version``, ``timing.*``, ``meta.version_*`` and
  ``meta.machine_*`` of the root.

Versions or a machine that differ from the recorded ones are reported
beside the verdict: a difference then has a likely cause.

Imported by the command line's parser: what it needs of numpy and h5py is
imported where it is used.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from neurosim.errors import OutputError

if TYPE_CHECKING:
    import h5py

#: Exit status when the repeat differs from the recorded result.
EXIT_DIFFERENT = 1
#: Root attributes that describe the circumstances of a run, not its outcome.
_CIRCUMSTANCES = ("created", "neurosim_version")
_CIRCUMSTANCE_PREFIXES = ("timing.", "meta.version_", "meta.machine_")
#: Differences listed in the report (the count says how many more).
_SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", help="an HDF5 result file written by neurosim")
    parser.add_argument("--output", "-o", help="keep the repeated run's result file here "
                                               "(default: a temporary file, removed)")
    parser.add_argument("--force", "-f", action="store_true",
                        help="overwrite an existing --output file")


def main(args: argparse.Namespace) -> int:
    """Repeat, compare, print the verdict; 0 if identical, :data:`EXIT_DIFFERENT` if not."""
    source = Path(args.result)
    if args.output is not None:
        out = Path(args.output)
        if out.resolve() == source.resolve():
            raise OutputError(f"{out} is the file being repeated; choose another --output")
        if out.exists() and not args.force:
            raise OutputError(f"{out} already exists; choose another --output, or add --force")
    with _repeat_path(args.output) as repeat:
        recorded = repeat_run(source, repeat)
        differences = compare_files(source, repeat)
    print(_report(source, recorded, differences))
    return EXIT_DIFFERENT if differences else 0


def repeat_run(source: Path, out: Path) -> dict[str, object]:
    """Run the config of ``source`` again into ``out``; return the recorded circumstances."""
    from neurosim.config import load_config_text
    from neurosim.io import check_writable, open_result
    from neurosim.tasks import resolve

    with open_result(source) as rf:
        config, task, attrs = rf.header.config, rf.task, dict(rf.attrs)
    check_writable(out)
    threads = attrs.get("meta.threads")
    cfg = load_config_text(config)
    resolve(task.run)(cfg, output=str(out), threads=threads if isinstance(threads, int) else None,
                      quiet=True, plot=False)
    return {key: value for key, value in attrs.items() if _is_circumstance(key)}


@contextmanager
def _repeat_path(output: str | None) -> Iterator[Path]:
    if output is not None:
        yield Path(output)
        return
    with tempfile.TemporaryDirectory(prefix="neurosim-rerun-") as folder:
        yield Path(folder) / "repeat.h5"


def _is_circumstance(key: str) -> bool:
    return key in _CIRCUMSTANCES or key.startswith(_CIRCUMSTANCE_PREFIXES)


def compare_files(a: str | Path, b: str | Path) -> list[str]:
    """Where two result files differ (empty: bit-identical but for the circumstances)."""
    import h5py
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        objects_a, objects_b = _objects(fa), _objects(fb)
        differences = [f"{path}: only in the recorded file" for path in objects_a
                       if path not in objects_b]
        differences += [f"{path}: only in the repeat" for path in objects_b
                        if path not in objects_a]
        for path, obj in objects_a.items():
            other = objects_b.get(path)
            if other is None:
                continue
            if isinstance(obj, h5py.Dataset) != isinstance(other, h5py.Dataset):
                differences.append(f"{path}: a group in one file, a dataset in the other")
                continue
            if isinstance(obj, h5py.Dataset):
                differences += _dataset_difference(path, obj, other)
            differences += _attribute_differences(path, obj, other)
    return differences


def _objects(f: h5py.File) -> dict[str, h5py.HLObject]:
    found: dict[str, h5py.HLObject] = {"/": f}

    def add(name: str, obj: h5py.HLObject) -> None:
        found[f"/{name}"] = obj

    f.visititems(add)
    return found


def _dataset_difference(path: str, a: h5py.Dataset, b: h5py.Dataset) -> list[str]:
    import numpy as np
    if a.shape != b.shape or a.dtype != b.dtype:
        return [f"{path}: {a.dtype}{list(a.shape)} recorded, {b.dtype}{list(b.shape)} repeated"]
    va, vb = a[()], b[()]
    if a.dtype.kind == "O":  # variable-length strings: compare the values
        same = np.array_equal(va, vb)
        return [] if same else [f"{path}: the values differ"]
    bytes_a, bytes_b = _element_bytes(va), _element_bytes(vb)
    differing = np.flatnonzero((bytes_a != bytes_b).any(axis=1))
    if differing.size == 0:
        return []
    first = np.unravel_index(differing[0], a.shape) if a.shape else ()
    return [f"{path}: {differing.size:,} of {a.size:,} values differ (first at index "
            f"{tuple(int(i) for i in first)}: {va[first]!r} recorded, {vb[first]!r} repeated)"]


def _element_bytes(values) -> np.ndarray:
    """One row of bytes per element: bit-for-bit, so -0.0 and 0.0, or two NaNs, are told apart."""
    import numpy as np
    array = np.ascontiguousarray(values)
    return array.reshape(-1).view(np.uint8).reshape(array.size, array.dtype.itemsize)


def _attribute_differences(path: str, a: h5py.HLObject, b: h5py.HLObject) -> list[str]:
    def compared(obj: h5py.HLObject) -> dict[str, object]:
        return {k: v for k, v in obj.attrs.items() if path != "/" or not _is_circumstance(k)}

    attrs_a, attrs_b = compared(a), compared(b)
    differences = []
    for key in dict.fromkeys([*attrs_a, *attrs_b]):
        if key not in attrs_a or key not in attrs_b:
            where = "the recorded file" if key in attrs_a else "the repeat"
            differences.append(f"{path} attribute {key}: only in {where}")
        elif not _same_bits(attrs_a[key], attrs_b[key]):
            differences.append(f"{path} attribute {key}: {_short(attrs_a[key])} recorded, "
                               f"{_short(attrs_b[key])} repeated")
    return differences


def _same_bits(x: object, y: object) -> bool:
    import numpy as np
    ax, ay = np.asarray(x), np.asarray(y)
    if ax.dtype.kind == "O" or ay.dtype.kind == "O":
        return ax.shape == ay.shape and ax.tolist() == ay.tolist()
    return ax.dtype == ay.dtype and ax.shape == ay.shape and ax.tobytes() == ay.tobytes()


def _short(value: object) -> str:
    import numpy as np
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _report(source: Path, recorded: dict[str, object], differences: list[str]) -> str:
    from neurosim.driver.metadata import machine, versions

    import neurosim

    now = {"neurosim_version": neurosim.__version__,
           **{f"meta.version_{k}": v for k, v in versions().items()},
           **{f"meta.machine_{k}": v for k, v in machine().items()}}
    changed = [f"  {key.removeprefix('meta.')}: {recorded[key]} recorded, {now[key]} now"
               for key in now if key in recorded and str(recorded[key]) != str(now[key])]
    if differences:
        lines = [f"{source}: the repeat differs ({len(differences)} difference"
                 f"{'s' if len(differences) > 1 else ''}):"]
        lines += [f"  {line}" for line in differences[:_SHOWN]]
        if len(differences) > _SHOWN:
            lines.append(f"  ... and {len(differences) - _SHOWN} more")
    else:
        lines = [f"{source}: the repeat is bit-identical (every dataset and attribute but "
                 "the timings, versions and machine)"]
    if changed:
        lines.append("recorded under other circumstances:")
        lines += changed
    return "\n".join(lines)
