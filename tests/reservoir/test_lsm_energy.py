"""LSM work counts, their crossbar replay and per-sample energy, against hand counts.

The relay chains of test_plasticity fire every neuron exactly once (a
1000-step refractory period): input neurons at step 1, chain neuron ``i`` at
step ``1 + i``. With ``k = 2, m = 3`` the liquid is a_1=0, a_2=1, b_1=2,
b_2=3, b_3=4, inputs 5 and 6, and its synapses are 5->0, 6->2 (input) and
0->1, 2->3, 3->4, 1->4 (liquid): everything below is counted by hand from that.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurosim.cli import main
from neurosim.crossbar.activity import fabricated_tiles, tile_activity
from neurosim.energy import load_profile
from neurosim.reservoir import Dynamics, LiquidSimulator
from neurosim.reservoir.energy import LSMActivity, lsm_reports, phase_counts, recorded_counts
from neurosim.reservoir.pipeline import RecordedSpikes
from neurosim.reservoir.results import load_features

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_plasticity import chains  # noqa: E402

from test_fashion_mnist import write_pattern_dataset  # noqa: E402

STEPS = 7


def chain_run(rule: str):
    liquid, *_ = chains(2, 3)
    sim = LiquidSimulator(liquid, Dynamics(refractory=1000, rule=rule), seed=0)
    probs = np.ones((1, 2), np.float32)
    _, raster, tally = sim.run(probs, np.array([0]), STEPS, record=np.array([True]))
    inputs = sim.input_spikes(probs, np.array([0]), STEPS)
    return liquid, sim, np.concatenate([raster[0], inputs[0]], axis=1), tally


@pytest.mark.parametrize("rule", ["astro_stdp", "none"])
def test_kernel_counts_of_known_spikes(rule):
    liquid, sim, raster, tally = chain_run(rule)
    # The schedule the hand counts assume.
    assert {int(j): np.nonzero(raster[:, j])[0].tolist() for j in range(7)} == {
        0: [2], 1: [3], 2: [2], 3: [3], 4: [4], 5: [1], 6: [1]}
    # Weight updates: an input spike its 1 outgoing synapse; a liquid spike its
    # outgoing and incoming ones: (0->1, 5->0) 2, (1->4, 0->1) 2, (2->3, 6->2) 2,
    # (3->4, 2->3) 2, (none, 3->4 and 1->4) 2; + 2 inputs = 12.
    expected = {"liquid_spikes": 5, "input_spikes": 2, "input_synaptic_events": 2,
                "liquid_synaptic_events": 4, "weight_updates": 12 if rule != "none" else 0}
    assert tally == expected
    if rule != "none":  # the initialisation counts the same way
        assert sim.initialise(np.ones((1, 2), np.float32), np.array([0]), STEPS) == expected


def activity_of(liquid, raster, plastic=True, samples=1):
    recorded = RecordedSpikes.from_rasters([raster] * samples)
    counters = {"liquid_neurons": liquid.n_liquid, "steps": STEPS}
    return LSMActivity(counters, 1e-3, plastic, liquid.n_liquid, liquid.pre_ptr, liquid.post,
                       recorded)


def test_recorded_counts_and_crossbar_replay_by_hand():
    liquid, _, raster, tally = chain_run("astro_stdp")
    counts = recorded_counts(activity_of(liquid, raster, samples=3), tile_rows=2, tile_cols=2)
    assert counts.samples == 3 and counts.weight_updates == 3 * 12
    pops, projs = counts.counters["populations"], counts.counters["projections"]
    assert pops["liquid"] == {"neurons": 5, "spikes": 15, "neuron_updates": 3 * 5 * STEPS}
    assert pops["input"] == {"neurons": 2, "spikes": 6}
    assert projs["input_liquid"] == {"synapses": 2, "synaptic_events": 6}
    assert projs["liquid_liquid"] == {"synapses": 4, "synaptic_events": 12}
    # Tiles of 2 x 2. Input matrix 2 x 5: tiles (0,0) [5->0] and (0,1) [6->2]; step 1
    # drives both rows: 2 reads, 2 rows each, 2 columns each.
    # Liquid matrix 5 x 5: tiles (0,0) [0->1], (0,2) [1->4], (1,1) [2->3], (1,2) [3->4].
    # Step 2 drives rows 0 and 2, step 3 rows 1 and 3: per step tile rows 0 and 1,
    # each 2 tiles of 1 driven row, 2 + 1 columns (column 4 is an edge tile);
    # step 4 drives row 4, whose tile row holds no tile.
    hw = counts.counters["hardware"]
    per_sample = {"input_liquid": (2, 4, 4), "liquid_liquid": (8, 8, 12)}
    for name, (reads, rows, cols) in per_sample.items():
        assert hw[name]["crossbar_reads"] == 3 * reads
        assert hw[name]["activated_rows"] == hw[name]["dac_conversions"] == 3 * rows
        assert hw[name]["adc_conversions"] == hw[name]["digital_accumulations"] == 3 * cols
        assert hw[name]["bytes_moved"] == 3 * (4 * rows + 4 * cols)


def test_tile_activity_hand_case():
    # Matrix 3 x 5 on 2 x 2 tiles (grid 2 x 3); synapses 0->0, 0->4, 1->3, 2->4.
    present = fabricated_tiles([0, 0, 1, 2], [0, 4, 3, 4], 3, 5, 2, 2)
    np.testing.assert_array_equal(present, [[True, True, True], [False, False, True]])
    # Steps: {0, 1}, {2}, {}, {1, 2}.
    step_ptr = np.array([0, 2, 3, 3, 5])
    rows = np.array([0, 1, 2, 1, 2])
    # step 0: 3 tiles x 2 rows, columns 2 + 2 + 1; step 1: 1 tile, 1 row, 1 column;
    # step 3: tile row 0 as step 0 with 1 row, tile row 1 as step 1.
    assert tile_activity(step_ptr, rows, present, 2, 2, 5) == (3 + 1 + 3 + 1, 6 + 1 + 3 + 1,
                                                               5 + 1 + 5 + 1)


def test_per_sample_energy_is_counts_times_unit_energies():
    liquid, *_ = chains(2, 3)
    tallies = {"liquid_spikes": 1000, "input_spikes": 300, "input_synaptic_events": 4000,
               "liquid_synaptic_events": 25000, "weight_updates": 777}
    counters = {"liquid_neurons": 5, "samples": 4, "steps": 250, **tallies}
    activity = LSMActivity(counters, 1e-3, True, 5, liquid.pre_ptr, liquid.post, None)
    profile = load_profile("loihi")
    (report,), (counts,) = lsm_reports(activity, [profile])  # nothing recorded: all samples
    assert counts.basis == "samples" and counts.duration == pytest.approx(4 * 0.25)
    e = {k: c.value for k, c in profile.energy.items()}
    expected = (29000 * e["synaptic_events"] + 4 * 250 * 5 * e["neuron_updates"]
                + 1300 * e["spikes"]) / 4
    assert report.energy_per_sample == pytest.approx(expected, rel=1e-12)
    assert any("194 STDP weight updates per sample" in n for n in report.not_modelled)
    assert report.latency_per_sample == pytest.approx(report.latency / 4)
    text = report.format()
    assert "breakdown per sample" in text and "latency per sample" in text
    # The crossbar profile leaves synaptic work without crossbar counts unpriced.
    (xbar,), _ = lsm_reports(activity, [load_profile("rram_crossbar")])
    assert xbar.energy_per_sample == pytest.approx(
        4 * 250 * 5 * load_profile("rram_crossbar").energy["neuron_updates"].value / 4)
    assert any("without activated_rows" in n for n in xbar.not_modelled)
    init = phase_counts(LSMActivity({**counters, "init_samples": 2, "init_steps": 20,
                                     **{f"init_{k}": 2 * v for k, v in tallies.items()}},
                                    1e-3, True, 5, liquid.pre_ptr, liquid.post, None), "init")
    assert init.samples == 2 and init.counters["populations"]["liquid"]["neuron_updates"] == 200


TINY = """
task: lsm_classification
name: tiny
data: {{path: {path}, train: 60, validation: 20, test: 30}}
liquid: {{size: 27, grid: [3, 3, 3]}}
protocol: {{init_samples: 10, sample_duration: 40 ms}}
readout: {{epochs: 3}}
branching: {{samples: 6, window: 4 ms, margin: 2 ms}}
energy: {{hardware: [loihi, rram_crossbar, gpu]}}
output: {{dir: {out}, plots: false}}
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    write_pattern_dataset(folder, 120, 40, seed=1)
    cfg = folder / "tiny.yaml"
    cfg.write_text(TINY.format(path=folder, out=folder / "out"))
    return cfg, folder / "out" / "tiny.h5"


