"""``neurosim sweep``: its command-line options and what it does with them."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from neurosim.errors import ConfigError

#: Exit status of a sweep that completed with failed runs (their errors are in the table).
EXIT_RUNS_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser, positive_int) -> None:
    """The options after ``neurosim sweep CONFIG [--set ...]``."""
    parser.add_argument("--grid", action="append", default=[], metavar="KEY.PATH=V1,V2,...",
                        help="a config key and the values it takes (repeatable: every "
                             "combination runs), e.g. --grid populations.exc.params.tau_m="
                             "10ms,20ms")
    parser.add_argument("--seeds", type=positive_int,
                        help="runs per combination: the config's seed and the next ones")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=2,
                       help="worker processes of the local Dask cluster, one thread each "
                            "(default 2)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this existing Dask cluster instead (its workers must "
                            "have neurosim and see the sweep folder)")
    parser.add_argument("--output", "-o", help="the sweep folder (default: "
                                               "<output.dir>/<name>-sweep)")
    parser.add_argument("--plot", metavar="KEY",
                        help="draw this summary number against the swept value, with the "
                             "seeds' spread (<folder>/<KEY>.png)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")


def main(args: argparse.Namespace) -> int:
    """Run the sweep; 0 if every run succeeded, :data:`EXIT_RUNS_FAILED` if some failed."""
    missing = [name for name in ("distributed", "pyarrow") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"neurosim sweep needs {' and '.join(missing)}: "
                          "pip install 'neurosim[sweep]'")
    from neurosim.config.base import name_problem
    from neurosim.io import check_writable
    from neurosim.sweep.execute import dask_client, execute
    from neurosim.sweep.plan import make_plan, parse_grid_option
    from neurosim.sweep.plot import plot_sweep
    from neurosim.sweep.table import table_rows, write_table

    if args.plot is not None and name_problem(args.plot):
        raise ConfigError(f"--plot {args.plot!r}: {name_problem(args.plot)}")
    grid = dict(parse_grid_option(text) for text in args.grid)
    plan = make_plan(args.config, args.overrides, grid, args.seeds, args.output)
    plot_out = plan.folder / f"{args.plot}.png" if args.plot else None
    for path in (plan.folder / "sweep.csv", plan.folder / "sweep.parquet", plot_out):
        if path is not None:
            check_writable(path)
    outcomes = execute(plan, lambda: dask_client(args.scheduler, args.workers),
                       progress=not args.quiet)
    rows = table_rows(plan, outcomes)
    csv_path, parquet_path = write_table(rows, plan.folder)
    if plot_out is not None:
        plot_sweep(rows, plan, args.plot, plot_out)
    failed = [(run, o) for run, o in zip(plan.runs, outcomes, strict=True) if o.status == "failed"]
    if not args.quiet:
        print(_summary(outcomes, failed, csv_path, parquet_path, plot_out))
    return EXIT_RUNS_FAILED if failed else 0


def _summary(outcomes, failed, csv_path: Path, parquet_path: Path, plot_out: Path | None) -> str:
    reused = sum(o.status == "reused" for o in outcomes)
    lines = [f"{len(outcomes)} runs: {len(outcomes) - len(failed)} succeeded "
             f"({reused} reused from an earlier sweep), {len(failed)} failed"]
    lines += [f"  failed: {run.label}: {o.error.splitlines()[0] if o.error else ''}"
              for run, o in failed]
    lines += [f"table:  {csv_path}", f"        {parquet_path}"]
    if plot_out is not None:
        lines.append(f"plot:   {plot_out}")
    return "\n".join(lines)
