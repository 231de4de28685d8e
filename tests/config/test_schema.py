"""The run-config schema and its loader (neurosim.config)."""

import math
from pathlib import Path

import numpy as np
import pytest

from neurosim.config import (
    Arrays,
    Constant,
    LogNormal,
    Normal,
    RandomSign,
    RunConfig,
    Uniform,
    apply_overrides,
    builtin_configs,
    dump_config,
    load_config,
    load_config_text,
    parse_override,
    parse_value,
)
from neurosim.errors import ConfigError

BUILTINS = ["coba", "cuba", "cuba_scaled"]
REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"

MINIMAL = """
duration: 100 ms
populations:
  exc: {size: 10, model: lif_exp}
"""


def _problem(source, overrides):
    """The ConfigError message for loading ``source`` with ``overrides``."""
    with pytest.raises(ConfigError) as info:
        load_config(source, overrides)
    return str(info.value)


# -- built-in configs and round trips -------------------------------------


def test_builtin_configs_are_listed():
    assert set(BUILTINS) <= set(builtin_configs())


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trip(name):
    cfg = load_config(name)
    assert cfg.name == name
    text = dump_config(cfg)
    again = load_config_text(text)
    assert again == cfg
    # The dump is a fixed point: dumping the reloaded config changes nothing.
    assert dump_config(again) == text


def test_round_trip_keeps_meaningful_nulls_and_drops_absent_sections():
    # crossbar.levels/adc_bits/dac_bits null mean "ideal"; they must survive the dump.
    cfg = load_config("cuba", ["backend=crossbar", "crossbar.levels=null",
                               "crossbar.adc_bits=null", "crossbar.dac_bits=null"])
    assert load_config_text(dump_config(cfg)) == cfg
    assert "energy:" not in dump_config(cfg)
    assert "crossbar:" not in dump_config(load_config("cuba"))


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_by_name_equals_file(name):
    assert load_config(name) == load_config(REPO_CONFIGS / f"{name}.yaml")


def test_cuba_values_are_si_floats():
    cfg = load_config("cuba")
    exc = cfg.populations["exc"]
    assert exc.params["tau_m"] == 0.02
    assert exc.params["C_m"] == 2.5e-10
    assert exc.params["V_th"] == -0.05
    assert exc.params["I_e"] == 0.0  # default filled in
    assert cfg.dt == 1e-4 and cfg.duration == 1.0
    assert cfg.sizes == {"exc": 3200, "inh": 800}
    weight = cfg.projections["ie"].weight
    assert weight.is_constant and weight.constant == -0.009 and weight.dim == "V"
    assert cfg.projections["ee"].delay.constant == 1e-4


def test_coba_matches_the_benchmark():
    cfg = load_config("coba")
    exc = cfg.populations["exc"]
    assert exc.model == "lif_cond_exp"
    # g_L = C_m / tau_m = 10 nS, the unit of the Brian reference script.
    assert math.isclose(exc.params["C_m"] / exc.params["tau_m"], 10e-9)
    assert (exc.params["E_e"], exc.params["E_i"]) == (0.0, -0.08)
    assert cfg.projections["ie"].weight.constant == 6.7e-8
    assert cfg.projections["ee"].weight.dim == "S"
    g_i = exc.initial["g_i"]
    assert isinstance(g_i, Normal) and (g_i.mean, g_i.std, g_i.dim) == (2e-7, 1.2e-7, "S")


def test_cuba_scaled_scales_sizes_not_indegree():
    cfg = load_config("cuba_scaled", ["scale=10"])
    assert cfg.sizes == {"exc": 32000, "inh": 8000}
    indegree = sum(p.connect.k for p in cfg.projections.values() if p.target == "exc")
    assert indegree == 80
    assert all(not p.connect.autapses for p in cfg.projections.values())