def test_lsm_run_prints_and_stores_energy_and_cli_reads_it(tiny_run, capsys):
    cfg, path = tiny_run
    assert main(["run", str(cfg)]) == 0
    text = capsys.readouterr().out
    assert "energy per sample over 6 recorded test samples" in text
    for name in ("loihi", "rram_crossbar", "gpu", "STDP weight updates"):
        assert name in text
    # The run's counts agree with its features: liquid spikes are the feature counts.
    feats = load_features(path)
    with h5py.File(path) as f:
        attrs = dict(f.attrs)
        stored = {p: f[f"energy/{p}"].attrs["energy_per_sample_J"] for p in f["energy"]}
        recorded_liquid = np.sum(f["recorded/neuron"][()] < 27)
    assert attrs["counter.liquid_spikes"] == sum(int(f.counts.sum()) for f in feats.values())
    assert recorded_liquid == int(feats["test"].counts[:6].sum())
    assert attrs["counter.synaptic_events"] == (attrs["counter.input_synaptic_events"]
                                                + attrs["counter.liquid_synaptic_events"])
    # `neurosim energy` on the LSM file: the same per-sample numbers.
    plot = path.with_name("e.png")
    assert main(["energy", str(path), "--hardware", "rram_crossbar", "--hardware", "loihi",
                 "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "energy per sample over 6 recorded test samples" in out and plot.is_file()
    from neurosim.energy import resolve_profiles
    from neurosim.reservoir.results import load_activity

    reports, _ = lsm_reports(load_activity(path), resolve_profiles(["rram_crossbar", "loihi"]))
    for r in reports:
        assert math.isclose(r.energy_per_sample, stored[r.profile], rel_tol=1e-12)
        assert r.breakdown["synaptic operations"] > 0
    assert reports[0].breakdown["crossbar reads"] > 0 and reports[0].breakdown["ADC/DAC"] > 0



def test_lsm_config_energy_profiles_are_validated(tiny_run, tmp_path, capsys):
    cfg, _ = tiny_run
    assert main(["validate", str(cfg)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(cfg.read_text().replace("hardware: [loihi,", "hardware: [no_such_chip,"))
    assert main(["validate", str(bad)]) != 0
    assert "no_such_chip" in capsys.readouterr().err
