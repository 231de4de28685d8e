"""The models beyond ``lif_exp``/``lif_cond_exp`` against their own equations,
per-neuron parameter distributions, and the registry's refusals."""

from __future__ import annotations

import dataclasses
import sys
import textwrap

import numpy as np
import pytest

from conftest import config, run
from neurosim.errors import ConfigError
from neurosim.models import registry

ALIF = """
seed: 4
dt: 0.1 ms
precision: float64
duration: 300 ms
populations:
  n:
    size: 1
    model: MODEL
    params: {tau_m: 20 ms, E_L: -70 mV, V_th: -55 mV, V_reset: -70 mV, t_ref: 2 ms,
             I_e: 1 nA EXTRA}
record:
  traces:
    n: {population: n, neurons: [0], variables: VARS}
"""


def alif(model="alif", extra=", tau_b: 50 ms, beta: 2 mV", variables="[v, b]"):
    return config(ALIF.replace("MODEL", model).replace("EXTRA", extra).replace("VARS", variables))


def test_alif_adaptation_is_the_decayed_sum_of_its_spikes():
    _, res = run(alif())
    steps = np.rint(res.spikes["n"].times / 1e-4).astype(int) - 1  # the step that fired
    b = res.traces["n"].data[:, 0, 1]
    q = np.exp(-1e-4 / 50e-3)
    n = np.arange(b.size)
    # b after step n: every earlier (or this) spike s, decayed n - s times.
    expected = np.array([np.sum(q ** (k - steps[steps <= k])) for k in n])
    np.testing.assert_allclose(b, expected, rtol=1e-12, atol=1e-15)
    isi = np.diff(steps)
    assert steps.size >= 5 and isi[-1] > isi[0], "the threshold adapts: intervals lengthen"


def test_alif_without_adaptation_is_lif_exp_bit_for_bit():
    _, plain = run(alif("lif_exp", extra="", variables="[v]"))
    _, adaptive = run(alif(extra=", tau_b: 50 ms, beta: 0 mV"))
    np.testing.assert_array_equal(adaptive.spikes["n"].times, plain.spikes["n"].times)
    np.testing.assert_array_equal(adaptive.traces["n"].data[:, :, 0],
                                  plain.traces["n"].data[:, :, 0])


DISCRETE = """
seed: 1
dt: 1 ms
precision: float64
duration: 60 ms
populations:
  n: {size: 3, model: lif_discrete, params: {beta: 0.8, bias: BIAS, threshold: 1.0, reset: RESET}}
record:
  traces:
    n: {population: n, neurons: [0, 1, 2], variables: [v]}
"""


def discrete(reset, bias="{dist: uniform, low: 0.15, high: 0.6}"):
    return config(DISCRETE.replace("RESET", reset).replace("BIAS", bias))


def test_lif_discrete_subtract_is_snntorch_leaky():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    net, res = run(discrete("subtract"))
    bias = np.asarray(net.groups.values[0]["bias"], np.float64)  # one group per neuron
    leaky = snn.Leaky(beta=torch.tensor(0.8, dtype=torch.float64), threshold=1.0,
                      reset_mechanism="subtract")
    mem = torch.zeros(3, dtype=torch.float64)
    spikes, mems = [], []
    for _ in range(60):
        spk, mem = leaky(torch.as_tensor(bias), mem)
        spikes.append(spk.numpy().copy())
        mems.append(mem.numpy().copy())
    np.testing.assert_allclose(res.traces["n"].data[:, :, 0], np.array(mems), atol=1e-12)
    ref_steps, ref_idx = np.nonzero(np.array(spikes))
    order = np.lexsort((ref_idx, ref_steps))
    got = np.rint(res.spikes["n"].times / 1e-3).astype(int) - 1
    np.testing.assert_array_equal(got, ref_steps[order])
    np.testing.assert_array_equal(res.spikes["n"].indices, ref_idx[order])


