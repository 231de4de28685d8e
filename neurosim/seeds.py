"""Named seed streams: every random draw of a run comes from one of these.

A stream is the child ``SeedSequence(seed, spawn_key=(key, ...))`` of the
run's root seed, so each is fixed by the seed alone, whatever else the run
draws and in whatever order.  The keys are the values the streams have
always had (results at a seed stay the same); tasks reuse key numbers for
their own purposes, since one run is one task.

The counter-based generator that draws from a stream's key without state
(connectivity, Poisson inputs, input spikes) is :mod:`neurosim.network.random`.
"""

from __future__ import annotations

import numpy as np

# -- network runs ----------------------------------------------------------
#: Synapses of every projection (child ``k``: the ``k``-th projection).
CONNECTIVITY = 0
#: The ``initial:`` state of the populations.
INITIAL_STATE = 1
#: Poisson populations (child ``k``: the ``k``-th population).
POISSON = 3
#: Crossbar programming and read noise (child ``k``: the ``k``-th tile matrix).
CROSSBAR = 7
#: Neuron parameters drawn per neuron (child ``k``: the ``k``-th population).
NEURON_PARAMETERS = 8
#: Which grid point each neuron of a grid gets (child ``k``: the ``k``-th grid).
GRID_POSITIONS = 9

# -- task: lsm_classification ----------------------------------------------
#: The liquid's structure (a network's connectivity stream).
LSM_LIQUID = CONNECTIVITY
#: Which samples of the data set each split uses.
LSM_SPLIT = 1
#: The order of the initialisation samples.
LSM_INIT_ORDER = 2
#: The input spikes of every sample.
LSM_INPUT_SPIKES = 3
#: The softmax readouts' minibatch order.
LSM_READOUT = 4
#: ``neurosim metrics``: the scalar drive and the twin runs.
LSM_METRICS = 5

# -- task: rram_lsm ----------------------------------------------------------
#: Which samples each split uses.
RRAM_SPLIT = 0
#: The software liquid's weights.
RRAM_WEIGHTS = 1
#: The crossbar's devices and read noise.
RRAM_CROSSBAR = 2
#: The readouts' minibatch order.
RRAM_READOUT = 3


def stream(seed: int, key: int, *child: int) -> np.random.SeedSequence:
    """The seed sequence of stream ``key`` (and its ``child`` numbers) of ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(key, *child))


def stream_int(seed: int, key: int, *child: int, bits: int = 64) -> int:
    """An integer seed of ``bits`` (32 or 64) bits from a stream."""
    dtype = np.uint64 if bits == 64 else np.uint32
    return int(stream(seed, key, *child).generate_state(1, dtype)[0])


def generator(seed: int, key: int, *child: int) -> np.random.Generator:
    """A numpy generator on a stream."""
    return np.random.default_rng(stream(seed, key, *child))


# -- task: train ---------------------------------------------------------------
#: Which samples each split uses.
TRAIN_SPLIT = 0
#: The initial weights.
TRAIN_WEIGHTS = 1
#: The minibatch order (child: the epoch).
TRAIN_ORDER = 2
#: Bernoulli input spikes (children: the split's place in
#: :data:`neurosim.training.loop.SPLITS`, the epoch, the batch).
TRAIN_INPUT_SPIKES = 3