@pytest.mark.parametrize(
    "size, scale, expected",
    [(3200, 1.0, 3200), (3200, 0.5, 1600), (5, 0.5, 3), (3, 0.5, 2), (10, 0.01, 1), (7, 3.0, 21)],
)
def test_scaled_size_rounds_half_up_and_is_at_least_one(size, scale, expected):
    cfg = load_config_text(MINIMAL, overrides=[f"populations.exc.size={size}", f"scale={scale}"])
    assert cfg.population_size("exc") == expected == cfg.sizes["exc"]


# -- sources and names ----------------------------------------------------


def test_name_defaults_to_file_stem(tmp_path):
    path = tmp_path / "my_run.yaml"
    path.write_text(MINIMAL)
    assert load_config(path).name == "my_run"
    assert load_config(str(path)).name == "my_run"


def test_name_defaults_for_text_and_explicit_name_wins():
    assert load_config_text(MINIMAL).name == "run"
    assert load_config_text(MINIMAL, name="demo").name == "demo"
    assert load_config_text("name: explicit\n" + MINIMAL, name="demo").name == "explicit"


def test_defaults():
    cfg = load_config_text(MINIMAL)
    assert (cfg.seed, cfg.dt, cfg.backend, cfg.precision, cfg.threads, cfg.scale) == (
        0, 1e-4, "cpu", "float32", 1, 1.0)
    assert cfg.record.spikes == "all" and cfg.record.rate_bin == 1e-3
    assert (cfg.output.dir, cfg.output.plots) == ("results", True)
    assert cfg.spike_populations == ["exc"]
    assert cfg.populations["exc"].params["tau_m"] == 0.01  # NEST iaf_psc_exp default


@pytest.mark.parametrize("source", ["no_such_config", "missing.yaml", "some/dir/cfg.yaml"])
def test_unknown_source_lists_builtins(source):
    message = _problem(source, ())
    assert repr(source) in message
    for name in BUILTINS:
        assert name in message


def test_folder_is_not_a_config(tmp_path):
    assert "is a folder" in _problem(tmp_path, ())


def test_invalid_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("duration: [1 s\n")
    message = _problem(path, ())
    assert "not valid YAML" in message and "broken.yaml" in message


