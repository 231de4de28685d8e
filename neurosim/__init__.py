"""neurosim: an event-driven spiking neural network engine.

Typical use::

    import neurosim
    cfg = neurosim.load_config("cuba", overrides=["duration=2s"])
    result = neurosim.simulate(cfg)
    print(result.mean_rate("exc"))
"""

import os

__version__ = "0.1.0"

# Bit-identical results for any thread count need the same scalar math in
# every loop: Intel SVML would give vectorised exp a different last bit than
# the remainder loops, whose extent depends on the thread split.  numba reads
# this when it is first imported.
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

from neurosim.api import build, simulate  # noqa: E402
from neurosim.config import dump_config, load_config  # noqa: E402
from neurosim.engine.simulation import Simulation  # noqa: E402
from neurosim.errors import ConfigError, DataError, NeurosimError, OutputError, ResourceError  # noqa: E402

__all__ = [
    "ConfigError", "DataError", "NeurosimError", "OutputError", "ResourceError", "Simulation",
    "build", "dump_config", "load_config", "simulate", "__version__",
]
