"""Deployment of a trained network onto the engine's backends (``neurosim deploy``).

:mod:`~neurosim.deploy.network` (the trained layers as a neurosim network and its
pipeline timing), :mod:`~neurosim.deploy.run` (the samples on a backend next to
the training's forward pass), :mod:`~neurosim.deploy.result` (the HDF5 result),
:mod:`~neurosim.deploy.task` (the task's entry points and its energy report).
"""
