"""Choosing a backend and a device: torch from the command line, one clear error otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import config
from neurosim.backends import _REGISTRY, available_backends, get_backend
from neurosim.cli import main
from neurosim.driver.simulation import Simulation
from neurosim.errors import ConfigError
from neurosim.network import build_network

torch = pytest.importorskip("torch")

SMALL = """
duration: 5 ms
populations:
  n: {size: 4, model: lif_exp}
"""


def test_import_neurosim_does_not_import_torch():
    code = ("import sys, neurosim, neurosim.driver.simulation, neurosim.cli; "
            "assert 'torch' not in sys.modules; "
            "print(sorted(neurosim.backends.available_backends()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "'torch'" in out.stdout


def test_cli_runs_cuba_on_torch(tmp_path, capsys):
    out = tmp_path / "cuba.h5"
    assert main(["run", "cuba", "--set", "backend=torch", "--set", "duration=20ms",
                 "--set", "scale=0.1", "--no-plot", "--output", str(out)]) == 0
    assert out.exists()
    assert "torch" in capsys.readouterr().out


def test_unknown_backend_names_the_available_ones():
    cfg = config(SMALL, backend="gpu")
    with pytest.raises(ConfigError,
                       match=r"backend: unknown backend 'gpu' \(available: cpu, .*torch"):
        Simulation(build_network(cfg), cfg)


def test_missing_torch_is_one_clear_error(monkeypatch):
    monkeypatch.delitem(_REGISTRY, "torch", raising=False)
    monkeypatch.delitem(sys.modules, "neurosim.backends.torch_backend", raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"backend: 'torch' needs torch, which is not installed"):
        get_backend("torch")
    assert "torch" in available_backends()


def test_cpu_backend_rejects_cuda():
    cfg = config(SMALL, device="cuda")
    with pytest.raises(ConfigError,
                       match=r"device: the 'cpu' backend runs on cpu only, not 'cuda'"):
        Simulation(build_network(cfg), cfg)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu_is_one_clear_error():
    cfg = config(SMALL, backend="torch", device="cuda")
    with pytest.raises(ConfigError,
                       match=r"device: 'cuda' requested but PyTorch .* sees no CUDA GPU"):
        Simulation(build_network(cfg), cfg)


def test_unknown_device_is_rejected_at_load():
    with pytest.raises(ConfigError, match="device"):
        config(SMALL, device="tpu")
