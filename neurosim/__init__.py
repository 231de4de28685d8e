"""neurosim: an event-driven spiking neural network engine.

Typical use::

    import neurosim
    cfg = neurosim.load_config("cuba", overrides=["duration=2s"])
    result = neurosim.simulate(cfg)
    print(result.mean_rate("exc"))
"""

__version__ = "0.1.0"

import neurosim.numba_settings  # noqa: E402,F401  (before numba is imported)

from neurosim.api import build, simulate  # noqa: E402
from neurosim.config import dump_config, load_config  # noqa: E402
from neurosim.engine.simulation import Simulation  # noqa: E402
from neurosim.errors import ConfigError, DataError, NeurosimError, OutputError, ResourceError  # noqa: E402

__all__ = [
    "ConfigError", "DataError", "NeurosimError", "OutputError", "ResourceError", "Simulation",
    "build", "dump_config", "load_config", "simulate", "__version__",
]