def test_unreadable_file(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    message = _problem(path, ())
    assert "cannot read" in message and "binary.yaml" in message


def test_override_into_empty_yaml_key():
    cfg = load_config_text(MINIMAL + "currents:\n", overrides=[
        "currents.c.target=exc", "currents.c.times=[0 ms]", "currents.c.amplitudes=[5 pA]",
    ])
    assert cfg.currents["c"].amplitudes == [5e-12]


def test_top_level_must_be_a_mapping():
    with pytest.raises(ConfigError, match="mapping"):
        load_config_text("- 1\n- 2\n")


def test_yaml_anchors_are_expanded_and_unshared():
    cfg = load_config("cuba", ["populations.exc.params.tau_m=10 ms"])
    # cuba.yaml gives inh its parameters by alias of exc's (&lif / *lif); the
    # override of exc must not leak into inh through the shared YAML object.
    assert cfg.populations["exc"].params["tau_m"] == 0.01
    assert cfg.populations["inh"].params["tau_m"] == 0.02
    assert cfg.populations["inh"].params["V_reset"] == -0.06
    assert cfg.populations["inh"].initial == cfg.populations["exc"].initial


def test_anchors_in_text():
    text = """
duration: 1 s
populations:
  a: {size: 2, model: lif_exp, params: &p {tau_m: 15 ms}}
  b: {size: 3, model: lif_exp, params: *p}
"""
    cfg = load_config_text(text)
    assert cfg.populations["b"].params["tau_m"] == 0.015


# -- overrides ------------------------------------------------------------


def test_overrides_apply_before_validation():
    cfg = load_config("cuba", [
        "duration=2s", "seed=3", "populations.exc.size=100",
        "projections.ee.connect.p=0.1", "record.spikes=[exc]",
    ])
    assert cfg.duration == 2.0
    assert cfg.seed == 3
    assert cfg.populations["exc"].size == 100
    assert cfg.projections["ee"].connect.p == 0.1
    assert cfg.spike_populations == ["exc"]


def test_override_creates_missing_mappings():
    cfg = load_config("cuba", ["record.traces.probe.population=exc", "record.traces.probe.neurons=[0, 5]"])
    trace = cfg.record.traces["probe"]
    assert trace.neurons == [0, 5] and trace.variables == ["v"] and trace.interval is None


def test_parse_override_uses_yaml_values():
    assert parse_override("seed=3") == (["seed"], 3)
    assert parse_override("duration=2s") == (["duration"], "2s")
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    assert parse_override("output.plots=false") == (["output", "plots"], False)
    assert parse_override("description=a=b") == (["description"], "a=b")


def test_apply_overrides_leaves_input_alone():
    raw = {"populations": {"exc": {"size": 1}}}
    out = apply_overrides(raw, ["populations.exc.size=5"])
    assert out["populations"]["exc"]["size"] == 5 and raw["populations"]["exc"]["size"] == 1


@pytest.mark.parametrize("override", ["seed", "=3", "populations..size=3", ".x=1", "a.=1"])
def test_malformed_override(override):
    message = _problem("cuba", [override])
    assert "malformed override" in message and repr(override) in message


def test_override_through_non_mapping():
    message = _problem("cuba", ["duration.unit=ms"])
    assert "'duration.unit=ms'" in message and "not a mapping" in message


# -- bad input: every problem names its key path --------------------------

BAD_CUBA = [
    # (overrides, key path, fragment of the reason)
    (["populations.exc.params.tau_m=-5 ms"], "populations.exc.params.tau_m", "must be > 0"),
    (["populations.exc.params.C_m=0 pF"], "populations.exc.params.C_m", "must be > 0"),
    (["populations.exc.params.t_ref=-1 ms"], "populations.exc.params.t_ref", "must be >= 0"),
    (["populations.exc.params.t_ref=0 ms"], None, None),  # zero refractory period is fine
    (["populations.exc.params.tau_mem=5 ms"], "populations.exc.params.tau_mem", "unknown key (allowed: C_m, tau_m"),
    (["populations.exc.params.C_m=250"], "populations.exc.params.C_m", "bare number"),
    (["populations.exc.params.C_m=250 mV"], "populations.exc.params.C_m", "expected a capacitance"),
    (["populations.exc.params.V_reset=-40 mV"], "populations.exc.params.V_reset", "below V_th"),
    (["populations.exc.params.tau_syn_e=0.05 ms"], "populations.exc.params.tau_syn_e", "shorter than dt"),
    (["populations.exc.params.E_e=0 mV"], "populations.exc.params.E_e", "unknown key"),
    (["populations.exc.model=lif"], "populations.exc.model", "'lif'"),
    (["populations.exc.size=0"], "populations.exc.size", "greater than or equal to 1"),
    (["populations.exc.sze=3"], "populations.exc.sze", "unknown key (allowed: size, model"),
    (["populations.exc.initial.g_e=3 nS"], "populations.exc.initial.g_e", "not a state variable"),
    (["populations.exc.initial.v=3 nS"], "populations.exc.initial.v", "expected a voltage"),
    (["populations.exc.initial.v=abc"], "populations.exc.initial.v", "'abc'"),
    (["populations.exc.initial.v={dist: gauss}"], "populations.exc.initial.v.dist", "unknown distribution"),
    (["populations.exc.initial.v={mean: 1 mV}"], "populations.exc.initial.v.dist", "missing"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV, std: -1 mV}"], "populations.exc.initial.v.std", "must be >= 0"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV, std: 1 ms}"], "populations.exc.initial.v.std", "share one dimension"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV}"], "populations.exc.initial.v.std", "missing"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV, std: 1 mV, sd: 2}"], "populations.exc.initial.v.sd", "unknown key"),
    (["populations.exc.initial.v={dist: uniform, low: -50 mV, high: -60 mV}"], "populations.exc.initial.v.high", "must be >= low"),
    (["populations.exc.initial.v={dist: lognormal, median: 0 mV, sigma: 1}"], "populations.exc.initial.v.median", "must not be 0"),
    (["populations.exc.initial.v={dist: lognormal, median: -60 mV, sigma: -1}"], "populations.exc.initial.v.sigma", "must be >= 0"),
    (["populations.exc.initial.v={dist: lognormal, median: -60 mV, sigma: 1 mV}"], "populations.exc.initial.v.sigma", "dimensionless"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV, std: 1 mV, clip: [0 mV]}"], "populations.exc.initial.v.clip", "[lo, hi]"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV, std: 1 mV, clip: [0 mV, -1 mV]}"], "populations.exc.initial.v.clip", "lo must be <= hi"),
    (["populations.exc.initial.v={dist: normal, mean: -60 mV, std: 1 mV, clip: [null, 1 nS]}"], "populations.exc.initial.v.clip.1", "expected a voltage"),
    (["projections.ee.target=foo"], "projections.ee.target", "unknown population 'foo'"),
    (["projections.ee.source=bar"], "projections.ee.source", "unknown population 'bar'"),
    (["projections.ee.receptor=both"], "projections.ee.receptor", "'both'"),
    (["projections.ee.weight=-1 mV"], "projections.ee.weight", "must be >= 0"),
    (["projections.ie.weight=1 mV"], "projections.ie.weight", "must be <= 0"),
    (["projections.ie.weight=-1 pA"], None, None),  # a current jump is fine too
    (["projections.ie.weight={dist: normal, mean: -9 mV, std: 1 mV}"], "projections.ie.weight", "clip"),
    (["projections.ie.weight={dist: normal, mean: -9 mV, std: 1 mV, clip: [null, 0 mV]}"], None, None),
    (["projections.ee.weight={dist: uniform, low: -1 mV, high: 2 mV}"], "projections.ee.weight", "down to -1 mV"),
    (["projections.ee.weight={dist: lognormal, median: 1 mV, sigma: 0.5}"], None, None),
    (["projections.ie.weight={dist: lognormal, median: 9 mV, sigma: 0.5}"], "projections.ie.weight", "must be <= 0"),
    (["projections.ee.weight=6 nS"], "projections.ee.weight", "must be a current"),
    (["projections.ee.weight=6"], "projections.ee.weight", "dimensionless"),
    (["projections.ee.weight=null"], "projections.ee.weight", ""),
    (["projections.ee.delay=0.05 ms"], "projections.ee.delay", "at least dt"),
    (["projections.ee.delay={dist: normal, mean: 1 ms, std: 0.1 ms}"], "projections.ee.delay", "clip"),
    (["projections.ee.delay=1 mV"], "projections.ee.delay", "expected a time"),
    (["projections.ee.connect.p=1.5"], "projections.ee.connect.p", "less than or equal to 1"),
    (["projections.ee.connect.rule=foo"], "projections.ee.connect.rule", "unknown rule 'foo'"),
    (["projections.ee.connect.k=3"], "projections.ee.connect.k", "unknown key"),
    (["projections.ee.connect=3"], "projections.ee.connect", "'rule'"),
    (["projections.ee.connect={rule: fixed_indegree, k: -1}"], "projections.ee.connect.k", "greater than or equal to 0"),
    (["projections.ee.connect={rule: fixed_indegree, k: 3201, multapses: false}"], "projections.ee.connect.k", "3200 possible partners"),
    (["projections.ee.connect={rule: fixed_indegree, k: 3200, multapses: false, autapses: false}"], "projections.ee.connect.k", "3199 possible partners"),
    (["projections.ei.connect={rule: fixed_outdegree, k: 801, multapses: false}"], "projections.ei.connect.k", "800 possible partners"),
    (["projections.ei.connect={rule: fixed_outdegree, k: 801}"], None, None),  # multapses allowed
    (["projections.ei.connect={rule: one_to_one}"], "projections.ei.connect.rule", "equal sizes"),
    (["projections.ee.connect={rule: one_to_one}"], None, None),
    (["projections.ei.connect={rule: arrays, pre: [0, 1], post: [1]}"], "projections.ei.connect.post", "has 1 entries"),
    (["projections.ei.connect={rule: arrays, pre: [0, 5000], post: [1, 900]}"], "projections.ei.connect.pre.1", "index 5000 is outside"),
    (["projections.ei.connect={rule: arrays, pre: [0, 1], post: [1, 900]}"], "projections.ei.connect.post.1", "index 900"),
    (["projections.ei.connect={rule: arrays, pre: [0], post: [1], weight: [1 nS]}"], "projections.ei.connect.weight", "but weight is"),
    (["projections.ei.connect={rule: arrays, pre: [0], post: [1], weight: [-1 mV]}"], "projections.ei.connect.weight", "must be >= 0"),
    (["projections.ei.connect={rule: arrays, pre: [0], post: [1], delay: [0.01 ms]}"], "projections.ei.connect.delay", "at least dt"),
    (["projections.ei.connect={rule: arrays, pre: [0], post: [1], delay: [1 mV]}"], "projections.ei.connect.delay", "expected times"),
    (["duration=0.01 ms"], "duration", "shorter than dt"),
    (["duration=0 s"], "duration", "must be > 0"),
    (["dt=0.1"], "dt", "bare number"),
    (["precision=float16"], "precision", "float16"),
    (["seed=-1"], "seed", "from 0 to 2**64 - 1"),
    (["threads=0"], "threads", "greater than or equal to 1"),
    (["scale=0"], "scale", "greater than 0"),
    (["populations={}"], "populations", "at least 1"),
    (["output.dirr=x"], "output.dirr", "unknown key (allowed: dir, plots)"),
    (["bogus=1"], "bogus", "unknown key"),
    (["record.spikes=[exc, foo]"], "record.spikes.1", "unknown population 'foo'"),
    (["record.spikes=exc"], "record.spikes", "'all', 'none' or a list"),
    (["record.rate_bin=-1 ms"], "record.rate_bin", "must be > 0"),
    (["record.traces.t={population: foo, neurons: [0]}"], "record.traces.t.population", "unknown population"),
    (["record.traces.t={population: exc, neurons: [3200]}"], "record.traces.t.neurons.0", "index 3200 is outside"),
    (["record.traces.t={population: exc, neurons: [0], variables: [g_e]}"], "record.traces.t.variables.0", "not a state variable"),
    (["record.traces.t={population: exc, neurons: [0], interval: 0.15 ms}"], "record.traces.t.interval", "not a multiple of dt"),
    (["record.traces.t={population: exc, neurons: [0], interval: 0.3 ms}"], None, None),
    (["currents.c={target: foo, times: [0 ms], amplitudes: [1 pA]}"], "currents.c.target", "unknown population"),
    (["currents.c={target: exc, times: [0 ms, 5 ms], amplitudes: [1 pA]}"], "currents.c.amplitudes", "has 1 entries"),
    (["currents.c={target: exc, times: [5 ms, 5 ms], amplitudes: [1 pA, 2 pA]}"], "currents.c.times.1", "strictly increasing"),
    (["currents.c={target: exc, times: [-1 ms], amplitudes: [1 pA]}"], "currents.c.times.0", "must be >= 0"),
    (["currents.c={target: exc, times: [1 ms], amplitudes: [1 mV]}"], "currents.c.amplitudes.0", "expected a current"),
    (["currents.c={target: exc, times: [0 ms, 10 ms], amplitudes: [100 pA, 0 pA]}"], None, None),
]

