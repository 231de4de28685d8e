"""A trained result as a NIR graph, the CLI end to end, and one clear error per bad input."""

from __future__ import annotations

import textwrap

import numpy as np
import nir
import pytest

from neurosim.cli import main
from neurosim.errors import ConfigError
from neurosim.nir.export import train_graph
from neurosim.nir.importer import import_graph
from neurosim.nir.timing import back_edges, pipeline_shifts

from nir_helpers import raster, run_imported

TRAIN = textwrap.dedent("""\
    task: train
    name: tiny
    steps: 20
    batch_size: 4
    data: {train: 8, validation: 0, test: 4}
    network:
      neuron: {model: lif_discrete, params: {beta: 0.9, alpha: 0.3, threshold: 1.0}}
      layers:
        flatten: {type: flatten}
        hidden: {type: linear, in_features: 784, out_features: 16, recurrent: REC}
        out: {type: linear, in_features: 16, out_features: 10, bias: false}
    """)


def _trained(recurrent: bool):
    from neurosim.training.result import TrainResult

    rng = np.random.default_rng(0)
    weights = {"layers.hidden.weight": rng.normal(0, 0.15, (16, 784)).astype(np.float32),
               "layers.hidden.bias": rng.normal(0, 0.1, 16).astype(np.float32),
               "layers.out.weight": rng.normal(0.1, 0.5, (10, 16)).astype(np.float32)}
    if recurrent:
        weights["layers.hidden.recurrent"] = rng.normal(0, 0.2, (16, 16)).astype(np.float32)
    return TrainResult(name="tiny", config_text=TRAIN.replace("REC", str(recurrent).lower()),
                       weights=weights, history={}, test={})


def test_trained_result_runs_as_the_training_forward():
    torch = pytest.importorskip("torch")
    from neurosim.config import load_config_text
    from neurosim.training.model import SpikingNetwork

    result = _trained(recurrent=False)
    graph = train_graph(result, dt=1e-3)
    kinds = [type(graph.nodes[n]).__name__ for n in ("input", "flatten", "hidden.linear",
                                                      "hidden", "out.linear", "out")]
    assert kinds == ["Input", "Flatten", "Affine", "CubaLIF", "Linear", "CubaLIF"]
    cfg = load_config_text(result.config_text, name="tiny")
    model = SpikingNetwork(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for name, value in result.weights.items():
            model.get_parameter(name).copy_(torch.from_numpy(value))
    x = (np.random.default_rng(1).random((20, 1, 1, 28, 28)) < 0.2).astype(np.float32)
    with torch.no_grad():
        spikes, _ = model(torch.from_numpy(x))
    want = spikes[:, 0].numpy()

    imported = import_graph(graph, inputs={"input": x[:, 0]})
    assert imported.shifts["out"] == 4
    run_cfg, res = run_imported(imported)
    assert want.sum() > 10
    np.testing.assert_array_equal(raster(res, "out", 10, run_cfg.dt, 4, 20), want)


def test_trained_recurrence_is_a_back_edge_the_engine_refuses():
    graph = train_graph(_trained(recurrent=True), dt=1e-3)
    assert ("hidden", "hidden.recurrent") in graph.edges
    assert ("hidden.recurrent", "hidden") in graph.edges
    with pytest.raises(ConfigError, match=r"cycle hidden -> hidden has 1 step\(s\) of lag"):
        import_graph(graph, steps=5)


def _lif_graph(**metadata):
    n = 3
    nodes = {"in": nir.Input(input_type=np.array([2])),
             "fc": nir.Linear(weight=np.ones((n, 2))),
             "lif": nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n),
                            v_threshold=np.ones(n)),
             "out": nir.Output(output_type=np.array([n]))}
    return nir.NIRGraph(nodes=nodes, edges=[("in", "fc"), ("fc", "lif"), ("lif", "out")],
                        metadata=metadata, type_check=False)


