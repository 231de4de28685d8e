"""`neurosim energy` and the `energy:` section of `neurosim run`."""

from __future__ import annotations

import textwrap

import pytest
from conftest import small_network

from neurosim.cli import main
from neurosim.energy import available_profiles
from neurosim.io import load
from neurosim.units import pretty_quantity

NET = small_network(seed=2) + "energy:\n  hardware: [loihi, gpu]\n"


@pytest.fixture(scope="module")
def run_with_energy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("energy")
    config = folder / "net.yaml"
    config.write_text(NET)
    out = folder / "net.h5"
    assert main(["run", str(config), "--output", str(out), "--no-plot"]) == 0
    return out


def test_run_stores_energy_and_result_loads_back(run_with_energy, capsys):
    result = load(run_with_energy)
    assert set(result.energy) == {"loihi", "gpu"}
    loihi = result.energy["loihi"]
    events = result.counters["projections"]["p"]["synaptic_events"]
    updates = result.counters["populations"]["n"]["neuron_updates"]
    spikes = sum(c["spikes"] for c in result.counters["populations"].values())
    assert loihi["total_J"] == pytest.approx(events * 23.6e-12 + updates * 81e-12 + spikes * 1.7e-12)
    assert result.energy["gpu"]["static_J"] > 0


def test_energy_command_prints_and_plots(run_with_energy, capsys, tmp_path):
    png = tmp_path / "bars.png"
    assert main(["energy", str(run_with_energy), "--hardware", "all", "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    for name in available_profiles():
        assert f"{name}: " in text
    assert "energy per sample" in text and "per simulated s" in text and "neuron updates" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_energy_command_default_plot_path(run_with_energy, capsys):
    assert main(["energy", str(run_with_energy), "--hardware", "truenorth"]) == 0
    assert run_with_energy.with_name("net_energy.png").is_file()


def test_unknown_profile_is_one_clear_error(run_with_energy, capsys, tmp_path):
    assert main(["energy", str(run_with_energy), "--hardware", "tpu9"]) == 2
    assert "hardware profile 'tpu9'" in capsys.readouterr().err
    config = tmp_path / "bad.yaml"
    config.write_text(NET.replace("[loihi, gpu]", "[loihi, tpu9]"))
    out = tmp_path / "bad.h5"
    assert main(["run", str(config), "--output", str(out), "-q"]) == 2
    assert not out.exists()  # rejected before the run


def test_validate_checks_profiles_and_a_profile_file_works(run_with_energy, capsys, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(NET.replace("[loihi, gpu]", "[tpu9]"))
    assert main(["validate", str(config)]) == 2
    assert "tpu9" in capsys.readouterr().err
    profile = tmp_path / "mine.yaml"
    profile.write_text(textwrap.dedent("""
        name: mine
        title: my chip
        energy:
          synaptic_events: {value: 1 pJ, basis: estimate, source: "assumed for this test"}
    """))
    assert main(["energy", str(run_with_energy), "--hardware", str(profile), "--no-plot"]) == 0
    events = load(run_with_energy).counters["projections"]["p"]["synaptic_events"]
    text = capsys.readouterr().out
    assert "mine: my chip" in text
    assert pretty_quantity(events * 1e-12, "J") in text  # 1 pJ per event, the only cost