GENERATORS = [
    "populations.p={size: 3, model: poisson, params: {rate: 5 Hz}}",
    "populations.g={size: 3, model: spike_generator, params: {times: [1 ms, 2 ms]}}",
]
BAD_GENERATORS = [
    (["populations.q={size: 3, model: poisson}"], "populations.q.params.rate", "missing"),
    (["populations.q={size: 3, model: poisson, params: {rate: -1 Hz}}"], "populations.q.params.rate", "must be >= 0"),
    (["populations.q={size: 3, model: poisson, params: {rate: 5 Hz}, initial: {v: 1 mV}}"], "populations.q.initial.v", "no state"),
    (["populations.q={size: 3, model: spike_generator, params: {times: [1 ms, -2 ms]}}"], "populations.q.params.times.1", "must be >= 0"),
    (["populations.q={size: 3, model: spike_generator, params: {times: [1 ms], indices: [0, 1]}}"], "populations.q.params.indices", "has 2 entries"),
    (["populations.q={size: 3, model: spike_generator, params: {times: [1 ms, 2 ms], indices: [0, 3]}}"], "populations.q.params.indices.1", "index 3 is outside"),
    (["projections.x={source: exc, target: p, receptor: exc, connect: {rule: all_to_all}, weight: 1 mV}"], "projections.x.target", "cannot receive synapses"),
    (["currents.c={target: g, times: [0 ms], amplitudes: [1 pA]}"], "currents.c.target", "cannot receive a current"),
    (["record.traces.t={population: p, neurons: [0]}"], "record.traces.t.variables.0", "generators have no state"),
    (["projections.x={source: p, target: exc, receptor: exc, connect: {rule: all_to_all}, weight: 1 mV}"], None, None),
]
BAD_COBA = [
    (["projections.ie.weight=-67 nS"], "projections.ie.weight", "must be >= 0"),
    (["projections.ee.weight=1 mV"], "projections.ee.weight", "must be a conductance"),
    (["projections.ee.weight={dist: normal, mean: 6 nS, std: 1 nS}"], "projections.ee.weight", "clip: [0 S, null]"),
    (["populations.exc.initial.g_e=3 mV"], "populations.exc.initial.g_e", "expected a conductance"),
    (["populations.exc.params.E_x=0 mV"], "populations.exc.params.E_x", "E_e, E_i"),
]


