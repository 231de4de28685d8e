"""Hardware counters of the cpu backend follow from the synaptic events it delivered."""

from conftest import config, run

from neurosim.backends.base import HARDWARE_COUNTERS


def test_cpu_hardware_counters_match_delivered_events():
    cfg = config("""
        duration: 50 ms
        populations:
          src: {size: 20, model: poisson, params: {rate: 200 Hz}}
          dst: {size: 30, model: lif_exp}
        projections:
          p: {source: src, target: dst, receptor: exc, connect: {rule: fixed_indegree, k: 5}, weight: 0.1 mV}
    """)
    _, result = run(cfg)
    events = result.counters["projections"]["p"]["synaptic_events"]
    hw = result.counters["hardware"]["p"]
    assert set(hw) == set(HARDWARE_COUNTERS)
    assert events > 0
    assert hw["digital_accumulations"] == events
    assert hw["bytes_moved"] == 8 * events  # int32 target + float32 weight per event
    assert hw["crossbar_reads"] == hw["adc_conversions"] == 0
