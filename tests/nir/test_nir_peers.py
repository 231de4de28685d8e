"""Graphs that snnTorch's and norse's own exporters write, run in neurosim.

Both exporters leave feed-forward edges without delay (a spike acts in the
step it is emitted); the engine needs two steps per projection, so each layer
runs two steps behind the graph (``Imported.shifts``) and its spikes are
compared after that shift.

Semantic differences found (documented in :mod:`neurosim.nir.neurons`):

- snnTorch writes its default subtract-reset ``Leaky`` as a reset-to-zero
  LIF; its ``Leaky(reset_mechanism="zero")`` is what the graph describes;
- snnTorch's ``Synaptic`` with a zero reset also clears its synaptic current
  and the input of the step after a spike; NIR's CubaLIF resets only the
  membrane, so the trains agree up to each neuron's first spike;
- snnTorch writes r = tau/dt in float32 (9.999997 at beta 0.9): the
  membrane gain reads 1 +- 3e-7, which could flip a spike only at a near tie;
- norse 1.1's exporter writes tau = dt / tau_mem_inv (dt times the true
  time constant); the graph reproduces norse's run read with dt**2.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
pytest.importorskip("nirtorch")

from nir_helpers import raster, run_imported  # noqa: E402

from neurosim.nir.importer import import_graph  # noqa: E402

N_IN, N_HID, N_OUT, STEPS = 10, 12, 4, 50


def _layers(scale: float):
    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(N_IN, N_HID), torch.nn.Linear(N_HID, N_OUT)
    with torch.no_grad():
        fc1.weight.mul_(scale)
        fc2.weight.mul_(scale)
    inputs = (torch.rand(STEPS, N_IN) < 0.3).float()
    return fc1, fc2, inputs


def _first_spikes(train: np.ndarray) -> list[int]:
    return [int(np.argmax(col)) if col.any() else train.shape[0] for col in train.T]


def test_snntorch_leaky_and_synaptic_graph_reproduces_snntorch():
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    fc1, fc2, x = _layers(2.0)
    lif1 = snn.Leaky(beta=torch.full((N_HID,), 0.9), threshold=torch.ones(N_HID),
                     reset_mechanism="zero", init_hidden=True)
    lif2 = snn.Synaptic(alpha=torch.full((N_OUT,), 0.8), beta=torch.full((N_OUT,), 0.85),
                        threshold=torch.ones(N_OUT), reset_mechanism="zero", init_hidden=True,
                        output=True)
    net = torch.nn.Sequential(fc1, lif1, fc2, lif2)
    graph = export_to_nir(net, torch.zeros(N_IN))
    utils.reset(net)
    hidden, out, margin = [], [], []
    with torch.no_grad():
        for t in range(STEPS):
            spikes = lif1(fc1(x[t]))
            hidden.append(spikes.numpy().copy())
            margin.append(np.abs(lif1.mem.numpy() - 1.0))
            out.append(lif2(fc2(spikes))[0].numpy().copy())
    hidden, out = np.array(hidden), np.array(out)
    assert np.min(margin) > 1e-5  # no near tie for the float32 gain to flip

    imported = import_graph(graph, dt=1e-4, inputs={"input": x.numpy()})
    assert imported.shifts == {"1": 2, "3": 4, "input": 0}
    cfg, res = run_imported(imported)
    got_hidden = raster(res, "1", N_HID, cfg.dt, 2, STEPS)
    got_out = raster(res, "3", N_OUT, cfg.dt, 4, STEPS)
    assert hidden.sum() > 20
    np.testing.assert_array_equal(got_hidden, hidden)
    first = _first_spikes(out)
    assert first == _first_spikes(got_out) and min(first) < STEPS
    for j, f in enumerate(first):
        np.testing.assert_array_equal(got_out[:f + 1, j], out[:f + 1, j])


def test_norse_lif_box_graph_reproduces_norse_read_with_dt_squared():
    norse = pytest.importorskip("norse.torch")
    if not hasattr(norse, "to_nir"):
        pytest.skip("this norse has no NIR export")
    fc1, fc2, x = _layers(10.0)
    l1, l2 = norse.LIFBoxCell(), norse.LIFBoxCell()
    graph = norse.to_nir(norse.SequentialState(fc1, l1, fc2, l2), torch.zeros(1, N_IN))
    hidden, out, s1, s2 = [], [], None, None
    with torch.no_grad():
        for t in range(STEPS):
            a, s1 = l1(fc1(x[t]), s1)
            b, s2 = l2(fc2(a), s2)
            hidden.append(a.numpy())
            out.append(b.numpy())
    hidden, out = np.array(hidden), np.array(out)
    np.testing.assert_allclose(float(graph.nodes["1"].tau), 1e-3 * 1e-2)  # dt * tau_mem

    imported = import_graph(graph, dt=1e-3 ** 2, inputs={"input": x.numpy()})
    cfg, res = run_imported(imported)
    assert hidden.sum() > 10
    np.testing.assert_array_equal(raster(res, "1", N_HID, cfg.dt, 2, STEPS), hidden)
    np.testing.assert_array_equal(raster(res, "3", N_OUT, cfg.dt, 4, STEPS), out)
