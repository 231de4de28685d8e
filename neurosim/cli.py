"""Command line: ``neurosim run | validate | train | convert | deploy | sweep | rerun | plot | energy | nir | metrics``.

Every user error ends as one line ``error: ...`` on stderr and exit code 2;
nothing is written unless the run completes, and no existing result is
overwritten unless asked (``run --force``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import signal
import sys
import time
from pathlib import Path

from neurosim.errors import ConfigError, DataError, NeurosimError, OutputError

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
    run.add_argument("--output", "-o", help="result file (default: <output.dir>/<name>.h5, "
                                            "output.dir being results/ unless the config says "
                                            "otherwise); the plot goes beside it as <stem>.png")
    run.add_argument("--force", "-f", action="store_true",
                     help="overwrite an existing result file and plot (without it, a run whose "
                          "files exist stops before it starts)")
    run.add_argument("--threads", type=_positive_int, help="threads (overrides the config)")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    run.add_argument("--no-plot", action="store_true", help="do not write the raster/rate PNG")
    run.add_argument("--checkpoint-every", metavar="TIME",
                     help="write a checkpoint every TIME of simulated time (e.g. '1 s'; an LSM "
                          "run after the batch of samples that reaches it), beside the result "
                          "as <stem>.ckpt; removed once the result is written")
    run.add_argument("--checkpoint-wall", metavar="TIME",
                     help="write a checkpoint every TIME of wall-clock time (e.g. '600 s')")
    run.add_argument("--resume", action="store_true",
                     help="continue a killed run from its checkpoint (same config: the result "
                          "is the one an uninterrupted run writes)")
    run.add_argument("--distributed", action="store_true",
                     help="split one network over the ranks of an MPI job (mpirun -n R neurosim "
                          "run ... --distributed): the same result file as one process")

    val = sub.add_parser("validate", help="check a config without running it")
    _add_config_args(val)

    train = sub.add_parser("train", help="train a spiking network (a task: train config) with "
                                         "surrogate gradients, checkpointing every epoch")
    _add_config_args(train)
    train.add_argument("--output", "-o", help="result file (default: results/<name>.h5); "
                                              "checkpoints go beside it as <name>.ckpt")
    train.add_argument("--threads", type=_positive_int, help="threads (overrides the config)")
    train.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    train.add_argument("--resume", action="store_true",
                       help="continue from the checkpoint beside the result file (after a "
                            "killed run, or with more epochs; the result is rewritten)")
    train.add_argument("--force", "-f", action="store_true",
                       help="start again over an existing result file")

    convert = sub.add_parser("convert", help="train or load a ReLU ANN, convert it to an IF "
                                             "spiking network (a task: convert config) and "
                                             "report accuracy against the steps")
    _add_config_args(convert)
    convert.add_argument("--output", "-o", help="result file (default: <output.dir>/<name>.h5)")
    convert.add_argument("--force", "-f", action="store_true",
                         help="overwrite an existing result file")
    convert.add_argument("--threads", type=_positive_int, help="threads (overrides the config)")
    convert.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")

    deploy = sub.add_parser("deploy", help="run a trained network's test samples on a "
                                           "backend and compare with the training's forward pass")
    deploy.add_argument("result", help="a training result (written by neurosim train)")
    deploy.add_argument("--backend", default="cpu", help="cpu, torch or crossbar (default cpu)")
    deploy.add_argument("--samples", type=_positive_int,
                        help="the first N test samples (default: the whole test split)")
    deploy.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY.PATH=VALUE",
                        help="a deploy setting, e.g. --set crossbar.ideal=true (repeatable)")
    deploy.add_argument("--output", "-o", help="result file (default: "
                                               "results/<stem>_<backend>.h5)")
    deploy.add_argument("--force", "-f", action="store_true",
                        help="overwrite an existing result file")
    deploy.add_argument("--threads", type=_positive_int, help="threads (default 1)")
    deploy.add_argument("--quiet", "-q", action="store_true", help="no summary")

    from neurosim import rerun
    from neurosim.sweep import command as sweep_command

    sweep = sub.add_parser("sweep", help="run a config (or a sweep file) over a grid of values "
                                         "and seeds on Dask; one table of the results")
    _add_config_args(sweep)
    sweep_command.add_arguments(sweep, _positive_int)
    rerun.add_arguments(sub.add_parser("rerun", help="repeat a run from its result file; "
                                                     "exit 0 if bit-identical, 1 if not"))

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

    _add_nir_args(sub)

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


def _add_nir_args(sub) -> None:
    nir = sub.add_parser("nir", help="NIR graphs: export a network or trained result, import a "
                                     "graph as a network config")
    way = nir.add_subparsers(dest="nir_command", required=True)
    export = way.add_parser("export", help="write a network config, a network run's result or "
                                           "a trained result as a NIR graph (HDF5)")
    _add_config_args(export)
    export.add_argument("--output", "-o", required=True, help="the .nir file to write")
    export.add_argument("--dt", help="step a trained result's time constants are written for "
                                     "(default 1 ms; a network config has its own)")
    export.add_argument("--force", "-f", action="store_true", help="overwrite the output")
    imp = way.add_parser("import", help="turn a NIR graph into a network config (YAML) that "
                                        "neurosim run runs")
    imp.add_argument("graph", help="a NIR graph file (.nir)")
    imp.add_argument("--output", "-o", required=True, help="the YAML config to write")
    imp.add_argument("--dt", help="the step to read the graph with (default: the graph's "
                                  "metadata dt; snnTorch's exporter assumes 0.1 ms)")
    imp.add_argument("--integration", choices=("euler", "exact"), default="euler",
                     help="forward Euler (as the reference implementations read NIR), or exact "
                          "integration of the linear dynamics over each step")
    imp.add_argument("--steps", type=_positive_int,
                     help="graph steps to run (default: the input's length)")
    imp.add_argument("--input", help="input spikes: a .npy array (steps, *shape) of 0/1 for the "
                                     "graph's one Input node, or a .npz of them by node name")
    imp.add_argument("--force", "-f", action="store_true", help="overwrite the output")


def _nir(args) -> int:
    import importlib.util


    if importlib.util.find_spec("nir") is None:
        raise ConfigError("neurosim nir needs the nir package: pip install 'neurosim[nir]'")
    from neurosim.nir import files
    from neurosim.units import parse_quantity

    out = Path(args.output)
    _check_outputs(out, None, args.force)
    dt = parse_quantity(args.dt, "s") if args.dt else None
    if args.nir_command == "export":
        _not_the_source(out, args.config)
        graph = files.source_graph(args.config, args.overrides, dt)
        print(f"{len(graph.nodes)} NIR nodes, {len(graph.edges)} edges: {files.write_graph(graph, out)}")
        return 0
    from neurosim.config import validate_config
    from neurosim.nir.importer import import_graph

    _not_the_source(out, args.graph)
    inputs = files.read_inputs(args.input) if args.input else {}
    graph = files.read_graph(args.graph)
    if not isinstance(inputs, dict):
        names = [n for n, node in graph.nodes.items() if type(node).__name__ == "Input"]
        if len(names) != 1:
            raise DataError(f"{args.input}: one array, but the graph has {len(names)} Input "
                            "nodes; give a .npz with one array per Input node")
        inputs = {names[0]: inputs}
    imported = import_graph(graph, dt, args.integration, args.steps, inputs, name=out.stem)
    validate_config(imported.config)  # what neurosim run will check, before writing
    files.write_config(imported.config, out)
    print(f"{imported.config['description']}\nconfig: {out}")
    return 0


def _run(args) -> int:
    from neurosim.plotting_worker import PlotWorker

    t0 = time.perf_counter()
    # Started before numba and pydantic are imported, so that matplotlib's
    # import overlaps the whole run (see there); stopped if no PNG is wanted.
    no_plot = args.no_plot or (args.distributed and _other_rank())  # rank 0 draws
    with contextlib.nullcontext() if no_plot else PlotWorker() as plotter:
        return _run_config(args, plotter, t0)


def _other_rank() -> bool:
    from neurosim.distributed.run import quiet_rank

    return quiet_rank()


def _run_config(args, plotter, t0: float) -> int:
    """Every config, whatever its task (:data:`neurosim.tasks.TASKS`)."""
    from neurosim.config import load_config
    from neurosim.io import result_path
    from neurosim.io.lock import writer_lock
    from neurosim.tasks import task_of_config

    cfg = load_config(args.config, overrides=args.overrides)
    name, task = task_of_config(cfg)
    out = result_path(cfg, args.output)
    if args.distributed:
        from neurosim.distributed.run import rank_zero, world

        if name != "network":
            raise ConfigError(f"--distributed: only network runs are distributed, not {name} runs")
        lock = rank_zero(world(), lambda: writer_lock(out))  # one lock, held by rank 0
    else:
        lock = writer_lock(out)
    with lock:
        return _run_task(args, cfg, name, task, out, plotter, t0)


def _run_task(args, cfg, name: str, task, out: Path, plotter, t0: float) -> int:
    """:func:`_run_config` once its output is this run's alone."""
    from neurosim.io import plot_path
    from neurosim.tasks import RunContext, resolve

    checkpoint = _checkpoint_options(args, name, resolve(task.run), out)
    section = getattr(cfg, "output", None)  # a task's config may have none
    draws = (task.plot is not None and section is not None and section.plots
             and not args.no_plot)
    _check_outputs(out, plot_path(out) if draws else None, args.force)
    if plotter is not None and not (task.takes_context and cfg.output.plots):
        plotter.close()  # the task draws its own figures, or none is wanted
        plotter = None
    if task.takes_context:  # it ends start-up itself, once its set-up is done
        extra = {"context": RunContext(t0, plotter, _collect_garbage_again)}
    else:  # tasks run for minutes to hours
        _collect_garbage_again()
        extra = {}
    if checkpoint.wanted:
        extra["checkpoint"] = checkpoint
    if getattr(args, "distributed", False):
        extra["distributed"] = True
    summary = resolve(task.run)(cfg, output=str(out), threads=args.threads,
                                quiet=args.quiet, plot=not args.no_plot, **extra)
    if not args.quiet:
        print(summary)
    return 0


