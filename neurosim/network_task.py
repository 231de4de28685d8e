"""The network task (configs without a ``task`` key): build, simulate, save, plot, price.

Its entry in :data:`neurosim.tasks.TASKS` names the functions here; the
result file is :mod:`neurosim.io.network`'s.  Everything heavy is imported
inside the functions, so that ``neurosim run`` forks its plot worker before
numba and pydantic load (:mod:`neurosim.plotting_worker`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from neurosim.tasks import RunContext


def run_task(cfg, *, output: str | None, threads: int | None, quiet: bool, plot: bool,
             context: RunContext | None = None, checkpoint=None, distributed: bool = False) -> str:
    """Run ``cfg``, save its result (and PNG), return the summary text ("" if ``quiet``).

    From the command line, ``context`` holds its plot worker (None: no PNG) and its
    start; without one, the PNG (if ``plot`` and ``output.plots``) is drawn here.
    ``checkpoint`` (:class:`~neurosim.driver.checkpoints.CheckpointOptions`) has
    the run write checkpoints beside its result, or continue from one.
    ``distributed`` (or a ``distributed`` section) splits the run over the
    ranks of an MPI job (:mod:`neurosim.distributed.run`).
    """
    from neurosim.backends import check_backend
    from neurosim.config import dump_config
    from neurosim.driver.checkpoints import RunCheckpoints
    from neurosim.driver.simulation import Simulation
    from neurosim.driver.startup import load_numba_registries_without_blas_probe
    from neurosim.io import check_writable, result_path
    from neurosim.io.spool import discard_spool, spool_folder
    from neurosim.network import build_network

    if context is None:
        context = RunContext(started=time.perf_counter(), plotter=_InProcess()
                             if plot and cfg.output.plots else None)
    out = result_path(cfg, output)
    check_writable(out)
    check_backend(cfg)
    profiles = []
    if cfg.energy is not None:  # resolve the profiles before any work starts
        from neurosim.energy import resolve_profiles

        profiles = resolve_profiles(cfg.energy.hardware)
    if distributed or cfg.distributed is not None:
        from neurosim.distributed.run import run_distributed

        load_numba_registries_without_blas_probe()
        return run_distributed(cfg, out, threads=threads, quiet=quiet, context=context,
                               profiles=profiles, checkpoint=checkpoint)
    # A checkpoint to resume is read and checked before any work starts.
    checkpoints = (RunCheckpoints(checkpoint, out, "network", dump_config(cfg))
                   if checkpoint is not None and checkpoint.wanted else None)
    load_numba_registries_without_blas_probe()  # ~0.25 s of start-up (see there)
    network = build_network(cfg)
    sim = Simulation(network, cfg, threads=threads, spool=spool_folder(out))
    try:
        if checkpoints is not None and checkpoints.saved is not None:
            sim.restore(checkpoints.saved)
        context.startup_over()
        result = sim.finish(progress=not quiet, checkpoints=checkpoints)
        return save_and_report(result, out, profiles, context, quiet)
    except BaseException:
        if checkpoints is None:  # else the spool is the checkpoint's, for --resume
            discard_spool(out)
        raise


def save_and_report(result, out, profiles, context: RunContext, quiet: bool) -> str:
    """Price a finished run, save it (its checkpoint is then obsolete), draw its PNG;
    the summary text ("" if ``quiet``)."""
    from neurosim.io import save
    from neurosim.io.checkpoint import discard_checkpoint
    from neurosim.io.spool import discard_spool

    reports = energy_reports(result, profiles)
    result.energy = {r.profile: r.to_dict() for r in reports}
    path = save(result, out)
    discard_checkpoint(path)
    discard_spool(path)  # its maps in result stay readable
    plotter = context.plotter
    plot_path = None
    if plotter is not None:
        shown, title = _plotted(result)
        plot_path = plotter.plot(shown, path.with_suffix(".png"), title=title)
    if quiet:
        return ""
    text = summary(result, path, plot_path, time.perf_counter() - context.started)
    return f"{text}\n{energy_text(reports)}" if reports else text


#: At most about this many spikes are drawn in the raster of a run recorded to
#: disk, the first ones: all would be read into memory to be sent to the plot worker.
PLOTTED_SPIKES = 2_000_000


def _plotted(result) -> tuple:
    """What the PNG of ``result`` is drawn from, and the raster's title.

    Traces, astrocytes and weights are not drawn, so they are not sent to the
    plot worker (a run recorded to disk would read them into memory to
    pickle them).  Of such a run's spikes (memory maps), those up to the time
    its first :data:`PLOTTED_SPIKES` reached are sent.
    """
    from dataclasses import replace

    import numpy as np

    from neurosim.result import SpikeRecord

    drawn = replace(result, traces={}, astrocytes={}, weights={})
    records = result.spikes.values()
    share = PLOTTED_SPIKES // max(len(records), 1)
    until = min((float(r.times[share]) for r in records
                 if isinstance(r.times, np.memmap) and r.count > share), default=None)
    if until is None:
        return drawn, "spikes"
    drawn.spikes = {name: SpikeRecord(*(np.asarray(a[:np.searchsorted(r.times, until)])
                                        for a in (r.times, r.indices)))
                    for name, r in result.spikes.items()}
    return drawn, f"spikes (up to {until:.4g} s)"


class _InProcess:
    """A plotter that draws in this process (a run without the command line's worker)."""

    @staticmethod
    def plot(result, path: str | os.PathLike, title: str = "spikes") -> Path:
        from neurosim.plotting import plot_result

        return plot_result(result, path, title=title)


def summary(result, path: Path, plot_path: Path | None, wall_s: float) -> str:
    """Sizes, spikes and rates per population, timings, where the files went."""
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


def describe(cfg) -> str:
    """``neurosim validate``: the backend and device are available; sizes."""
    from neurosim.backends import check_backend

    check_backend(cfg)
    sizes = ", ".join(f"{n} {cfg.population_size(n)}" for n in cfg.populations)
    return f"{len(cfg.populations)} populations: {sizes}; {len(cfg.projections)} projections"


def energy_reports(result, profiles, samples: int = 1):
    """One :class:`~neurosim.energy.EnergyReport` per profile."""
    if not profiles:  # most runs: spare the import of neurosim.energy (and matplotlib)
        return []
    from neurosim.energy import estimate_result

    return [estimate_result(result, profile, samples=samples) for profile in profiles]


def energy_text(reports) -> str:
    """Each report, then the table comparing them."""
    from neurosim.energy import compare_table

    return "\n\n".join([*(r.format() for r in reports), compare_table(reports)])


def file_energy(path: str | os.PathLike, profiles, *, samples: int = 1):
    """``neurosim energy`` of a saved network run: its counters over ``samples`` samples."""
    from neurosim.io import load

    reports = energy_reports(load(path), profiles, samples=samples)
    return reports, energy_text(reports)


def plot_file(path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """``neurosim plot`` of a saved network run: the raster/rate PNG."""
    from neurosim.io import load
    from neurosim.plotting import plot_result

    return plot_result(load(path), out)
