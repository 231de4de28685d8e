"""The crossbar backend: ideal tiles reproduce the cpu engine; counters by hand; config errors."""

import numpy as np
import pytest
from conftest import config, run

from neurosim.backends import available_backends
from neurosim.backends.base import HARDWARE_COUNTERS
from neurosim.errors import ConfigError

SMALL = """
    duration: 300 ms
    precision: float64
    populations:
      drive: {size: 40, model: poisson, params: {rate: 40 Hz}}
      exc: {size: 60, model: lif_exp, initial: {v: {dist: uniform, low: -70 mV, high: -50 mV}}}
      inh: {size: 20, model: lif_exp}
    projections:
      de: {source: drive, target: exc, receptor: exc, connect: {rule: fixed_indegree, k: 10}, weight: {dist: uniform, low: 2 mV, high: 6 mV}, delay: {dist: uniform, low: 0.5 ms, high: 2 ms}}
      ee: {source: exc, target: exc, receptor: exc, connect: {rule: fixed_probability, p: 0.2}, weight: 1 mV, delay: 1 ms}
      ei: {source: exc, target: inh, receptor: exc, connect: {rule: fixed_probability, p: 0.3}, weight: 2 mV}
      ie: {source: inh, target: exc, receptor: inh, connect: {rule: fixed_probability, p: 0.3}, weight: -4 mV, delay: 1.5 ms}
"""


def _spikes(result):
    return {name: (rec.times, rec.indices) for name, rec in result.spikes.items()}


def test_crossbar_backend_is_registered():
    assert "crossbar" in available_backends()


def _ideal_pair(precision):
    """The SMALL run on cpu and on ideal tiles smaller than the populations
    (several delays, Poisson input rows)."""
    cpu = run(config(SMALL, precision=precision))[1]
    xbar = run(config(SMALL, precision=precision, backend="crossbar", crossbar__ideal="true",
                      crossbar__tile_rows=16, crossbar__tile_cols=24))[1]
    assert sum(c["spikes"] for c in cpu.counters["populations"].values()) > 100
    return cpu, xbar


def test_ideal_crossbar_gives_the_same_spikes_as_the_cpu_backend_in_float64():
    cpu, xbar = _ideal_pair("float64")
    for name, (times, idx) in _spikes(cpu).items():
        other_times, other_idx = _spikes(xbar)[name]
        np.testing.assert_array_equal(other_times, times)
        np.testing.assert_array_equal(other_idx, idx)
    # The same spikes reach the same synapses: synaptic events as cpu counts them.
    assert xbar.metadata["delivered_events"] == cpu.metadata["delivered_events"] > 0


def test_ideal_crossbar_in_float32_stays_close_to_the_cpu_backend():
    # Two rows summed in one tile may round unlike cpu's one-by-one additions
    # (1 ulp of float32), which can move a spike by a step and then others:
    # required, 90 % of the trains identical and the spike totals within 2 %.
    cpu, xbar = _ideal_pair("float32")
    same = total = 0
    for name, (times, idx) in _spikes(cpu).items():
        other_times, other_idx = _spikes(xbar)[name]
        size = cpu.counters["populations"][name]["neurons"]
        for i in range(size):
            same += np.array_equal(times[idx == i], other_times[other_idx == i])
        total += size
        assert other_times.size == pytest.approx(times.size, rel=0.02)
    assert same >= 0.9 * total


def test_non_ideal_crossbar_changes_the_run_reproducibly():
    cpu = run(config(SMALL))[1]
    a = run(config(SMALL, backend="crossbar"))[1]
    b = run(config(SMALL, backend="crossbar"))[1]
    np.testing.assert_array_equal(a.spikes["exc"].times, b.spikes["exc"].times)
    assert not np.array_equal(a.spikes["exc"].times, cpu.spikes["exc"].times)


def test_non_ideal_crossbar_run_does_not_depend_on_chunking():
    # Read noise is drawn by (step, tile, column) counters: 0.15 s then
    # 0.15 s of one simulation gives the spikes of 0.3 s in one go.  A busier
    # drive and a read noise large enough to move spikes make the test bite.
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    settings = dict(backend="crossbar", crossbar__tile_rows=16, crossbar__tile_cols=24,
                    populations__drive__params__rate="150 Hz")
    cfg = config(SMALL, crossbar__read_noise=0.05, **settings)
    whole = run(cfg)[1]
    quiet = run(config(SMALL, crossbar__read_noise=0, **settings))[1]
    assert whole.spikes["exc"].times.size > 200
    assert not np.array_equal(whole.spikes["exc"].times, quiet.spikes["exc"].times)
    sim = Simulation(build_network(cfg), cfg)
    sim.run(0.15)
    split = sim.run(0.15)
    assert split.duration == pytest.approx(whole.duration)
    for name, (times, idx) in _spikes(whole).items():
        np.testing.assert_array_equal(split.spikes[name].times, times)
        np.testing.assert_array_equal(split.spikes[name].indices, idx)


def test_hardware_counters_by_hand():
    # Source neurons 0..4 fire: step 10 -> 0 and 3 (both in tile row 0 of
    # 4-row tiles), step 20 -> 4 (tile row 1).  The 6 targets need 2 tile
    # columns of 4 (4 + 2 columns).  Reads: step 10: 2 tiles with 2 rows,
    # step 20: 2 tiles with 1 row.
    cfg = config("""
        duration: 5 ms
        populations:
          src: {size: 5, model: spike_generator, params: {times: [1 ms, 1 ms, 2 ms], indices: [0, 3, 4]}}
          dst: {size: 6, model: lif_exp}
        projections:
          p: {source: src, target: dst, receptor: exc, connect: {rule: all_to_all}, weight: 0.1 mV}
    """, backend="crossbar", crossbar__ideal="true", crossbar__tile_rows=4, crossbar__tile_cols=4)
    hw = run(cfg)[1].counters["hardware"]["p"]
    assert set(hw) == set(HARDWARE_COUNTERS)
    assert hw["crossbar_reads"] == 4
    assert hw["activated_rows"] == hw["dac_conversions"] == 2 * 2 + 2 * 1
    assert hw["adc_conversions"] == hw["digital_accumulations"] == 2 * (4 + 2)
    assert hw["bytes_moved"] == 4 * 6 + 4 * 12  # row addresses + float32 outputs
    # Synaptic events, not column outputs: 3 spikes x 6 targets.
    assert run(cfg)[1].metadata["delivered_events"] == 3 * 6


