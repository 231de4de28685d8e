"""Neuron models: parameters, state layout and the discretisation of each.

A model here is description only (what parameters and state it has, and the
propagators that advance it by one step); backends hold the kernels.
"""

from neurosim.models.lif import (
    MODEL_CODES,
    NeuronModel,
    SOURCE_MODELS,
    get_model,
)

__all__ = ["MODEL_CODES", "NeuronModel", "SOURCE_MODELS", "get_model"]
