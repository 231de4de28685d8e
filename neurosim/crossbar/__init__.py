"""RRAM crossbar emulation: weights as differential conductance pairs on tiles.

- :mod:`~neurosim.crossbar.stages`: device non-idealities, one stage each,
  each with an ideal twin, composed in a chain;
- :mod:`~neurosim.crossbar.periphery`: DAC, read noise and ADC at every read;
- :mod:`~neurosim.crossbar.tiles`: mapping onto tiles and the batched analog
  matrix-vector product of real-valued inputs (:class:`CrossbarArray`);
- :mod:`~neurosim.crossbar.projection`: the crossbar projection, read by
  spikes (:class:`CrossbarProjection`): the ``crossbar`` backend's synapses
  and the RRAM liquid's;
- :mod:`~neurosim.crossbar.random_device`: fixed random weights from
  switching statistics.

Settings: :class:`~neurosim.config.crossbar.CrossbarConfig` (the ``crossbar:``
section of a run config).

>>> import numpy as np
>>> w = np.array([[1.0, -2.0], [0.5, 0.0]])
>>> xbar = CrossbarArray(w, device_params(ideal=True))
>>> np.allclose(xbar.matvec([1.0, 2.0]), [2.0, -2.0])
True
"""

from neurosim.config.crossbar import CrossbarConfig, RandomDevice
from neurosim.crossbar.projection import CrossbarProjection
from neurosim.crossbar.tiles import CrossbarArray, TiledMatrix, device_params, program

__all__ = ["CrossbarArray", "CrossbarConfig", "CrossbarProjection", "RandomDevice", "TiledMatrix",
           "device_params", "program"]