def _check_case(source, overrides, path, fragment):
    if path is None:
        load_config(source, overrides)  # valid: must not raise
        return
    message = _problem(source, overrides)
    line = next((ln.strip() for ln in message.splitlines() if ln.strip().startswith(f"{path}: ")), None)
    assert line is not None, message
    assert fragment in line, message
    assert repr(source) in message  # the message names the config


@pytest.mark.parametrize("overrides, path, fragment", BAD_CUBA)
def test_bad_cuba_input(overrides, path, fragment):
    _check_case("cuba", overrides, path, fragment)


@pytest.mark.parametrize("overrides, path, fragment", BAD_GENERATORS)
def test_bad_generator_input(overrides, path, fragment):
    _check_case("cuba", GENERATORS + overrides, path, fragment)


@pytest.mark.parametrize("overrides, path, fragment", BAD_COBA)
def test_bad_coba_input(overrides, path, fragment):
    _check_case("coba", overrides, path, fragment)


def test_all_problems_in_one_message():
    message = _problem("cuba", ["projections.ee.target=foo", "projections.ie.source=bar"])
    assert "2 problems" in message
    assert "projections.ee.target: " in message and "projections.ie.source: " in message


def test_scaled_sizes_used_in_checks():
    message = _problem("cuba_scaled", ["scale=0.01", "projections.ee.connect.multapses=false"])
    assert "projections.ee.connect.k: " in message
    assert "32 neurons after scale 0.01" in message


