"""Hardware energy estimates: counters x cited hardware profiles -> energy, latency, power.

The energy module reads plain counter dicts (``Result.counters``, or the
counts of a torch model from :mod:`neurosim.energy.torch_count`) and the cost
tables in ``hardware/*.yaml``; it never looks at a backend. Importing it does
not import torch.

>>> from neurosim.energy import estimate
>>> counters = {"projections": {"p": {"synaptic_events": 1000}}}
>>> estimate(counters, "loihi").total   # 1000 x 23.6 pJ
2.36e-08
"""

from neurosim.energy.counters import CATEGORIES, add_counters
from neurosim.energy.plot import plot_comparison
from neurosim.energy.profile import (
    Constant,
    Profile,
    available_profiles,
    load_profile,
    resolve_profiles,
)
from neurosim.energy.report import (
    EnergyLine,
    EnergyReport,
    compare_table,
    estimate,
    estimate_result,
    percent_less,
)

__all__ = [
    "CATEGORIES", "Constant", "EnergyLine", "EnergyReport", "Profile", "add_counters",
    "available_profiles", "compare_table", "estimate", "estimate_result", "load_profile",
    "percent_less", "plot_comparison", "resolve_profiles",
]
