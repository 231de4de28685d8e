"""``neurosim run`` for ``task: lsm_classification`` configs."""

from __future__ import annotations


from neurosim.config import dump_config
from neurosim.config.lsm import LSMConfig
from neurosim.driver.checkpoints import CheckpointOptions, RunCheckpoints
from neurosim.io import check_writable, result_path
from neurosim.io.checkpoint import discard_checkpoint
from neurosim.reservoir.pipeline import run_lsm
from neurosim.reservoir.results import save_lsm


def run_task(cfg: LSMConfig, *, output: str | None, threads: int | None, quiet: bool,
             plot: bool, checkpoint: CheckpointOptions | None = None) -> str:
    """Run, save, plot; returns the summary text.

    ``checkpoint`` has the run write checkpoints beside its result (after the
    batch of samples that reaches each interval), or continue from one.
    """
    out = result_path(cfg, output)
    check_writable(out)
    profiles = []
    if cfg.energy is not None:  # resolve the profiles before any work starts
        from neurosim.energy import resolve_profiles

        profiles = resolve_profiles(cfg.energy.hardware)
    config_text = dump_config(cfg)
    checkpoints = (RunCheckpoints(checkpoint, out, "lsm_classification", config_text)
                   if checkpoint is not None and checkpoint.wanted else None)
    result = run_lsm(cfg, config_text, progress=not quiet, threads=threads,
                     checkpoints=checkpoints)
    energy_text = ""
    if profiles:
        from neurosim.reservoir.energy import LSMActivity, lsm_energy_text

        reports, energy_text = lsm_energy_text(LSMActivity.from_result(result), profiles)
        result.energy = {r.profile: r.to_dict() for r in reports}
    path = save_lsm(result, out)
    discard_checkpoint(path)
    plot_path = None
    if cfg.output.plots and plot:
        from neurosim.reservoir.plots import plot_lsm  # matplotlib: not before the run's guard

        plot_path = plot_lsm(result, path.with_suffix(".png"))
    t, c = result.timings, result.counters
    sample_rate = c["samples"] / max(t["samples_s"], 1e-12)
    event_rate = c["synaptic_events"] / max(t["samples_s"], 1e-12)
    lines = [
        f"{cfg.name}: {cfg.liquid.size} liquid neurons, {result.n_synapses:,} synapses, "
        f"rule {cfg.plasticity.rule}, {c['threads']} thread(s)",
        f"  test accuracy  {100 * result.softmax.test_accuracy:.2f} % softmax "
        f"(validation {100 * result.softmax.validation_accuracy:.2f} %, epoch "
        f"{result.softmax.best_epoch + 1}), {100 * result.ridge.test_accuracy:.2f} % ridge",
        f"  branching factor {result.branching_text()}",
        f"  initialisation {c['init_samples']:,} samples in {t['init_s']:.1f} s; "
        f"{c['samples']:,} samples in {t['samples_s']:.1f} s ({sample_rate:.1f} samples/s, "
        f"{event_rate:.3g} synaptic events/s); readout {t['readout_s']:.1f} s",
        f"  wall time {t['wall_s']:.1f} s",
        f"result: {path}",
    ]
    if plot_path is not None:
        lines.append(f"plot:   {plot_path}")
    if energy_text:
        lines += ["", energy_text]
    return "\n".join(lines)