# -- parsed objects -------------------------------------------------------


def test_spike_generator_indices_default_to_zero():
    cfg = load_config("cuba", GENERATORS)
    params = cfg.populations["g"].params
    assert params == {"times": [1e-3, 2e-3], "indices": [0, 0]}
    assert cfg.populations["p"].params == {"rate": 5.0}


def test_arrays_rule_keeps_per_synapse_quantities():
    cfg = load_config("cuba", [
        "projections.ei.connect={rule: arrays, pre: [0, 1, 2], post: [2, 1, 0], "
        "weight: [1 mV, 2 mV, 0.5 mV], delay: [0.1 ms, 1 ms, 2 ms]}",
    ])
    connect = cfg.projections["ei"].connect
    assert isinstance(connect, Arrays)
    np.testing.assert_array_equal(connect.weight_values(), [1e-3, 2e-3, 5e-4])
    np.testing.assert_array_equal(connect.delay_values(), [1e-4, 1e-3, 2e-3])
    assert connect.weight.dim == "V"
    assert load_config_text(dump_config(cfg)) == cfg


def test_round_trip_of_every_section():
    cfg = load_config("cuba", GENERATORS + [
        "populations.exc.initial.I_syn_e={dist: lognormal, median: 10 pA, sigma: 0.3, clip: [null, 1 nA]}",
        "populations.inh.initial.v={dist: constant, value: -55 mV, clip: [-60 mV, null]}",
        "projections.ee.weight={dist: normal, mean: 1.62 mV, std: 0.2 mV, clip: [0 mV, null]}",
        "projections.ee.delay={dist: uniform, low: 0.1 ms, high: 2 ms}",
        "projections.ie.connect={rule: fixed_outdegree, k: 20, autapses: false, multapses: false}",
        "projections.pe={source: p, target: exc, receptor: exc, connect: {rule: one_to_one}, weight: 1 pA}",
        "populations.p.size=3200",
        "currents.c={target: inh, times: [0 ms, 10 ms], amplitudes: [100 pA, 0 pA]}",
        "record.traces.t={population: exc, neurons: [0, 3], variables: [v, I_syn_i], interval: 1 ms}",
        "record.spikes=[exc, g]", "output.plots=false", "precision=float64", "description=two words",
    ])
    assert load_config_text(dump_config(cfg)) == cfg


