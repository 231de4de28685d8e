"""One network over the processes of an MPI job (``mpirun -n R neurosim run ... --distributed``).

:mod:`~neurosim.network.partition` says which neurons a rank holds,
:mod:`.backend` advances them and exchanges spikes, :mod:`.simulation`
drives a rank and assembles the one result file, :mod:`.run` is the task.
"""
