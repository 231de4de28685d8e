"""The command line: a full run, and one clear error for each kind of bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import small_network

from neurosim.cli import main
from neurosim.io import load

GOOD = small_network(seed=1)


def write(tmp_path: Path, text: str, name="net.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_run_builtin_cuba_writes_result_and_plot(tmp_path, capsys):
    out = tmp_path / "out" / "cuba.h5"
    assert main(["run", "cuba", "--set", "duration=100ms", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4,000 neurons" in text and "exc" in text and str(out) in text
    res = load(out)
    assert res.duration == pytest.approx(0.1)
    assert res.counters["populations"]["exc"]["spikes"] == res.spikes["exc"].count
    assert "seed: 1" in res.config_text
    assert out.with_suffix(".png").stat().st_size > 5000
    assert main(["plot", str(out), "--output", str(tmp_path / "again.png")]) == 0
    assert (tmp_path / "again.png").exists()


@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_run_builtin_cuba_stdp_saves_learned_weights(backend, tmp_path):
    if backend == "torch":
        pytest.importorskip("torch")
    out = tmp_path / f"{backend}.h5"
    assert main(["run", "cuba_stdp", "--quiet", "--set", "duration=100ms", "--set",
                 f"backend={backend}", "--output", str(out)]) == 0
    res = load(out)
    weights = res.weights["ee"]["weight"]
    assert weights.size == res.counters["projections"]["ee"]["synapses"]
    assert weights.min() >= 0 and weights.max() <= 3.24e-3 and np.any(weights != 1.62e-3)
    assert res.astrocytes["balance"].shape == (1000,)


def test_console_script_entry_point_runs(tmp_path):
    cfg = write(tmp_path, GOOD)
    proc = subprocess.run([sys.executable, "-m", "neurosim.cli", "validate", str(cfg)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "valid" in proc.stdout


BAD = {
    "unknown model": (GOOD.replace("model: lif_exp", "model: lif_magic"), "populations.n.model"),
    "unknown population": (GOOD.replace("target: n", "target: nowhere"), "nowhere"),
    "negative tau": (GOOD.replace("tau_m: 20 ms", "tau_m: -20 ms"), "populations.n.params.tau_m"),
    "zero tau": (GOOD.replace("tau_m: 20 ms", "tau_m: 0 ms"), "populations.n.params.tau_m"),
    "dt above a time constant": (GOOD.replace("tau_m: 20 ms", "tau_m: 0.05 ms"), "dt"),
    "malformed unit": (GOOD.replace("tau_m: 20 ms", "tau_m: 20 parsecs"),
                       "populations.n.params.tau_m"),
    "wrong weight sign": (GOOD.replace("weight: 50 pA", "weight: -50 pA"), "projections.p.weight"),
    "weight of wrong dimension": (GOOD.replace("weight: 50 pA", "weight: 5 nS"),
                                  "projections.p.weight"),
    "unknown key": (GOOD.replace("seed: 1", "seed: 1\nsede: 2"), "sede"),
    "network too large": (
        GOOD.replace("size: 10", "size: 300000").replace("size: 5", "size: 300000"),
        "GiB"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_gives_one_clear_error_and_no_output(case, tmp_path, capsys):
    text, expected = BAD[case]
    cfg = write(tmp_path, text)
    out = tmp_path / "results" / "x.h5"
    assert main(["run", str(cfg), "--quiet", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err
    assert "Traceback" not in err
    assert not out.exists() and not any(tmp_path.glob("results/*"))


def test_unreadable_config_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.yaml"), "--quiet"]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert main(["validate", str(tmp_path)]) == 2


def test_unwritable_output_folder_fails_before_running(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    cfg = write(tmp_path, GOOD)
    assert main(["run", str(cfg), "--quiet", "--output", str(blocker / "out.h5")]) == 2
    assert "file.txt" in capsys.readouterr().err


def test_bad_override_is_reported(tmp_path, capsys):
    cfg = write(tmp_path, GOOD)
    assert main(["run", str(cfg), "--quiet", "--set", "duration"]) == 2
    assert "duration" in capsys.readouterr().err


def test_plot_of_a_non_result_file(tmp_path, capsys):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    assert main(["plot", str(junk)]) == 2
    assert "junk.h5" in capsys.readouterr().err


@pytest.mark.parametrize("override, expected", [
    ("backend=nosuch", "unknown backend 'nosuch'"),
    ("device=cuda", "runs on cpu only"),
])
def test_validate_checks_backend_and_device(override, expected, tmp_path, capsys):
    cfg = write(tmp_path, GOOD)
    assert main(["validate", str(cfg), "--set", override]) == 2
    assert expected in capsys.readouterr().err
    out = tmp_path / "x.h5"
    assert main(["run", str(cfg), "--quiet", "--set", override, "--output", str(out)]) == 2
    assert not out.exists()


def test_cuda_without_a_gpu_is_refused_before_running(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    cfg = write(tmp_path, GOOD)
    assert main(["validate", str(cfg), "--set", "backend=torch", "--set", "device=cuda"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err