def test_dump_writes_units():
    text = dump_config(load_config("cuba"))
    assert "tau_m: 0.02 s" in text and "weight: -0.009 V" in text and "C_m: 2.5e-10 F" in text


def test_python_dump_keeps_objects():
    cfg = load_config("cuba")
    data = cfg.model_dump()
    assert data["dt"] == 1e-4
    assert data["populations"]["exc"]["params"]["tau_m"] == 0.02


def test_config_can_be_built_in_python():
    cfg = RunConfig(duration="1 s", populations={"a": {"size": 4, "model": "lif_exp"}})
    assert cfg.duration == 1.0 and cfg.populations["a"].params["V_th"] == -0.055


# -- values and their sampling -------------------------------------------

N = 200_000


def _rng():
    return np.random.default_rng(12345)


def test_constant_value():
    value = parse_value("1.62 mV")
    assert isinstance(value, Constant) and value.is_constant
    assert (value.constant, value.dim) == (0.00162, "V")
    assert value.dist_args() == (0.00162, 0.00162)
    np.testing.assert_array_equal(value.sample(_rng(), 5), np.full(5, 0.00162))
    clipped = parse_value({"dist": "constant", "value": "5 mV", "clip": [None, "1 mV"]})
    assert clipped.constant == 0.001
    np.testing.assert_array_equal(clipped.sample(_rng(), 3), np.full(3, 0.001))


