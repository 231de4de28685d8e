"""Writing a benchmark's JSON result file, shared by the bench_*.py scripts.

Every script used to end with its own copy of the same few lines (create the
results folder, open the file, dump the JSON); this is that tail, once.
Imported by its bare name: a script run as ``python benchmarks/bench_x.py``
has this folder first on ``sys.path``.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any


def write_result(data: Any, path: str | os.PathLike, indent: int = 1,
                 default: Callable[[Any], Any] | None = None) -> str:
    """Write ``data`` as JSON to ``path``, creating its folder; return the path.

    The JSON goes to ``<path>.tmp`` first and replaces ``path`` only when
    complete, so a dump that fails (say, on a value JSON cannot hold) leaves
    the previous result file intact. ``default`` is passed to :func:`json.dump`.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=indent, default=default)
    os.replace(tmp, path)
    return path
