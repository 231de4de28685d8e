"""neurosim: an event-driven spiking neural network engine.

Typical use::

    import neurosim
    cfg = neurosim.load_config("cuba", overrides=["duration=2s"])
    result = neurosim.simulate(cfg)
    print(result.mean_rate("exc"))
"""

import os

__version__ = "0.1.0"

# Set before numba is imported (it reads its settings then); a user's own
# setting wins.
# - Bit-identical results for any thread count need the same scalar math in
#   every loop: Intel SVML would give vectorised exp a different last bit than
#   the remainder loops, whose extent depends on the thread split.
# - Threads meet once per time step.  libgomp's default let an idle worker
#   sleep at once here (~0.5 ms to wake on a 2-core VM, longer than a step);
#   spinning a bounded while first brings a meeting to ~2 us, and the worker
#   still sleeps when the engine is idle, leaving the core to others.
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
os.environ.setdefault("GOMP_SPINCOUNT", "100000")

from neurosim.api import build, simulate  # noqa: E402
from neurosim.config import dump_config, load_config  # noqa: E402
from neurosim.engine.simulation import Simulation  # noqa: E402
from neurosim.errors import ConfigError, DataError, NeurosimError, OutputError, ResourceError  # noqa: E402

__all__ = [
    "ConfigError", "DataError", "NeurosimError", "OutputError", "ResourceError", "Simulation",
    "build", "dump_config", "load_config", "simulate", "__version__",
]