def test_uniform_statistics():
    value = parse_value({"dist": "uniform", "low": "-60 mV", "high": "-50 mV"})
    assert isinstance(value, Uniform) and not value.is_constant and value.dim == "V"
    x = value.sample(_rng(), N)
    width = 0.01
    assert x.min() >= -0.06 and x.max() < -0.05
    assert abs(x.mean() - (-0.055)) < 5 * width / math.sqrt(12 * N)
    assert math.isclose(x.std(), width / math.sqrt(12), rel_tol=0.01)
    with pytest.raises(ValueError):
        value.constant


def test_normal_statistics():
    value = parse_value({"dist": "normal", "mean": "40 nS", "std": "15 nS"})
    assert isinstance(value, Normal) and value.dim == "S"
    assert value.dist_args() == (4e-8, 1.5e-8)
    x = value.sample(_rng(), N)
    assert abs(x.mean() - 4e-8) < 5 * 1.5e-8 / math.sqrt(N)
    # Standard error of a normal sample's std is sigma / sqrt(2 N).
    assert abs(x.std() - 1.5e-8) < 5 * 1.5e-8 / math.sqrt(2 * N)
    assert value.bounds == (-math.inf, math.inf)


def test_lognormal_statistics():
    value = parse_value({"dist": "lognormal", "median": "2 nS", "sigma": 0.5})
    assert isinstance(value, LogNormal) and (value.median, value.sigma, value.dim) == (2e-9, 0.5, "S")
    logs = np.log(value.sample(_rng(), N))
    assert abs(logs.mean() - math.log(2e-9)) < 5 * 0.5 / math.sqrt(N)
    assert abs(logs.std() - 0.5) < 5 * 0.5 / math.sqrt(2 * N)
    assert value.bounds == (0.0, math.inf)


def test_negative_median_lognormal_gives_negative_samples():
    value = parse_value({"dist": "lognormal", "median": "-9 mV", "sigma": 0.2})
    x = value.sample(_rng(), 1000)
    assert (x < 0).all() and value.bounds == (-math.inf, 0.0)


def test_random_sign_statistics_and_yaml_round_trip():
    value = parse_value({"dist": "random_sign", "magnitude": "3 mV"})
    assert isinstance(value, RandomSign) and (value.magnitude, value.dim) == (3e-3, "V")
    x = value.sample(_rng(), N)
    assert set(np.unique(x)) == {-3e-3, 3e-3}
    # The count of + signs is binomial(N, 1/2).
    assert abs((x > 0).sum() - N / 2) < 5 * math.sqrt(N / 4)
    assert value.bounds == (-3e-3, 3e-3)
    assert parse_value(value.to_yaml()) == value


def test_clip_is_respected():
    value = parse_value({"dist": "normal", "mean": "0 mV", "std": "10 mV", "clip": ["-5 mV", "5 mV"]})
    x = value.sample(_rng(), N)
    assert x.min() == -0.005 and x.max() == 0.005
    # About 31.7 % of a standard normal lies beyond +-0.5 sigma, half each side.
    assert abs((x == 0.005).mean() - 0.5 * math.erfc(0.5 / math.sqrt(2))) < 0.005
    assert value.bounds == (-0.005, 0.005)
    assert value.clip_bounds() == (-0.005, 0.005)
    one_sided = parse_value({"dist": "normal", "mean": "1 mV", "std": "1 mV", "clip": ["0 mV", None]})
    assert one_sided.sample(_rng(), N).min() == 0.0
    assert one_sided.clip_bounds() == (0.0, math.inf)


def test_sampling_is_reproducible():
    value = parse_value({"dist": "normal", "mean": "-65 mV", "std": "5 mV"})
    np.testing.assert_array_equal(value.sample(_rng(), 100), value.sample(_rng(), 100))


def test_distribution_dims_must_agree():
    with pytest.raises(Exception) as info:
        parse_value({"dist": "uniform", "low": "1 mV", "high": "1 ms"})
    assert "share one dimension" in str(info.value)
