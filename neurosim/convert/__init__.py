"""ANN -> SNN conversion: a ReLU (or QCFS) ANN becomes integrate-and-fire neurons
with reset by subtraction, on the model layer's ``lif_discrete`` step.

One module, one job: :mod:`~neurosim.convert.ann` (the ANN: built, trained,
loaded), :mod:`~neurosim.convert.normalise` (each layer's threshold from its
activations), :mod:`~neurosim.convert.snn` (the converted network over the
steps), :mod:`~neurosim.convert.result` (the HDF5 result),
:mod:`~neurosim.convert.task` (the task's entry points).
"""
