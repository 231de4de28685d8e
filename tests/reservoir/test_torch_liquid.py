"""The liquid's per-sample phase on torch against the numba kernels and the reference update.

Float64: the torch run does the numba kernel's operations in the same order,
so the spike counts of :func:`neurosim.reservoir.kernels.simulate_sample`
(compiled for float64 arrays here) must come out bit for bit, for fixed
weights, STDP and the astrocyte rule.  Float32 (the default): the numba
kernels compute in float64 and round when they store, torch rounds every
operation, so a few threshold crossings may differ; the fraction of identical
per-neuron counts is tested, and the LSM accuracy through the whole protocol.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from neurosim.backends import torch_kernels as tk
from neurosim.config import dump_config, load_config_text
from neurosim.data import rate_spikes
from neurosim.errors import ConfigError
from neurosim.network.random import uniform
from neurosim.reservoir import Dynamics, LiquidSimulator, LiquidSpec, build_liquid
from neurosim.reservoir.kernels import simulate_sample
from neurosim.reservoir.liquid import INH
from neurosim.reservoir.pipeline import run_lsm
from neurosim.reservoir.simulate import active_inputs, sample_keys
from neurosim.reservoir.torch_simulate import TorchLiquidSimulator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_lsm_pipeline import SMALL, dataset  # noqa: E402,F401  (fixture)
from test_reference_dynamics import reference_raster  # noqa: E402

SEED = 9
STEPS = 100
RULES = ("none", "stdp", "astro_stdp")


@pytest.fixture(scope="module")
def liquid():
    return build_liquid(LiquidSpec(grid=(5, 5, 5), w_init=2.0), seed=4)


@pytest.fixture(scope="module")
def probs():
    rng = np.random.default_rng(0)
    return (rng.random((5, 784)) * 0.2 * (rng.random((5, 784)) < 0.5)).astype(np.float32)


def numba_float64(liquid, dyn, probs, ids, steps):
    """Counts of the numba kernel on float64 arrays, each sample from the initial weights."""
    ptr, idx = active_inputs(probs)
    keys = sample_keys(SEED, ids)
    n, n_total = liquid.n_liquid, liquid.n_total
    out = []
    for s in range(len(probs)):
        counts = np.zeros(n_total, np.int32)  # every neuron's spikes, liquid first
        simulate_sample(
            liquid.weight.astype(np.float64), liquid.pre_ptr, liquid.post, liquid.in_ptr,
            liquid.in_syn, liquid.in_pre, liquid.kind != INH, liquid.w_lo, liquid.w_hi, n,
            probs[s], idx[ptr[s]:ptr[s + 1]], keys[s], steps, *dyn.neuron_args(),
            dyn.plastic_tuple(), dyn.lr_decay, np.zeros(n_total), np.zeros((3, n_total)),
            np.zeros(n_total, np.int64), np.zeros(n_total), np.zeros((1, n_total), np.int32),
            np.zeros(784, np.int32), counts, np.zeros((0, 0), np.uint8))
        out.append(counts[:n])
    return np.array(out)


def test_counter_uniform_is_the_generators_uniform():
    keys = np.array([0, 2**64 - 1, 12345678901234567890, 7], dtype=np.uint64)
    counters = np.arange(0, 3000, 7, dtype=np.uint64)
    expected = np.array([[uniform(k, c) for c in counters] for k in keys])
    got = tk.counter_uniform(torch.from_numpy(keys.view(np.int64))[:, None],
                             torch.from_numpy(counters.view(np.int64))[None, :])
    np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("rule", RULES)
def test_float64_spikes_equal_the_numba_kernel(liquid, probs, rule):
    dyn = Dynamics(rule=rule)
    ids = np.arange(len(probs)) + 10
    expected = numba_float64(liquid, dyn, probs, ids, STEPS)
    assert expected.sum() > 3000  # an active liquid, not a trivial agreement
    sim = TorchLiquidSimulator(liquid, dyn, SEED, batch=3, dtype=torch.float64, synapses="events")
    counts, _, _ = sim.run(probs, ids, STEPS)
    np.testing.assert_array_equal(counts, expected)


def test_plasticity_changes_the_spikes(liquid, probs):
    """The exact agreement above is not the fixed liquid's three times over."""
    ids = np.arange(len(probs))
    runs = [TorchLiquidSimulator(liquid, Dynamics(rule=r), SEED).run(probs, ids, STEPS)[0]
            for r in RULES]
    assert (runs[0] != runs[1]).mean() > 0.05 and (runs[1] != runs[2]).mean() > 0.05


