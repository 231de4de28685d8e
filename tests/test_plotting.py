"""PNG figures of a result: written, non-trivial, atomic, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from neurosim.errors import DataError, OutputError
from neurosim.plotting import plot_result, plot_traces
from neurosim.result import Result, SpikeRecord, TraceRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_result(with_traces: bool = True) -> Result:
    rng = np.random.default_rng(3)
    sizes = {"exc": 400, "inh": 100, "silent": 10}
    spikes = {}
    for name, size in sizes.items():
        n = 0 if name == "silent" else 20 * size
        spikes[name] = SpikeRecord(
            times=np.sort(rng.uniform(0.0, 0.2, n)),
            indices=rng.integers(0, size, n).astype(np.int32),
        )
    traces = {}
    if with_traces:
        t = np.arange(2000) * 1e-4
        v = -0.065 + 0.01 * np.sin(2 * np.pi * 20 * t)[:, None] * np.array([1.0, 0.5])
        i_syn = 1e-10 * np.cos(2 * np.pi * 5 * t)[:, None] * np.array([1.0, -1.0])
        traces["exc_v"] = TraceRecord(
            population="exc",
            neurons=np.array([0, 1], np.int32),
            variables=["v", "I_syn"],
            times=t,
            data=np.stack([v, i_syn], axis=2).astype(np.float32),
        )
    return Result(
        config_text="",
        seed=1,
        dt=1e-4,
        duration=0.2,
        populations={name: {"size": s, "model": "lif_cuba"} for name, s in sizes.items()},
        spikes=spikes,
        traces=traces,
        rates={name: rng.poisson(20, 200).astype(np.float64) for name in sizes},
        rate_bin=1e-3,
    )


def assert_png_with_coloured_data(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 5_000
    rgb = imread(path)[..., :3]
    # Axes, ticks and text are grey; only the data is drawn in colour.
    colourful = np.ptp(rgb, axis=2) > 0.3
    assert colourful.sum() > 500


def test_plot_result_writes_a_png_with_data(tmp_path: Path) -> None:
    path = plot_result(make_result(), tmp_path / "plots" / "run.png")
    assert path == tmp_path / "plots" / "run.png"
    assert_png_with_coloured_data(path)
    assert [p.name for p in path.parent.iterdir()] == ["run.png"]


def test_plot_result_with_a_neuron_limit(tmp_path: Path) -> None:
    assert_png_with_coloured_data(plot_result(make_result(), tmp_path / "r.png", max_neurons=50))


def test_plot_result_of_an_empty_result(tmp_path: Path) -> None:
    result = Result(config_text="", seed=0, dt=1e-4, duration=0.1, populations={})
    assert plot_result(result, tmp_path / "empty.png").read_bytes()[:8] == PNG_SIGNATURE


def test_plot_traces_writes_a_png_with_data(tmp_path: Path) -> None:
    assert_png_with_coloured_data(plot_traces(make_result(), tmp_path / "traces.png"))


def test_plot_traces_without_traces_raises_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no traces"):
        plot_traces(make_result(with_traces=False), tmp_path / "traces.png")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_path_raises_output_error(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(OutputError, match="file.txt"):
        plot_result(make_result(), tmp_path / "file.txt" / "run.png")
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
