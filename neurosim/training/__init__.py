"""Surrogate-gradient training of spiking networks on the model layer's torch steps.

One module, one job: :mod:`~neurosim.training.surrogates` (spike derivatives),
:mod:`~neurosim.training.neurons` (a layer's neurons over all steps, fused
backward), :mod:`~neurosim.training.model` (the layers of a config),
:mod:`~neurosim.training.encoders` (images -> inputs),
:mod:`~neurosim.training.loop` (epochs, evaluation, checkpoints),
:mod:`~neurosim.training.result` (the HDF5 result), :mod:`~neurosim.training.task`
(the task's entry points).
"""