def _checkpoint_options(args, task_name: str, run, out: Path):
    """The run's checkpoint options, refused where its task does not checkpoint; a
    fresh run does not start over a killed run's checkpoint unless forced."""
    import inspect

    from neurosim.driver.checkpoints import CheckpointOptions
    from neurosim.io.checkpoint import checkpoint_path

    options = CheckpointOptions.parse(args.checkpoint_every, args.checkpoint_wall, args.resume)
    checkpoints = "checkpoint" in inspect.signature(run).parameters
    if options.wanted and not checkpoints:
        raise ConfigError(f"--checkpoint-every, --checkpoint-wall and --resume: a {task_name} "
                          "run does not checkpoint (a training run checkpoints every epoch: "
                          "neurosim train --resume)")
    ckpt = checkpoint_path(out)
    # A training run's own checkpoint outlives its result (more epochs later).
    if checkpoints and not args.resume and not args.force and ckpt.exists():
        raise OutputError(f"{ckpt} exists, the checkpoint of a run that did not finish; add "
                          "--resume to continue it, or --force to start again")
    return options


def _check_outputs(result: Path, plot: Path | None, force: bool) -> None:
    """Before a run: its files can be written where they go, and none is overwritten unasked."""
    from neurosim.io import check_writable

    if result.suffix.lower() == ".png":
        # The run's plot, and `neurosim plot` by default, go to <stem>.png: over the result.
        raise OutputError(f"result file {result}: a result must not end in .png, the suffix "
                          "of the plot drawn beside it; choose another --output")
    paths = [result] if plot is None else [result, plot]
    for path in paths:
        check_writable(path)  # refuses folders, links, FIFOs and devices, even with --force
    existing = [str(path) for path in paths if path.exists()]
    if existing and not force:
        raise OutputError(f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                          "choose another --output, or add --force to overwrite")


