"""A single LIF neuron driven by a step current, compared with the closed form.

    python examples/single_neuron.py
"""

import numpy as np

import neurosim
from neurosim.config import load_config_text

cfg = load_config_text("""
duration: 100 ms
precision: float64
populations:
  n: {size: 1, model: lif_exp, params: {C_m: 250 pF, tau_m: 20 ms, E_L: -70 mV, V_th: 0 mV}}
currents:
  step: {target: n, times: [10 ms], amplitudes: [300 pA]}
record:
  traces:
    n: {population: n, neurons: [0], variables: [v]}
""")
trace = neurosim.simulate(cfg).traces["n"]
t = trace.times
closed_form = -70e-3 + 0.08e9 * 300e-12 * -np.expm1(-np.clip(t - 10e-3, 0, None) / 20e-3)
print(f"max |V - V_exact| = {np.abs(trace.data[:, 0, 0] - closed_form).max():.3e} V")