def test_crossbar_section_in_yaml_and_its_errors():
    cfg = config(SMALL, backend="crossbar", crossbar__levels=8, crossbar__adc_bits=6)
    assert cfg.crossbar.levels == 8 and cfg.crossbar.adc_bits == 6
    with pytest.raises(ConfigError, match="crossbar.tile_cols: tile larger than allowed"):
        config(SMALL, crossbar__tile_cols=4096)
    with pytest.raises(ConfigError, match="crossbar.g_max: negative conductance"):
        config(SMALL, crossbar__g_max="-5 uS")
    # G(t) = G0 (t / t0)^-nu before t0 would exceed g_max.
    with pytest.raises(ConfigError, match="crossbar.read_time: must not be earlier than drift_t0"):
        config(SMALL, backend="crossbar", crossbar__read_time="1 s")
    with pytest.raises(ConfigError, match="crossbar: only the crossbar backend reads this section "
                                          "\\(backend is 'cpu'\\)"):
        config(SMALL, crossbar__levels=8)


def test_random_device_mode_gives_zero_mean_weights_with_the_device_spread():
    from neurosim.crossbar.projection import CrossbarProjection
    from neurosim.crossbar.random_device import expected_weight_std
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    cfg = config(SMALL, backend="crossbar", crossbar__mode="random_device",
                 crossbar__wire_resistance="0 Ohm", crossbar__tile_rows=64, crossbar__tile_cols=64)
    net = build_network(cfg)
    backend = Simulation(net, cfg).backend
    assert type(backend.tiles) is CrossbarProjection  # the RRAM liquid's too
    ee = next(m for m, i in enumerate(backend._mat_projection) if net.projections[i].name == "ee")
    cells = backend.tiles.conductances(ee)
    assert cells.shape == (60, 60)
    pairs = net.synapses("ee")
    used = np.zeros((60, 60), dtype=bool)
    used[pairs["pre"], pairs["post"]] = True
    g = cells[used].astype(np.float64)
    assert (cells[~used] == 0).all()  # unselected cells stay pristine
    assert abs(g.mean()) < 5 * g.std() / np.sqrt(g.size)
    assert g.std() == pytest.approx(expected_weight_std(cfg.crossbar.random_device), rel=0.1)


def test_tiles_without_synapses_are_never_read():
    # one_to_one on 12 neurons with 4 x 4 tiles: only the 3 diagonal tiles
    # exist, so each spike reads one tile (4 columns).
    cfg = config("""
        duration: 5 ms
        populations:
          src: {size: 12, model: spike_generator, params: {times: [1 ms, 2 ms, 3 ms], indices: [0, 5, 11]}}
          dst: {size: 12, model: lif_exp}
        projections:
          p: {source: src, target: dst, receptor: exc, connect: {rule: one_to_one}, weight: 0.1 mV}
    """, backend="crossbar", crossbar__tile_rows=4, crossbar__tile_cols=4)
    hw = run(cfg)[1].counters["hardware"]["p"]
    assert hw["crossbar_reads"] == 3
    assert hw["adc_conversions"] == 12


def test_tiles_too_large_for_memory_give_one_clear_error():
    from neurosim.errors import ResourceError

    cfg = config("""
        duration: 1 ms
        populations:
          a: {size: 400000, model: lif_exp}
        projections:
          p: {source: a, target: a, receptor: exc, connect: {rule: fixed_indegree, k: 1}, weight: 0.1 mV}
    """, backend="crossbar")
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    with pytest.raises(ResourceError, match="the crossbar tiles"):
        Simulation(build_network(cfg), cfg)


@pytest.mark.parametrize("ideal", ["true", "false"])
def test_threads_split_the_tiles_and_give_the_same_bits(ideal, monkeypatch):
    # Parts are made for small networks here, so that two threads really
    # split every matrix's tile columns (3 tile columns of 24 for exc: 2 + 1; inh has one,
    # read by the second part alone).
    from neurosim.backends.crossbar import CrossbarBackend
    from neurosim.driver.simulation import Simulation
    from neurosim.network import build_network

    monkeypatch.setattr(CrossbarBackend, "min_neurons_per_part", 1)
    cfg = config(SMALL, backend="crossbar", crossbar__ideal=ideal, crossbar__tile_rows=16,
                 crossbar__tile_cols=24, crossbar__read_noise=0.05, duration="150 ms")
    out = {}
    for threads in (1, 2):
        sim = Simulation(build_network(cfg), cfg, threads=threads)
        assert sim.backend.parts == threads
        out[threads] = (sim.run(), sim.backend.state())
    (one, state1), (two, state2) = out[1], out[2]
    for name, (times, idx) in _spikes(one).items():
        np.testing.assert_array_equal(two.spikes[name].times, times)
        np.testing.assert_array_equal(two.spikes[name].indices, idx)
    for key in ("v", "syn", "tile_counts", "events"):
        np.testing.assert_array_equal(state2[key], state1[key])
    assert one.counters["hardware"] == two.counters["hardware"]
