"""Command line: ``neurosim run | validate | plot | energy | metrics``.

Every user error ends as one line ``error: ...`` on stderr and exit code 2;
nothing is written unless the run completes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
from pathlib import Path

from neurosim.errors import DataError, NeurosimError

EXIT_USER_ERROR = 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="a YAML file or the name of a built-in config (e.g. cuba)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a config value (repeatable), e.g. --set duration=2s")


def _parser() -> argparse.ArgumentParser:
    summary = __doc__.splitlines()[0].replace("``", "")  # no reST markup in --help
    parser = argparse.ArgumentParser(prog="neurosim", description=summary)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build and simulate a config, write an HDF5 result")
    _add_config_args(run)
    run.add_argument("--output", "-o", help="result file (default: results/<name>.h5)")
    run.add_argument("--threads", type=_positive_int, help="threads (overrides the config)")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    run.add_argument("--no-plot", action="store_true", help="do not write the raster/rate PNG")

    val = sub.add_parser("validate", help="check a config without running it")
    _add_config_args(val)

    plot = sub.add_parser("plot", help="PNG of a result file (a network run's raster + rate, "
                                       "an LSM run's readout and branching factors)")
    plot.add_argument("result", help="an HDF5 result written by 'neurosim run'")
    plot.add_argument("--output", "-o", help="PNG path (default: next to the result)")

    energy = sub.add_parser("energy", help="energy, power and latency of a result on hardware profiles")
    energy.add_argument("result", help="an HDF5 result written by 'neurosim run' (a network "
                                       "run, or an LSM run: then per sample, from its counts)")
    energy.add_argument("--hardware", action="append", required=True, metavar="PROFILE",
                        help="a profile name from hardware/ or a profile YAML file (repeatable); "
                             "'all' for every built-in profile")
    energy.add_argument("--samples", type=_positive_int, default=1,
                        help="input samples the run covers (energy per sample = total / samples; "
                             "an LSM result knows its own)")
    energy.add_argument("--plot", help="stacked-bar PNG path (default: <result>_energy.png)")
    energy.add_argument("--no-plot", action="store_true", help="do not write the PNG")

    metrics = sub.add_parser("metrics", help="reservoir metrics of an LSM result file or config")
    _add_config_args(metrics)
    metrics.add_argument("--metric", action="append", metavar="NAME",
                         help="branching_factor, kernel_rank, separation, memory_capacity or "
                              "lyapunov (repeatable); default: the first three for a result "
                              "file, branching_factor, memory_capacity and lyapunov for a config")
    metrics.add_argument("--values", type=_positive_int, default=3000,
                         help="random input values of the liquid drive (5 steps each)")
    metrics.add_argument("--json", help="also write the numbers to this JSON file")
    return parser


def _run(args) -> int:
    from neurosim.plotting_worker import PlotWorker

    t0 = time.perf_counter()
    # Started before numba and pydantic are imported, so that matplotlib's
    # import overlaps the whole run (see there); stopped if no PNG is wanted.
    with contextlib.nullcontext() if args.no_plot else PlotWorker() as plotter:
        return _run_config(args, plotter, t0)


def _run_config(args, plotter, t0: float) -> int:
    """Every config, whatever its task (:data:`neurosim.tasks.TASKS`)."""
    from neurosim.config import load_config
    from neurosim.tasks import RunContext, resolve, task_of_config

    cfg = load_config(args.config, overrides=args.overrides)
    _, task = task_of_config(cfg)
    if plotter is not None and not (task.takes_context and cfg.output.plots):
        plotter.close()  # the task draws its own figures, or none is wanted
        plotter = None
    if task.takes_context:  # it ends start-up itself, once its set-up is done
        extra = {"context": RunContext(t0, plotter, _collect_garbage_again)}
    else:  # tasks run for minutes to hours
        _collect_garbage_again()
        extra = {}
    summary = resolve(task.run)(cfg, output=args.output, threads=args.threads,
                                quiet=args.quiet, plot=not args.no_plot, **extra)
    if not args.quiet:
        print(summary)
    return 0


def _validate(args) -> int:
    from neurosim.config import load_config
    from neurosim.tasks import resolve, task_of_config

    cfg = load_config(args.config, overrides=args.overrides)
    name, task = task_of_config(cfg)
    if "energy" in type(cfg).model_fields and cfg.energy is not None:
        from neurosim.energy import resolve_profiles

        resolve_profiles(cfg.energy.hardware)  # unknown or invalid profiles fail here
    text = resolve(task.describe)(cfg) if task.describe is not None else name
    print(f"{cfg.name}: valid ({text})")
    return 0


def _plot(args) -> int:
    from neurosim.io import result_task
    from neurosim.tasks import resolve

    name, task = result_task(args.result)
    if task.plot is None:
        raise DataError(f"{args.result}: a {name} result has no plot "
                        "(its summary holds the numbers)")
    out = Path(args.output) if args.output else Path(args.result).with_suffix(".png")
    print(resolve(task.plot)(args.result, out))
    return 0


def _energy(args) -> int:
    from neurosim.energy import plot_comparison, resolve_profiles
    from neurosim.io import result_task
    from neurosim.tasks import resolve

    profiles = resolve_profiles(args.hardware)
    name, task = result_task(args.result)
    if task.energy is None:
        raise DataError(f"{args.result}: a {name} result has no energy report "
                        "(its run counts no work to price)")
    reports, text = resolve(task.energy)(args.result, profiles, samples=args.samples)
    print(text)
    if not args.no_plot:
        src = Path(args.result)
        out = Path(args.plot) if args.plot else src.with_name(f"{src.stem}_energy.png")
        print(f"plot:   {plot_comparison(reports, out)}")
    return 0


def _metrics(args) -> int:
    import json

    from neurosim.io import check_writable
    from neurosim.reservoir.measure import DriveSettings, format_table, load_target, measure

    if args.json:
        check_writable(Path(args.json))
    res = measure(load_target(args.config, args.overrides), args.metric,
                  DriveSettings(values=args.values))
    print(format_table(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=1))
        print(f"json:   {args.json}")
    return 0


def _collect_garbage_again() -> None:
    """End of start-up in the ``neurosim`` process (see :func:`console_main`)."""
    if not gc.isenabled():
        gc.freeze()  # what start-up made lives until exit
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "plot": _plot, "energy": _energy,
                "metrics": _metrics}
    if args.command != "run":  # _run does it when its work begins
        _collect_garbage_again()
    try:
        return handlers[args.command](args)
    except NeurosimError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def console_main() -> int:
    """The ``neurosim`` command: :func:`main` with the garbage collector
    paused through start-up.

    Start-up makes ~200,000 objects (numba, pydantic, h5py, the compiled
    kernels) that live until exit; the collector would scan them again and
    again (~0.1 s of a 1 s run) and once more at interpreter shutdown
    (~0.15 s).  So nothing is collected until the work begins
    (:func:`_collect_garbage_again`), and what is alive at the end is frozen,
    out of the shutdown's reach.
    """
    gc.disable()
    try:
        return main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    sys.exit(console_main())