def test_fixed_liquid_equals_the_reference_update(liquid, probs):
    ids = np.array([3, 8])
    sim = TorchLiquidSimulator(liquid, Dynamics(rule="none"), SEED, dtype=torch.float64,
                               synapses="events")
    counts, rasters, _ = sim.run(probs[:2], ids, 120, record=np.array([True, True]))
    for k in range(2):
        drive = rate_spikes(probs[k], 120, seed=SEED, sample=ids[k])
        expected = reference_raster(liquid, drive, 120)
        np.testing.assert_array_equal(rasters[k], expected)
        np.testing.assert_array_equal(counts[k], expected.sum(axis=0))


@pytest.mark.parametrize("rule,synapses", [("none", "dense"), ("none", "events"),
                                           ("astro_stdp", "events")])
def test_float32_counts_and_events_match_the_cpu_backend(liquid, probs, rule, synapses):
    dyn = Dynamics(rule=rule)
    ids = np.arange(len(probs))
    cpu_counts, cpu_raster, cpu_events = LiquidSimulator(liquid, dyn, SEED).run(
        probs, ids, STEPS, record=np.arange(len(probs)) < 2)
    sim = TorchLiquidSimulator(liquid, dyn, SEED, batch=2, synapses=synapses)
    assert sim.dense == (synapses == "dense")  # the path asked for is the one that ran
    counts, raster, events = sim.run(probs, ids, STEPS, record=np.arange(len(probs)) < 2)
    assert raster.shape == cpu_raster.shape
    assert np.mean(counts == cpu_counts) >= 0.99
    assert events == pytest.approx(cpu_events, rel=0.01)


def test_results_do_not_depend_on_the_batch(liquid, probs):
    dyn = Dynamics(rule="astro_stdp")
    ids = np.arange(len(probs))
    one = TorchLiquidSimulator(liquid, dyn, SEED, batch=1).run(probs, ids, 60)
    all_ = TorchLiquidSimulator(liquid, dyn, SEED, batch=5).run(probs, ids, 60)
    np.testing.assert_array_equal(one[0], all_[0])
    assert one[2] == all_[2]


def test_lsm_accuracy_agrees_across_backends(dataset):  # noqa: F811
    text = SMALL.format(path=dataset, out="x")
    over = ["data.train=300", "data.validation=100", "data.test=150", "readout.epochs=15",
            "plasticity.rule=none", "branching.samples=5", "threads=1"]
    runs = {}
    for backend in ("cpu", "torch"):
        cfg = load_config_text(text, overrides=over + [f"backend={backend}", "torch_batch=50"])
        runs[backend] = run_lsm(cfg, dump_config(cfg), progress=False)
    cpu, torch_ = runs["cpu"], runs["torch"]
    for split in ("train", "validation", "test"):
        same = np.mean(cpu.features[split].counts == torch_.features[split].counts)
        assert same >= 0.99, f"{split}: {same:.2%} of counts identical"
    assert cpu.softmax.test_accuracy > 0.5
    assert abs(cpu.softmax.test_accuracy - torch_.softmax.test_accuracy) <= 0.005
    assert cpu.counters["synaptic_events"] == pytest.approx(torch_.counters["synaptic_events"],
                                                            rel=0.01)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("rule", ["none", "astro_stdp"])
def test_cuda_counts_match_the_cpu(liquid, probs, rule):
    dyn = Dynamics(rule=rule)
    ids = np.arange(len(probs))
    expected, _, _ = TorchLiquidSimulator(liquid, dyn, SEED, synapses="events").run(
        probs, ids, STEPS)
    counts, _, _ = TorchLiquidSimulator(liquid, dyn, SEED, device="cuda").run(probs, ids, STEPS)
    assert np.mean(counts == expected) >= 0.99


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_one_clear_error(liquid):
    with pytest.raises(ConfigError, match="device: 'cuda' requested"):
        TorchLiquidSimulator(liquid, Dynamics(), SEED, device="cuda")


def test_unknown_backend_names_the_key(dataset):  # noqa: F811
    with pytest.raises(ConfigError, match="backend"):
        load_config_text(SMALL.format(path=dataset, out="x"), overrides=["backend=gpu"])


def test_nalsm_protocol_initialises_on_cpu_then_runs_on_torch(dataset):  # noqa: F811
    over = ["data.train=20", "data.validation=10", "data.test=10", "readout.epochs=1",
            "protocol.init_samples=20", "branching.samples=2", "threads=1"]
    runs = {}
    for backend in ("cpu", "torch"):
        cfg = load_config_text(SMALL.format(path=dataset, out="x"),
                               overrides=over + [f"backend={backend}"])
        runs[backend] = run_lsm(cfg, dump_config(cfg), progress=False)
    np.testing.assert_array_equal(runs["cpu"].w_ini, runs["torch"].w_ini)
    same = np.mean(runs["cpu"].features["test"].counts == runs["torch"].features["test"].counts)
    assert same >= 0.99
