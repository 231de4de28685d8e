"""Hardware profiles: every built-in loads, derived figures match their inputs, bad ones fail clearly."""

from __future__ import annotations

import copy

import pytest
import yaml

from neurosim.energy import available_profiles, load_profile, resolve_profiles
from neurosim.energy.profile import parse_profile
from neurosim.errors import ConfigError

REQUIRED = {"horowitz45", "loihi", "truenorth", "spinnaker", "spinnaker2", "gpu", "cpu_core",
            "rram_crossbar"}

GOOD = {
    "name": "toy", "title": "toy chip",
    "energy": {"synaptic_events": {"value": "23.6 pJ", "basis": "simulated",
                                   "source": "Davies et al., IEEE Micro 2018, Table 1"}},
}


def _error(raw) -> str:
    with pytest.raises(ConfigError) as info:
        parse_profile(raw, "'toy'")
    return str(info.value)


def test_required_profiles_ship_and_load():
    assert REQUIRED <= set(available_profiles())
    for name in available_profiles():
        profile = load_profile(name)
        assert profile.name == name
        constants = [*profile.energy.values(), *profile.time.values(), *profile.parameters.values()]
        assert all(c.source.strip() and c.basis for c in constants)


def test_published_anchor_values():
    """Values quoted in ANCHORS.md: Horowitz ISSCC 2014, Davies 2018, Merolla 2014, keras-spiking's table."""
    assert load_profile("horowitz45").energy["synaptic_events"].value == pytest.approx(0.9e-12)
    assert load_profile("loihi").energy["synaptic_events"].value == pytest.approx(23.6e-12)
    assert load_profile("loihi").energy["spikes"].value == pytest.approx(1.7e-12)
    assert load_profile("truenorth").energy["synaptic_events"].value == pytest.approx(26e-12)
    assert load_profile("spinnaker").energy["synaptic_events"].value == pytest.approx(13.3e-9)
    assert load_profile("spinnaker2").energy["neuron_updates"].value == pytest.approx(2.19e-9)
    rram = load_profile("rram_crossbar").parameters
    assert (rram["tile_rows"].value, rram["cols_per_adc"].value, rram["adc_bits"].value) == (128, 8, 5)


def test_derived_figures_follow_from_their_parameters():
    """Each 'derived:' figure is recomputed from the parameters it names."""
    h = load_profile("horowitz45")
    p = h.parameters
    assert h.energy["multiply_accumulates"].value == pytest.approx(
        p["fp32_mult"].value + p["fp32_add"].value)
    assert h.energy["neuron_updates"].value == pytest.approx(
        5 * p["fp32_mult"].value + 5 * p["fp32_add"].value)

    r = load_profile("rram_crossbar")
    q = r.parameters
    conductance = (1 / q["r_on"].value + 1 / q["r_off"].value) / 2
    cell = q["read_voltage"].value ** 2 * conductance * q["read_pulse"].value
    assert q["cell_read_energy"].value == pytest.approx(cell, rel=5e-3)
    assert r.energy["activated_rows"].value == pytest.approx(
        q["tile_cols"].value * q["cell_read_energy"].value, rel=5e-3)

    g = load_profile("gpu")
    gp = g.parameters
    per_flop = (gp["tdp"].value - gp["idle_power"].value) / gp["peak_fp32"].value
    # One FP32 add and a 4-byte target and 4-byte weight read from HBM per event.
    assert g.energy["synaptic_events"].value == pytest.approx(
        per_flop + 8 * gp["hbm_energy"].value, rel=1e-3)
    assert g.energy["multiply_accumulates"].value == pytest.approx(2 * per_flop, rel=1e-3)
    assert g.time["synaptic_events"].value == pytest.approx(
        1 / gp["peak_fp32"].value + 8 / gp["hbm_bandwidth"].value, rel=1e-3)
    assert g.static_power.value == gp["idle_power"].value

    c = load_profile("cpu_core").parameters
    assert c["core_power"].value == pytest.approx(c["socket_tdp"].value / c["cores"].value)
    assert load_profile("cpu_core").energy["synaptic_events"].value == pytest.approx(
        c["core_power"].value / c["scatter_rate"].value, rel=1e-2)