def test_graph_without_dt_is_one_error():
    with pytest.raises(ConfigError, match="no dt in its metadata and none was given"):
        import_graph(_lif_graph(), steps=5)
    assert import_graph(_lif_graph(dt=1e-3), steps=5).config["dt"] == "0.001 s"


def test_unsupported_node_names_type_and_node():
    graph = _lif_graph(dt=1e-3)
    graph.nodes["pool"] = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                        padding=np.array([0, 0]))
    with pytest.raises(ConfigError, match="node 'pool' is a SumPool2d: not supported yet"):
        import_graph(graph, steps=5)


def test_euler_refuses_dt_above_tau_and_exact_takes_it():
    with pytest.raises(ConfigError, match="dt = 0.02 s exceeds tau"):
        import_graph(_lif_graph(), dt=0.02, steps=5)
    lif = import_graph(_lif_graph(), dt=0.02, steps=5, integration="exact")
    params = lif.config["populations"]["lif"]["params"]
    assert params["beta"] == pytest.approx(np.exp(-2.0))
    assert params["gain"] == pytest.approx(1 - np.exp(-2.0))


def test_membrane_fed_into_a_projection_is_refused():
    graph = _lif_graph(dt=1e-3)
    graph.nodes["lif"] = nir.LI(tau=np.full(3, 0.01), r=np.ones(3), v_leak=np.zeros(3))
    graph.nodes["fc2"] = nir.Linear(weight=np.ones((3, 3)))
    graph.nodes["lif2"] = nir.IF(r=np.ones(3), v_threshold=np.ones(3))
    graph.edges += [("lif", "fc2"), ("fc2", "lif2")]
    with pytest.raises(ConfigError, match="LI node 'lif' feeds 'lif2'"):
        import_graph(graph, steps=5)


def test_pipelining_and_back_edges():
    assert back_edges("abc", [("a", "b"), ("b", "c"), ("c", "b")]) == {("c", "b")}
    assert pipeline_shifts("abc", [("a", "b", 0), ("b", "c", 0), ("a", "c", 0)]) == {
        "a": 0, "b": 2, "c": 4}
    with pytest.raises(ConfigError, match="cycle"):
        pipeline_shifts("ab", [("a", "b", 1), ("b", "a", 1)])


def test_cli_export_import_run(tmp_path, capsys):
    cfg = tmp_path / "net.yaml"
    cfg.write_text(textwrap.dedent("""\
        duration: 30 ms
        dt: 1 ms
        populations:
          inp: {size: 4, model: spike_generator, params: {times: [1 ms, 2 ms, 5 ms], indices: [0, 1, 2]}}
          n: {size: 3, model: lif_discrete, params: {beta: 0.9, threshold: 0.5}}
        projections:
          p: {source: inp, target: n, receptor: exc, connect: {rule: all_to_all}, weight: 0.4}
        record: {spikes: [n]}
        """))
    graph, back = tmp_path / "g.nir", tmp_path / "back.yaml"
    spikes = np.zeros((30, 4), np.int8)
    spikes[[0, 1, 4], [0, 1, 2]] = 1
    np.save(tmp_path / "in.npy", spikes)
    assert main(["nir", "export", str(cfg), "-o", str(graph)]) == 0
    assert main(["nir", "import", str(graph), "-o", str(back), "--input",
                 str(tmp_path / "in.npy")]) == 0
    for source, out in ((cfg, "a.h5"), (back, "b.h5")):
        assert main(["run", str(source), "-q", "--no-plot", "-o", str(tmp_path / out)]) == 0
    from neurosim.io import load

    a, b = load(tmp_path / "a.h5").spikes["n"], load(tmp_path / "b.h5").spikes["n"]
    assert a.count > 0
    np.testing.assert_array_equal(a.times, b.times)
    capsys.readouterr()
    assert main(["nir", "import", str(cfg), "-o", str(tmp_path / "x.yaml")]) == 2
    assert "not a NIR graph" in capsys.readouterr().err
    assert main(["nir", "import", str(graph), "-o", str(back)]) == 2
    assert "already exists" in capsys.readouterr().err
