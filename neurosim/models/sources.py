"""Spike sources: models without dynamics, whose spikes the driver generates
(:mod:`neurosim.driver.inputs`) and hands to the kernels as events.

- ``poisson``: independent Poisson trains at ``rate``, one per neuron;
- ``spike_generator``: neuron ``indices[k]`` fires at ``times[k]``.
"""

from __future__ import annotations

from typing import Union

from pydantic import NonNegativeInt, model_validator

from neurosim.config.base import NonNegativeFrequency, NonNegativeTime, StrictModel, problems_error
from neurosim.models.base import NeuronModel


class PoissonParams(StrictModel):
    """Independent Poisson spike trains, one per neuron."""

    rate: NonNegativeFrequency
    """Firing rate of each neuron."""


class SpikeGeneratorParams(StrictModel):
    """Spikes at given times: neuron ``indices[k]`` fires at ``times[k]``."""

    times: list[NonNegativeTime]
    """Spike times."""
    indices: Union[list[NonNegativeInt], None] = None
    """Neuron of each spike (default: all neuron 0); checked against the size by RunConfig."""

    @model_validator(mode="after")
    def _same_length(self) -> SpikeGeneratorParams:
        if self.indices is not None and len(self.indices) != len(self.times):
            raise problems_error([(
                ("indices",),
                f"has {len(self.indices)} entries but times has {len(self.times)}",
            )])
        return self


POISSON = NeuronModel(name="poisson", params=PoissonParams, source=True)
SPIKE_GENERATOR = NeuronModel(name="spike_generator", params=SpikeGeneratorParams, source=True)
