"""Models: neurons, plasticity and the astrocyte, each declared once.

A model's package holds its description (parameters with units and
defaults, state variables, discretisation) in ``__init__.py`` and its
kernels per backend family beside it (``numba_kernels.py``,
``torch_kernels.py``); :mod:`neurosim.models.registry` is the one table of
models and finds their kernels by key.
"""

from neurosim.models.base import RECEPTORS, NeuronModel
from neurosim.models.registry import (
    get_model,
    has_implementation,
    implementation,
    model_code,
    neuron_models,
    spiking_models,
)

__all__ = ["RECEPTORS", "NeuronModel", "get_model", "has_implementation", "implementation",
           "model_code", "neuron_models", "spiking_models"]
