"""bench_convert.py at a tiny size: with SpikingJelly's thresholds the same as neurosim's
(one calibration batch), neurosim's network started from zero membranes, as
SpikingJelly's is, scores as SpikingJelly's converted network does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("spikingjelly")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from test_fashion_mnist import write_pattern_dataset  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_convert.py"


def test_zero_start_neurosim_scores_as_spikingjelly(tmp_path):
    write_pattern_dataset(tmp_path, n_train=600, n_test=100, seed=2)
    out = tmp_path / "bench.json"
    sets = [f"data.path={tmp_path}", "data.train=480", "data.test=100", "ann.epochs=2",
            "ann.batch_size=20", "ann.optimizer={kind: adam, lr: 0.003}", "ann.layers.conv1.out_channels=4",
            "ann.layers.conv2.in_channels=4", "ann.layers.conv2.out_channels=8",
            "ann.layers.out.in_features=392", "conversion.calibration=100",
            "conversion.normalisation={kind: max}", "conversion.steps=[2, 8]",
            "conversion.compile=false", "threads=1"]
    args = [a for item in sets for a in ("--set", item)]
    proc = subprocess.run([sys.executable, str(BENCH), *args, "--calibration-batch", "100",
                           "--zero-start", "--output", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    assert result["steps"] == [2, 8] and result["normalisation"] == "max"
    assert result["ann_accuracy"] > 0.8  # chance: 0.1
    for zero, theirs in zip(result["neurosim_zero_start_accuracy"],
                            result["spikingjelly_accuracy"]):
        assert abs(zero - theirs) <= 0.011  # one sample of 100 for float rounding
    assert "ratio" in proc.stdout