def _not_the_source(out: Path, source: str) -> None:
    """Refuse to write a derived file over the file it is made from."""
    if out.resolve() == Path(source).resolve():
        raise OutputError(f"{out} is the file being read; choose another output path")


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


def _config_of_task(args, task: str):
    """The config ``neurosim <task>`` was given; one of another task is one error."""
    from neurosim.config import load_config
    from neurosim.tasks import task_of_config

    cfg = load_config(args.config, overrides=args.overrides)
    name, _ = task_of_config(cfg)
    if name != task:
        raise ConfigError(f"neurosim {task} needs a 'task: {task}' config; {cfg.name} is a "
                          f"{name} config (run it with neurosim run)")
    return cfg


def _train(args) -> int:
    cfg = _config_of_task(args, "train")
    from neurosim.io import result_path
    from neurosim.io.lock import writer_lock
    from neurosim.training.task import train_task

    out = result_path(cfg, args.output)
    with writer_lock(out):
        if not args.resume:  # a resumed run continues what it wrote
            _check_outputs(out, None, args.force)
        summary = train_task(cfg, output=str(out), threads=args.threads, quiet=args.quiet,
                             resume=args.resume)
    if not args.quiet:
        print(summary)
    return 0


def _convert(args) -> int:
    """``neurosim run`` of a ``task: convert`` config, refusing any other kind."""
    _config_of_task(args, "convert")
    argv = ["run", args.config, "--no-plot", *(f"--set={item}" for item in args.overrides)]
    argv += [f"--output={args.output}"] if args.output else []
    argv += [f"--threads={args.threads}"] if args.threads else []
    argv += ["--force"] * args.force + ["--quiet"] * args.quiet
    return _run(_parser().parse_args(argv))


