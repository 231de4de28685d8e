"""Run the built-in CUBA network at a few seeds and print per-population rates.

    python examples/cuba_rates.py
"""

import neurosim

for seed in (1, 2, 3):
    cfg = neurosim.load_config("cuba", overrides=[f"seed={seed}", "duration=0.5s"])
    result = neurosim.simulate(cfg)
    rates = ", ".join(f"{pop} {result.mean_rate(pop):.2f} Hz" for pop in result.populations)
    print(f"seed {seed}: {rates}  ({result.metadata['sim_s']:.3f} s)")