def test_lif_discrete_zero_reset_and_refractory_count():
    cfg = config(DISCRETE.replace("RESET", "zero").replace("BIAS", "0.5")
                 .replace("reset: zero}", "reset: zero, t_ref: 2 ms}"))
    _, res = run(cfg)
    v = res.traces["n"].data[:, 0, 0]
    expected, x, count = [], 0.0, 0
    fired = []
    for n in range(60):
        x = 0.8 * x + 0.5
        count = max(count - 1, 0)
        if x >= 1.0 and count == 0:
            x, count = 0.0, 3
            fired.append(n)
        expected.append(x)
    np.testing.assert_allclose(v, expected, atol=1e-12)
    got = np.rint(res.spikes["n"].times[res.spikes["n"].indices == 0] / 1e-3).astype(int) - 1
    np.testing.assert_array_equal(got, fired)


HETERO = """
seed: 9
dt: 0.1 ms
precision: float64
duration: 30 ms
populations:
  n:
    size: 40
    model: lif_exp
    params: {tau_m: {dist: uniform, low: 5 ms, high: 40 ms}, E_L: -70 mV, V_th: 0 mV,
             V_reset: -70 mV, I_e: 200 pA, C_m: 250 pF}
record:
  traces:
    n: {population: n, neurons: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], variables: [v]}
"""


def test_per_neuron_time_constants_follow_each_neurons_own_solution():
    net, res = run(config(HETERO))
    tau = np.asarray(net.groups.values[0]["tau_m"], np.float64)
    assert tau.shape == (40,) and np.unique(tau).size == 40
    assert tau.min() >= 5e-3 and tau.max() <= 40e-3
    t = res.traces["n"].times[:, None]
    traced = tau[:10]
    expected = -70e-3 + (traced / 250e-12) * 200e-12 * -np.expm1(-t / traced)
    np.testing.assert_allclose(res.traces["n"].data[:, :, 0], expected, rtol=0, atol=1e-12)
    again, _ = run(config(HETERO))
    np.testing.assert_array_equal(np.asarray(again.groups.values[0]["tau_m"]), tau)


def test_a_parameter_distribution_outside_its_bounds_is_refused():
    text = HETERO.replace("low: 5 ms", "low: -5 ms")
    with pytest.raises(ConfigError, match="tau_m"):
        run(config(text))


@pytest.fixture
def unported_model(tmp_path, monkeypatch):
    """A model registered with a description but no kernels for any backend."""
    package = tmp_path / "unported_model"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent("""
        import dataclasses
        from neurosim.models.lif_exp import MODEL as LIF
        MODEL = dataclasses.replace(LIF, name="unported")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry._NEURONS, "unported", ("unported_model", "MODEL"))
    yield
    registry._loaded.pop("unported", None)
    sys.modules.pop("unported_model", None)


@pytest.mark.parametrize("backend", ["cpu", "torch"])
def test_a_model_without_kernels_is_refused_by_name(unported_model, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network
    cfg = config("""
        dt: 0.1 ms
        duration: 1 ms
        populations:
          n: {size: 2, model: unported}
    """)
    with pytest.raises(ConfigError, match=f"'unported' is not implemented on backend '{backend}'"):
        Simulation(build_network(cfg), cfg, backend=backend)


def test_unknown_model_names_the_known_ones():
    with pytest.raises(ConfigError, match="unknown neuron model 'lifx'.*lif_exp"):
        config("""
            dt: 0.1 ms
            duration: 1 ms
            populations:
              n: {size: 2, model: lifx}
        """)
    assert dataclasses.is_dataclass(registry.get_model("alif"))


@pytest.mark.parametrize("dist, mean, std", [
    ("{dist: uniform, low: 10 ms, high: 30 ms}", 20e-3, 20e-3 / np.sqrt(12)),
    ("{dist: normal, mean: 20 ms, std: 3 ms, clip: [1 ms, 100 ms]}", 20e-3, 3e-3),
])
def test_per_neuron_draws_follow_their_distribution(dist, mean, std):
    from neurosim.network import build_network
    cfg = config(HETERO.replace("{dist: uniform, low: 5 ms, high: 40 ms}", dist)
                 .replace("size: 40", "size: 4000"))
    tau = np.asarray(build_network(cfg).groups.values[0]["tau_m"])
    assert tau.size == 4000  # one group per neuron: every draw distinct
    assert abs(tau.mean() - mean) < 4 * std / np.sqrt(tau.size)
    assert abs(tau.std() - std) < 0.05 * std
