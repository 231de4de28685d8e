"""A sweep's table: one row per run, written as CSV and as Parquet.

Columns: ``run`` (its index), one column per grid key (its value), ``seed``,
``status`` (``done``, ``reused`` or ``failed``), ``error`` (empty unless
failed), the summary numbers (:mod:`neurosim.sweep.summary`; empty for a
failed run) and ``result``, the absolute path of the run's HDF5 file.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from neurosim.io.hdf5 import atomic_path
from neurosim.sweep.plan import SweepPlan, override_value
from neurosim.sweep.worker import Outcome

Row = dict[str, Any]


def table_rows(plan: SweepPlan, outcomes: list[Outcome]) -> list[Row]:
    """The rows of the table, in run order; every row has every column.

    A number named like a grid key (``populations.exc.size`` is both) is left
    out: the grid's column holds it.
    """
    fixed = _fixed_columns(plan)
    number_keys = [key for key in dict.fromkeys(k for o in outcomes for k in o.numbers)
                   if key not in fixed]
    rows = []
    for run, outcome in zip(plan.runs, outcomes, strict=True):
        params = {key: value if isinstance(value, str | int | float) else override_value(value)
                  for key, value in run.params.items()}
        rows.append({"run": run.index, **params, "seed": run.seed, "status": outcome.status,
                     "error": outcome.error,
                     **{key: outcome.numbers.get(key) for key in number_keys},
                     "result": str(run.path.resolve())})
    return rows


def number_columns(rows: list[Row], plan: SweepPlan) -> list[str]:
    """The summary-number columns of a table."""
    fixed = _fixed_columns(plan)
    return [key for key in rows[0] if key not in fixed] if rows else []


def _fixed_columns(plan: SweepPlan) -> set[str]:
    return {"run", *plan.keys, "seed", "status", "error", "result"}


def write_table(rows: list[Row], folder: Path) -> tuple[Path, Path]:
    """``sweep.csv`` and ``sweep.parquet`` in ``folder``, each written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv_path, parquet_path = folder / "sweep.csv", folder / "sweep.parquet"
    columns = list(rows[0])
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({key: "" if value is None else value for key, value in row.items()}
                         for row in rows)
    table = pa.table({key: _arrow_column(pa, [row[key] for row in rows]) for key in columns})
    with atomic_path(parquet_path) as tmp:
        pq.write_table(table, tmp)
    return csv_path, parquet_path


def _arrow_column(pa, values: list[Any]):
    """One typed column; a grid key whose values mix kinds (``10 ms`` and ``0.01``) as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
