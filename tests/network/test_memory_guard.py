"""The memory guard: estimates against measured peaks, and refusals before any allocation."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from neurosim.config import load_config
from neurosim.errors import ResourceError
from neurosim.network import build_network
from neurosim.network.memory import available_bytes
from neurosim.reservoir.footprint import check_lsm_fits
from neurosim.reservoir.pipeline import liquid_spec

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_memory_guard.py"
sys.path.insert(0, str(BENCH.parent))
from bench_memory_guard import traced_cuba  # noqa: E402


def probe(config: str, *overrides: str) -> dict:
    out = subprocess.run([sys.executable, str(BENCH), "--probe", config, *overrides],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("scale", [50, 100, 200])
def test_network_estimate_is_within_20_percent_of_the_measured_peak(scale):
    row = probe("cuba_scaled", f"scale={scale}", "duration=2 ms")
    assert row["estimate_bytes"] == pytest.approx(row["peak_growth_bytes"], rel=0.2)


def test_trace_estimate_is_within_20_percent_of_the_measured_peak(tmp_path):
    row = probe(str(traced_cuba(tmp_path, "0.1 s")))
    assert row["peak_growth_bytes"] > 100 * 2**20  # the traces dominate
    assert row["estimate_bytes"] == pytest.approx(row["peak_growth_bytes"], rel=0.2)


def refuse(tmp_path, config: str, *overrides: str) -> tuple[str, int]:
    """stderr and peak RSS of ``neurosim run`` refusing ``config``; nothing may be written."""
    out = tmp_path / "out" / "refused.h5"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-m", "neurosim.cli", "run", config, "--output",
                           str(out), *(f"--set={o}" for o in overrides)],
                          capture_output=True, text=True, timeout=120)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert proc.returncode == 2, proc.stderr
    assert not out.parent.exists() or not any(out.parent.iterdir())
    # ru_maxrss of children is the largest so far: a bound only if it grew here.
    return proc.stderr, peak * 1024 if peak > before else 0


def test_ten_times_the_memory_is_refused_small(tmp_path):
    scale = int(10 * available_bytes() / 700 / 4000)  # ~0.7 kB per neuron
    err, rss = refuse(tmp_path, "cuba_scaled", f"scale={scale}")
    assert err.startswith("error: network 'cuba_scaled'") and len(err.splitlines()) == 1
    assert "GiB of memory is available" in err
    assert rss < 200 * 2**20


def test_a_trace_that_cannot_fit_is_refused_naming_the_traces(tmp_path):
    err, rss = refuse(tmp_path, str(traced_cuba(tmp_path, "1000 s")))
    assert "with its traces" in err and "trace fewer neurons" in err
    assert len(err.splitlines()) == 1 and rss < 200 * 2**20


def test_a_liquid_too_large_is_refused_before_the_data_is_read(tmp_path):
    err, rss = refuse(tmp_path, "nalsm_fashion", "liquid.size=8000000",
                      "liquid.grid=[200,200,200]", f"data.path={tmp_path / 'no_data_here'}")
    assert err.startswith("error: network 'liquid'") and rss < 200 * 2**20


def test_lsm_features_count_in_the_lsm_estimate():
    cfg = load_config("nalsm_fashion")
    spec = liquid_spec(cfg)
    check_lsm_fits(cfg, spec, limit=8 * 2**30)  # 1,000 neurons, 70,000 samples: ~1.3 GiB
    with pytest.raises(ResourceError, match=r"70000 samples: 1.17 GiB of features"):
        check_lsm_fits(cfg, spec, limit=2**30)


def test_build_refuses_before_drawing_with_a_given_limit():
    cfg = load_config("cuba_scaled", overrides=["scale=10"])
    with pytest.raises(ResourceError, match=r"network 'cuba_scaled' \(40000 neurons, ~3.2e\+06"):
        build_network(cfg, memory_limit=2**20)


def test_the_limit_variable_caps_what_the_guard_counts_on(monkeypatch):
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", "64MiB")
    assert available_bytes() == 64 * 2**20
    cfg = load_config("cuba_scaled", overrides=["scale=10"])  # ~30 MB: fits
    build_network(cfg)
    cfg = load_config("cuba_scaled", overrides=["scale=30"])
    with pytest.raises(ResourceError, match="only 0.06 GiB of memory is available"):
        build_network(cfg)


@pytest.mark.parametrize("text", ["lots", "-1GiB", "0", "inf", "4 parsecs"])
def test_a_limit_variable_that_is_no_amount_is_one_error(monkeypatch, text):
    monkeypatch.setenv("NEUROSIM_MEMORY_LIMIT", text)
    with pytest.raises(ResourceError, match="NEUROSIM_MEMORY_LIMIT="):
        available_bytes()


@pytest.mark.parametrize("config", ["lsm_fashion", "rram_lsm"])
def test_a_readout_with_more_epochs_than_memory_is_refused_before_any_work(tmp_path, config):
    err, rss = refuse(tmp_path, config, "readout.epochs=1000000000")
    assert err.startswith("error: the softmax readout's accuracies after each of its "
                          "1,000,000,000 epochs") and "fewer epochs" in err, err
    assert len(err.splitlines()) == 1 and rss < 400 * 2**20
