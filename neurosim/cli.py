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

    plot = sub.add_parser("plot", help="raster + rate PNG of a result file")
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


def _summary(result, path: Path, plot_path: Path | None, wall_s: float) -> str:
    meta = result.metadata
    lines = [
        f"{meta['n_neurons']:,} neurons, {meta['n_synapses']:,} synapses, "
        f"{result.duration:g} s simulated (dt {result.dt * 1e3:g} ms, seed {result.seed}, "
        f"{meta['backend']}, {meta['precision']}, {meta['threads']} thread(s))",
    ]
    for name, info in result.populations.items():
        counters = result.counters["populations"][name]
        lines.append(f"  {name:<12} {info['size']:>9,} {info['model']:<16} "
                     f"{counters['spikes']:>11,} spikes  {result.mean_rate(name):8.3f} Hz")
    lines.append(f"build {meta['build_s']:.3f} s, simulate {meta['sim_s']:.3f} s "
                 f"({result.duration / max(meta['sim_s'], 1e-12):.1f}x real time), "
                 f"wall {wall_s:.2f} s")
    lines.append(f"result: {path}")
    if plot_path is not None:
        lines.append(f"plot:   {plot_path}")
    return "\n".join(lines)


def _run(args) -> int:
    from neurosim.plotting_worker import PlotWorker

    t0 = time.perf_counter()
    # Started before numba and pydantic are imported, so that matplotlib's
    # import overlaps the whole run (see there); stopped if no PNG is wanted.
    with contextlib.nullcontext() if args.no_plot else PlotWorker() as plotter:
        return _run_config(args, plotter, t0)


def _run_config(args, plotter, t0: float) -> int:
    from neurosim.backends import check_backend
    from neurosim.config import load_config
    from neurosim.driver.simulation import Simulation
    from neurosim.driver.startup import load_numba_registries_without_blas_probe
    from neurosim.io import check_writable, save
    from neurosim.network import build_network

    cfg = load_config(args.config, overrides=args.overrides)
    task = getattr(cfg, "task", None) is not None
    if plotter is not None and (task or not cfg.output.plots):
        plotter.close()  # tasks draw their own figures
        plotter = None
    if task:
        return _run_task(cfg, args)
    out = Path(args.output) if args.output else Path(cfg.output.dir) / f"{cfg.name}.h5"
    check_writable(out)
    check_backend(cfg)
    profiles = []
    if cfg.energy is not None:  # resolve the profiles before any work starts
        from neurosim.energy import resolve_profiles

        profiles = resolve_profiles(cfg.energy.hardware)
    load_numba_registries_without_blas_probe()  # ~0.25 s of start-up (see there)
    network = build_network(cfg)
    sim = Simulation(network, cfg, threads=args.threads)
    _collect_garbage_again()
    result = sim.run(progress=not args.quiet)
    reports = _energy_reports(result, profiles)
    result.energy = {r.profile: r.to_dict() for r in reports}
    path = save(result, out)
    plot_path = plotter.plot(result, path.with_suffix(".png")) if plotter is not None else None
    if not args.quiet:
        print(_summary(result, path, plot_path, time.perf_counter() - t0))
        if reports:
            print(_energy_text(reports))
    return 0


def _energy_reports(result, profiles, samples: int = 1):
    if not profiles:  # most runs: spare the import of neurosim.energy (and matplotlib)
        return []
    from neurosim.energy import estimate_result

    return [estimate_result(result, profile, samples=samples) for profile in profiles]


def _energy_text(reports) -> str:
    from neurosim.energy import compare_table

    return "\n\n".join([*(r.format() for r in reports), compare_table(reports)])


def _run_task(cfg, args) -> int:
    """Configs with a ``task`` key (the table of neurosim.tasks)."""
    _collect_garbage_again()  # tasks run for minutes to hours
    from neurosim.tasks import TASKS, resolve

    summary = resolve(TASKS[cfg.task].run)(cfg, output=args.output, threads=args.threads,
                                           quiet=args.quiet, plot=not args.no_plot)
    if not args.quiet:
        print(summary)
    return 0


def _validate(args) -> int:
    from neurosim.backends import check_backend
    from neurosim.config import load_config

    cfg = load_config(args.config, overrides=args.overrides)
    if cfg.energy is not None:
        from neurosim.energy import resolve_profiles

        resolve_profiles(cfg.energy.hardware)  # unknown or invalid profiles fail here
    if getattr(cfg, "task", None) is not None:
        print(f"{cfg.name}: valid ({cfg.task})")
        return 0
    check_backend(cfg)
    sizes = ", ".join(f"{n} {cfg.population_size(n)}" for n in cfg.populations)
    print(f"{cfg.name}: valid ({len(cfg.populations)} populations: {sizes}; "
          f"{len(cfg.projections)} projections)")
    return 0


def _plot(args) -> int:
    from neurosim.io import load
    from neurosim.plotting import plot_result

    result = load(args.result)
    out = Path(args.output) if args.output else Path(args.result).with_suffix(".png")
    print(plot_result(result, out))
    return 0


def _energy(args) -> int:
    from neurosim.energy import plot_comparison, resolve_profiles
    from neurosim.io import load, result_format
    from neurosim.tasks import resolve, task_of_format

    profiles = resolve_profiles(args.hardware)
    task = task_of_format(result_format(args.result))  # a task's file, or a network run's
    if task is not None:
        name, entry = task
        if entry.energy is None:
            raise DataError(f"{args.result}: a {name} result has no energy report "
                            "(its summary prices the run)")
        reports, text = resolve(entry.energy)(args.result, profiles)
        print(text)
    else:
        reports = _energy_reports(load(args.result), profiles, samples=args.samples)
        print(_energy_text(reports))
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
