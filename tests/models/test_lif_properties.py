"""Invariants of the LIF neuron over many parameter draws (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import config, run

NEURONS = """
seed: 0
duration: 300 ms
populations:
  n:
    size: 4
    model: lif_exp
    params: {{C_m: {c} pF, tau_m: {tau} ms, E_L: -70 mV, V_th: -55 mV, V_reset: -70 mV,
              t_ref: 2 ms}}
currents:
  drive: {{target: n, times: [0 ms], amplitudes: [{amp} pA]}}
"""


def spikes(c_pf: float, tau_ms: float, amp_pa: float) -> int:
    _, res = run(config(NEURONS.format(c=c_pf, tau=tau_ms, amp=amp_pa)))
    return res.counters["populations"]["n"]["spikes"]


def rheobase_pa(c_pf: float, tau_ms: float) -> float:
    """Current at which V settles exactly at threshold: (V_th - E_L) / R."""
    return 15e-3 / (tau_ms * 1e-3 / (c_pf * 1e-12)) * 1e12


@settings(max_examples=15, deadline=None)
@given(c=st.floats(50, 500), tau=st.floats(5, 50), fraction=st.floats(0.0, 0.99))
def test_no_spike_below_rheobase(c, tau, fraction):
    assert spikes(c, tau, fraction * rheobase_pa(c, tau)) == 0


@settings(max_examples=10, deadline=None)
@given(c=st.floats(50, 500), tau=st.floats(5, 50), low=st.floats(1.05, 3.0),
       extra=st.floats(0.1, 3.0))
def test_rate_does_not_decrease_with_input(c, tau, low, extra):
    base = rheobase_pa(c, tau)
    assert 0 < spikes(c, tau, low * base) <= spikes(c, tau, (low + extra) * base)
