"""The driver above the backends: a run's inputs, chunks, recording, checkpoints and result.

It calls a backend (:mod:`neurosim.backends`) chunk by chunk; nothing below
it imports it.
"""
