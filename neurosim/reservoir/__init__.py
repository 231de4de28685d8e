"""Liquid state machines and reservoirs: LSM, LSM+STDP, the neuron-astrocyte LSM
(NALSM), an E/I adaptive rate reservoir, and reservoir metrics.

>>> from neurosim.reservoir import LiquidSpec, build_liquid
>>> liquid = build_liquid(LiquidSpec(grid=(5, 5, 5)), seed=0)
>>> liquid.n_liquid, liquid.n_total
(125, 909)
"""

from neurosim.reservoir.branching import branching_factor
from neurosim.reservoir.liquid import Liquid, LiquidSpec, build_liquid, liquid_network
from neurosim.reservoir.readout import l1_features, train_ridge, train_softmax
from neurosim.reservoir.simulate import Dynamics, LiquidSimulator

__all__ = [
    "Dynamics", "Liquid", "LiquidSimulator", "LiquidSpec", "branching_factor", "build_liquid",
    "liquid_network", "l1_features", "train_ridge", "train_softmax",
]