def _deploy(args) -> int:
    """``neurosim run`` of the ``task: deploy`` config the arguments describe."""
    import yaml

    from neurosim.config import load_config_text

    stem = Path(args.result).stem
    raw = {"task": "deploy", "name": f"{stem}_{args.backend}", "source": args.result,
           "backend": args.backend}
    if args.samples:
        raw["samples"] = args.samples
    cfg = load_config_text(yaml.safe_dump(raw), name=raw["name"], overrides=args.overrides)
    out = Path(args.output) if args.output else Path(cfg.output.dir) / f"{cfg.name}.h5"
    _not_the_source(out, args.result)
    _check_outputs(out, None, args.force)
    from neurosim.deploy.task import run_task

    summary = run_task(cfg, output=str(out), threads=args.threads, quiet=args.quiet, plot=False)
    if not args.quiet:
        print(summary)
    return 0


def _sweep(args) -> int:
    from neurosim.sweep.command import main as sweep

    return sweep(args)


def _rerun(args) -> int:
    from neurosim.rerun import main as rerun

    return rerun(args)


def _plot(args) -> int:
    from neurosim.io import plot_path, result_task
    from neurosim.tasks import resolve

    name, task = result_task(args.result)
    if task.plot is None:
        raise DataError(f"{args.result}: a {name} result has no plot "
                        "(its summary holds the numbers)")
    out = Path(args.output) if args.output else plot_path(args.result)
    _not_the_source(out, args.result)
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
        _not_the_source(out, args.result)
        print(f"plot:   {plot_comparison(reports, out)}")
    return 0


def _metrics(args) -> int:
    import json

    from neurosim.io import check_writable
    from neurosim.io.hdf5 import atomic_path
    from neurosim.reservoir.measure import DriveSettings, format_table, load_target, measure

    if args.json:
        _not_the_source(Path(args.json), args.config)
        check_writable(Path(args.json))
    res = measure(load_target(args.config, args.overrides), args.metric,
                  DriveSettings(values=args.values))
    print(format_table(res))
    if args.json:
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(res, indent=1))
        print(f"json:   {args.json}")
    return 0


def _collect_garbage_again() -> None:
    """End of start-up in the ``neurosim`` process (see :func:`console_main`)."""
    if not gc.isenabled():
        gc.freeze()  # what start-up made lives until exit
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "train": _train, "convert": _convert,
                "deploy": _deploy, "sweep": _sweep, "rerun": _rerun, "plot": _plot,
                "energy": _energy, "metrics": _metrics, "nir": _nir}
    if args.command != "run":  # _run does it when its work begins
        _collect_garbage_again()
    try:
        return handlers[args.command](args)
    except NeurosimError as err:
        if not (getattr(args, "distributed", False) and _other_rank()):  # rank 0 reports
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

    SIGTERM (a scheduler's or ``kill``'s default) ends the command as an
    exception would: temporary files are removed, the output's lock is
    released and the plot worker stopped before it exits with 143.
    """
    signal.signal(signal.SIGTERM, _terminated)
    gc.disable()
    try:
        return main()
    finally:
        gc.freeze()


def _terminated(signum, frame) -> None:
    print("terminated", file=sys.stderr)
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(console_main())
