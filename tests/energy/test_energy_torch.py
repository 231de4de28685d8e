"""Counting torch models: dense MACs, spike-driven events, snntorch neurons, hybrid pricing."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from neurosim.energy import add_counters, estimate, percent_less  # noqa: E402
from neurosim.energy.profile import parse_profile  # noqa: E402
from neurosim.energy.torch_count import TorchCounter, count_torch  # noqa: E402


def test_importing_energy_does_not_import_torch():
    code = "import sys, neurosim.energy; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dense_mlp_macs_and_traffic():
    """784-100-10 MLP, batch 4: MACs = 4 x (784*100 + 100*10), written out by hand."""
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    c = count_torch(model, torch.randn(4, 784))
    assert c["projections"]["0"]["multiply_accumulates"] == 4 * 784 * 100
    assert c["projections"]["2"]["multiply_accumulates"] == 4 * 100 * 10
    assert c["hardware"]["0"]["bytes_moved"] == 4 * (784 * 100 + 4 * 784 + 4 * 100)
    assert c["populations"]["1"] == {"neurons": 100, "neuron_updates": 400, "spikes": 0}
    assert c["projections"]["0"] == {"synapses": 78400, "synaptic_events": 0,
                                     "multiply_accumulates": 4 * 784 * 100}


def test_dense_conv_macs():
    """Conv2d 3->5, 3x3, padding 1 on 8x8: each output element uses 3*3*3 weights."""
    c = count_torch(nn.Conv2d(3, 5, 3, padding=1), torch.randn(2, 3, 8, 8))
    assert c["projections"]["Conv2d"]["multiply_accumulates"] == 2 * 5 * 8 * 8 * 27


def test_spiking_linear_counts_active_synapses():
    spikes = torch.zeros(3, 20)
    spikes[0, [1, 4]] = 1
    spikes[2, 7] = 1
    c = count_torch(nn.Linear(20, 6), spikes)
    assert c["projections"]["Linear"]["synaptic_events"] == 3 * 6
    assert c["hardware"]["Linear"]["digital_accumulations"] == 3 * 6
    assert c["projections"]["Linear"]["multiply_accumulates"] == 0


def test_spiking_conv_events_match_brute_force():
    """Events = (spike, output) pairs joined by a weight, counted by an explicit loop over outputs."""
    rng = np.random.default_rng(3)
    spikes = (rng.random((2, 2, 6, 6)) < 0.3).astype(np.float32)
    conv = nn.Conv2d(2, 4, 3, stride=2, padding=1)
    c = count_torch(conv, torch.from_numpy(spikes))
    padded = np.pad(spikes, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = 0
    for n in range(2):
        for i in range(3):
            for j in range(3):
                window = padded[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
                expected += 4 * int(window.sum())  # every output channel sees the window
    assert c["projections"]["Conv2d"]["synaptic_events"] == expected


def test_snntorch_neurons_count_updates_and_spikes():
    snn = pytest.importorskip("snntorch")
    fc, lif = nn.Linear(10, 8), snn.Leaky(beta=0.9, threshold=0.5)
    with torch.no_grad():
        fc.weight.fill_(0.2)
        fc.bias.zero_()
    x = torch.zeros(5, 2, 10)
    x[:, :, :4] = 1  # 4 input spikes per sample per step
    with torch.no_grad(), TorchCounter(nn.ModuleDict({"fc": fc, "lif": lif})) as counter:
        mem = lif.init_leaky()
        total_spikes = 0
        for t in range(5):
            spk, mem = lif(fc(x[t]), mem)
            total_spikes += int(spk.sum())
    c = counter.counters()
    assert c["projections"]["fc"]["synaptic_events"] == 5 * 2 * 4 * 8
    assert c["populations"]["lif"]["neuron_updates"] == 5 * 2 * 8
    assert c["populations"]["lif"]["spikes"] == total_spikes > 0


def test_ann_snn_and_hybrid_on_one_profile():
    """horowitz45: an ANN layer costs 4.6 pJ per MAC, a spiking one 0.9 pJ per accumulation
    (the ANN/SNN operation costs used e.g. in Frontiers in Neuroscience 2023, 17:1091097, Table 3)."""
    layer = nn.Linear(50, 20)
    dense = count_torch(layer, torch.rand(1, 50) + 0.1)
    spikes = torch.zeros(1, 50)
    spikes[0, :5] = 1
    sparse = count_torch(layer, spikes)
    ann = estimate(dense, "horowitz45")
    snn = estimate(sparse, "horowitz45")
    hybrid = estimate(add_counters(dense, sparse), "horowitz45")
    assert ann.breakdown["synaptic operations"] == pytest.approx(1000 * 4.6e-12)
    assert snn.breakdown["synaptic operations"] == pytest.approx(100 * 0.9e-12)
    assert hybrid.total == pytest.approx(ann.total + snn.total)
    assert snn.total < ann.total


def test_hybrid_paper_method_on_counted_ann_and_snn():
    """Aydin et al., 'A Hybrid ANN-SNN Architecture for Low-Power and Low-Latency Visual
    Perception' (arXiv:2303.14176): SNN energy = sum over time steps and layers of firing
    rate x operations x 0.38 pJ, the rate being the layer's input spikes per neuron per step
    and the operations the layer's connections; the ANN does every operation as a MAC.
    An ANN and an snntorch SNN of one shape (60-40-10), counted by TorchCounter and priced
    on one profile, must agree with the formula within 1 %."""
    snn = pytest.importorskip("snntorch")
    torch.manual_seed(0)
    fc1, fc2 = nn.Linear(60, 40), nn.Linear(40, 10)
    with torch.no_grad():
        fc1.weight.uniform_(0.0, 0.12)
    lif1, lif2 = snn.Leaky(beta=0.9), snn.Leaky(beta=0.9)
    e_ac, e_mac = 0.38e-12, 4.6e-12
    source = "hand-made test profile: Aydin et al. arXiv:2303.14176 (AC), Horowitz 2014 (MAC)"
    profile = parse_profile({"name": "hybrid", "title": "AC 0.38 pJ, MAC 4.6 pJ", "energy": {
        "synaptic_events": {"value": "0.38 pJ", "basis": "estimate", "source": source},
        "multiply_accumulates": {"value": "4.6 pJ", "basis": "estimate", "source": source}}},
        "'hybrid'")
    steps, batch = 25, 4
    inputs = (torch.rand(steps, batch, 60) < 0.3).float()
    snn_model = nn.ModuleDict({"fc1": fc1, "lif1": lif1, "fc2": fc2, "lif2": lif2})
    formula = 0.0
    with torch.no_grad(), TorchCounter(snn_model) as counter:
        mem1, mem2 = lif1.init_leaky(), lif2.init_leaky()
        for t in range(steps):
            spk1, mem1 = lif1(fc1(inputs[t]), mem1)
            spk2, mem2 = lif2(fc2(spk1), mem2)
            # Per step: rate of each layer's input (per neuron, over the batch) x connections.
            formula += batch * e_ac * (float(inputs[t].mean()) * 60 * 40
                                       + float(spk1.mean()) * 40 * 10)
    assert counter.counters()["populations"]["lif1"]["spikes"] > 0  # the 2nd layer is not idle
    counted_snn = estimate(counter.counters(), profile).breakdown["synaptic operations"]
    assert counted_snn == pytest.approx(formula, rel=0.01)

    ann = nn.Sequential(fc1, nn.ReLU(), fc2)
    counted_ann = estimate(count_torch(ann, torch.rand(batch, 60)), profile)
    ann_formula = batch * e_mac * (60 * 40 + 40 * 10)
    assert counted_ann.breakdown["synaptic operations"] == pytest.approx(ann_formula, rel=0.01)
    # The paper's headline comparison (how much less the SNN spends than the ANN), from counts.
    assert percent_less(counted_snn, counted_ann.breakdown["synaptic operations"]) == \
        pytest.approx(100 * (1 - formula / ann_formula), abs=0.5)
