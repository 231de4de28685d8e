"""The converted network's and its ANN's counters against counts by hand."""

from __future__ import annotations

from collections import OrderedDict

import pytest

torch = pytest.importorskip("torch")

from neurosim.convert.ann import QCFS  # noqa: E402
from neurosim.convert.energy import ann_counters, snn_counters  # noqa: E402
from neurosim.convert.snn import ConvertedSNN, snn_accuracy  # noqa: E402


def small_cnn(out_kernel: int) -> torch.nn.Sequential:
    torch.manual_seed(4)
    return torch.nn.Sequential(OrderedDict(
        conv1=torch.nn.Conv2d(1, 3, 3, padding=1), conv1_act=torch.nn.ReLU(),
        pool=torch.nn.AvgPool2d(2),
        conv2=torch.nn.Conv2d(3, 5, out_kernel), conv2_act=torch.nn.ReLU(),
        flat=torch.nn.Flatten(), out=torch.nn.Linear(5 * (5 - out_kernel) ** 2, 4)))


@pytest.mark.parametrize("out_kernel", [1, 3])
def test_counters_are_the_work_counted_by_hand(out_kernel):
    model = small_cnn(out_kernel)
    images, labels = torch.rand((6, 1, 8, 8)) * 3, torch.zeros(6, dtype=torch.long)
    snn = ConvertedSNN(model, {"conv1": 0.5, "conv2": 0.5}, 0.5)
    steps = 10
    _, totals = snn_accuracy(snn, images, labels, [steps], 4)
    c = snn_counters(snn, (1, 8, 8), totals, 6, steps)
    pops, projections = c["populations"], c["projections"]
    assert pops["conv1"] == {"neurons": 3 * 64, "neuron_updates": 3 * 64 * steps * 6,
                             "spikes": int(totals["conv1"].sum())}
    assert pops["output"]["neuron_updates"] == 4 * steps * 6 and pops["output"]["spikes"] == 0
    # The image's current: each of 3x8x8 outputs takes 1x3x3 inputs, once per sample.
    assert projections["conv1"]["multiply_accumulates"] == 3 * 64 * 9 * 6
    # Every output its spike's pooled cell feeds: 5 with a 1x1 kernel; with 3x3 (no padding,
    # 4x4 cells -> 2x2 outputs) a cell feeds 5 x (the outputs whose window covers it).
    per_cell = torch.ones(4, 4) if out_kernel == 1 else torch.tensor(
        [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], dtype=torch.float32)
    cells = torch.nn.functional.avg_pool2d(totals["conv1"], 2) * 4  # spikes per cell
    assert projections["conv2"]["synaptic_events"] == int((cells * per_cell * 5).sum())
    assert projections["out"]["synaptic_events"] == int(totals["conv2"].sum()) * 4
    assert projections["out"]["synapses"] == model.out.weight.numel()


@pytest.mark.parametrize("activation", [torch.nn.ReLU, lambda: QCFS(4, 1.0)],
                         ids=["relu", "qcfs"])
def test_ann_counters_count_every_activation(activation):
    torch.manual_seed(0)
    model = torch.nn.Sequential(OrderedDict(
        flat=torch.nn.Flatten(), h=torch.nn.Linear(16, 7), h_act=activation(),
        out=torch.nn.Linear(7, 3)))
    c = ann_counters(model, torch.rand((10, 1, 4, 4)), 4)
    assert c["projections"]["h"]["multiply_accumulates"] == 10 * 7 * 16
    assert c["projections"]["out"]["multiply_accumulates"] == 10 * 3 * 7
    assert c["populations"]["h_act"]["neuron_updates"] == 10 * 7
