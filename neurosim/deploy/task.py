"""``neurosim deploy`` (and ``neurosim run``) for ``task: deploy``: a trained network's
test samples on a backend, its accuracy next to the training's forward pass, and
``neurosim energy`` of the run per inference."""

from __future__ import annotations

import time
from pathlib import Path

import h5py

from neurosim.config import dump_config
from neurosim.config.deploy import DeployConfig
from neurosim.deploy.network import deploy_train
from neurosim.deploy.result import DeployResult, load_deploy, save_deploy
from neurosim.deploy.run import agreement, run_samples
from neurosim.errors import DataError
from neurosim.io import check_writable
from neurosim.threads import torch_threads

#: Why each other kind of result cannot be deployed (yet).
_NOT_DEPLOYABLE = {
    "convert": "a conversion result's ANN is not deployed onto the engine yet (its converted "
               "network runs in neurosim convert)",
    "network": "a network run's result is already a neurosim network: run its config with "
               "neurosim run --set backend=...",
}


def load_source(path: str):
    """The training result ``path`` holds; any other file is one :class:`DataError`."""
    from neurosim.io import open_result
    from neurosim.training.result import load_train

    if not Path(path).is_file():
        raise DataError(f"{path}: no such file (neurosim deploy takes a training result, "
                        "written by neurosim train)")
    if not h5py.is_hdf5(path):
        raise DataError(f"{path} is not a neurosim result file (not HDF5)")
    with open_result(path) as rf:
        task = rf.header.task
    if task != "train":
        why = _NOT_DEPLOYABLE.get(task, "only trained networks are deployed")
        raise DataError(f"{path} is a {task} result, not a trained network: {why}")
    return load_train(path)


def deploy(cfg: DeployConfig, threads: int | None = None) -> DeployResult:
    """Run ``cfg``: build the trained network on the engine, run its test samples."""
    from neurosim.training.loop import Samples, load_samples

    t0 = time.perf_counter()
    trained = load_source(cfg.source)
    dep = deploy_train(trained.config_text, trained.weights, name=trained.name)
    test = load_samples(dep.cfg)["test"]
    n = len(test.labels) if cfg.samples is None else min(cfg.samples, len(test.labels))
    test = Samples(test.images[:n], test.labels[:n], test.indices[:n])
    with torch_threads(threads or cfg.threads):
        t1 = time.perf_counter()
        run = run_samples(dep, trained.weights, test, cfg.backend, cfg, threads=threads or cfg.threads)
        t2 = time.perf_counter()
    meta = {"source": str(cfg.source), "source_name": trained.name,
            "steps": dep.steps, "training_steps": dep.cfg.steps,
            "encoding": dep.cfg.encoding.kind, "threads": threads or cfg.threads,
            "train_test_accuracy_count": float(trained.test["accuracy_count"]),
            "train_test_accuracy_membrane": float(trained.test["accuracy_membrane"])}
    return DeployResult(cfg.name, dump_config(cfg), cfg.backend, agreement(run), run.labels,
                        run.counts, run.membrane, run.reference_counts, run.reference_membrane,
                        run.counters, meta,
                        {"setup_s": t1 - t0, "sim_s": run.sim_s, "reference_s": run.reference_s,
                         "wall_s": t2 - t0})


def summary(result: DeployResult, path: Path) -> str:
    """Accuracies side by side, the identical-count fraction, where the result went."""
    a = result.agreement
    return "\n".join([
        f"{result.name}: {result.samples} test samples of {result.meta['source_name']} on "
        f"backend {result.backend} ({result.meta['steps']} engine steps per sample)",
        f"  deployed:        {100 * a['accuracy_count']:.2f}% by spike count, "
        f"{100 * a['accuracy_membrane']:.2f}% by summed membrane",
        f"  training forward: {100 * a['reference_accuracy_count']:.2f}% by spike count, "
        f"{100 * a['reference_accuracy_membrane']:.2f}% by summed membrane",
        f"  identical output spike counts: {100 * a['identical_counts']:.2f}% of samples; "
        f"same prediction: {100 * a['same_prediction']:.2f}%",
        f"  wall time {result.timings['wall_s']:.1f} s ({result.timings['sim_s']:.1f} s on the "
        "backend)",
        f"result: {path}"])


def run_task(cfg: DeployConfig, *, output: str | None, threads: int | None, quiet: bool,
             plot: bool) -> str:
    """Deploy and save; returns the summary text."""
    out = Path(output) if output else Path(cfg.output.dir) / f"{cfg.name}.h5"
    check_writable(out)
    result = deploy(cfg, threads)
    return summary(result, save_deploy(result, out))


def describe(cfg: DeployConfig) -> str:
    """``neurosim validate``'s text; a source that exists is checked to be a training
    result (one not written yet is said so: it may come from a training still to run)."""
    if not Path(cfg.source).exists():
        return f"deploy {cfg.source} (not written yet) on {cfg.backend}"
    load_source(cfg.source)
    return f"deploy {cfg.source} on {cfg.backend}"


def file_energy(path, profiles, *, samples: int = 1):
    """``neurosim energy`` of a deployment: per test inference on each profile.
    ``samples`` is not used: the result knows how many samples its counters cover."""
    from neurosim.energy import compare_table, estimate

    result = load_deploy(path)
    n = result.samples
    reports = [estimate(result.counters, p, samples=n) for p in profiles]
    a = result.agreement
    lines = [f"{result.name}: energy per inference over {n} test samples on backend "
             f"{result.backend} ({100 * a['accuracy_count']:.2f} % by spike count)",
             compare_table(reports)]
    return reports, "\n".join(lines)