def test_profile_file_by_path(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    assert load_profile(path).energy["synaptic_events"].value == pytest.approx(23.6e-12)


def test_missing_source_names_the_key_path():
    raw = copy.deepcopy(GOOD)
    del raw["energy"]["synaptic_events"]["source"]
    message = _error(raw)
    assert "energy.synaptic_events.source: required key is missing" in message


def test_blank_source_is_rejected():
    raw = copy.deepcopy(GOOD)
    raw["energy"]["synaptic_events"]["source"] = "   "
    assert "energy.synaptic_events.source" in _error(raw)


def test_malformed_unit_names_the_key_path():
    raw = copy.deepcopy(GOOD)
    raw["energy"]["synaptic_events"]["value"] = "23.6 pJoule"
    message = _error(raw)
    assert "energy.synaptic_events" in message and "unknown unit 'pJoule'" in message


def test_wrong_dimension_and_unknown_counter():
    raw = copy.deepcopy(GOOD)
    raw["energy"]["synaptic_events"]["value"] = "3.5 ns"
    raw["time"] = {"spikes": {"value": "1 pJ", "basis": "estimate", "source": "x"}}
    message = _error(raw)
    assert "energy.synaptic_events.value: an energy per operation must be in J, got s" in message
    assert "time.spikes.value: a time per operation must be in s, got J" in message
    raw = copy.deepcopy(GOOD)
    raw["energy"]["synapse_events"] = raw["energy"]["synaptic_events"]
    assert "unknown counter(s) 'synapse_events'" in _error(raw)


def test_bad_basis_and_unknown_name():
    raw = copy.deepcopy(GOOD)
    raw["energy"]["synaptic_events"]["basis"] = "guess"
    assert "energy.synaptic_events.basis" in _error(raw)
    with pytest.raises(ConfigError, match="built-in: .*loihi"):
        load_profile("no_such_chip")


def test_profiles_are_declared_package_data():
    """hardware/ ships as neurosim.hardware (*.yaml), so load_profile('loihi') works from a wheel."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    tool = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert tool["package-dir"]["neurosim.hardware"] == "hardware"
    assert "*.yaml" in tool["package-data"]["neurosim.hardware"]
    assert {"neurosim.energy", "neurosim.hardware"} <= set(tool["packages"])
    assert {p.stem for p in (root / "hardware").glob("*.yaml")} == set(available_profiles())


def test_energy_and_power_units():
    """Profiles use J and W with SI prefixes down to femto (neurosim.units)."""
    from neurosim.units import parse_quantity, pretty_quantity

    assert parse_quantity("16 fJ", "J") == 1.6e-14
    assert parse_quantity("23.6 pJ", "J") == 2.36e-11
    assert parse_quantity("700 W", "W") == 700.0
    assert pretty_quantity(1.6e-14, "J") == "16 fJ"
    with pytest.raises(ConfigError, match="energy"):
        parse_quantity("5 W", "J")


def test_unreadable_profile_file_is_one_config_error(tmp_path, monkeypatch):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(yaml.safe_dump(GOOD).encode() + b"description: 23 \xb5J\n")
    with pytest.raises(ConfigError, match=r"latin1\.yaml.* is not UTF-8 text"):
        load_profile(latin1)
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError, match="neither a file nor a built-in"):
        load_profile(folder)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(GOOD))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(good), "read_text", refuse)
    with pytest.raises(ConfigError, match=r"good\.yaml' cannot be read: Permission denied"):
        load_profile(good)


def test_profile_names_are_plain_and_unique(tmp_path):
    """A name becomes an HDF5 group and a dict key: '/' is refused, and two profiles with
    one name cannot be reported together."""
    assert "name: 'a/b' is not a plain name" in _error({**GOOD, "name": "a/b"})
    assert "is not a plain name" in _error({**GOOD, "name": " "})
    twin = tmp_path / "twin.yaml"
    twin.write_text(yaml.safe_dump({**GOOD, "name": "loihi"}))
    with pytest.raises(ConfigError, match=r"'loihi' and '.*twin\.yaml' are both named 'loihi'"):
        resolve_profiles(["loihi", str(twin)])
    same = tmp_path / "same.yaml"
    same.write_text(yaml.safe_dump(GOOD))
    assert [p.name for p in resolve_profiles([str(same), str(same), "loihi"])] == ["toy", "loihi"]


def test_time_covers_and_assumes_are_checked():
    constant = {"value": "1 ns", "basis": "estimate", "source": "x"}
    message = _error({**GOOD, "time_covers": {"spikes": ["bogus"]}, "assumes": ["tile_side"]})
    assert "time_covers.spikes: has no figure under time" in message
    assert "time_covers.spikes: unknown counter 'bogus'" in message
    assert "assumes: 'tile_side' is not a crossbar: setting" in message
    ok = parse_profile({**GOOD, "time": {"synaptic_events": constant},
                        "time_covers": {"synaptic_events": ["spikes"]}}, "'toy'")
    assert ok.time_covers == {"synaptic_events": ["spikes"]}
