"""Schema of ``task: deploy`` configs: a trained network run sample by sample on a
backend (``neurosim deploy RESULT`` writes one in memory)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.run import Output


class DeployConfig(StrictModel):
    """A trained network (a ``neurosim train`` result) deployed onto a backend."""

    task: Literal["deploy"]
    """Config kind."""
    name: str = Field(default="deploy", min_length=1)
    """Run name (the result file's stem by default)."""
    description: str = ""
    """Free text."""
    source: str = Field(min_length=1)
    """The result file of the trained network."""
    backend: Literal["cpu", "torch", "crossbar"] = "cpu"
    """Backend the network runs on: the numba event engine, torch, or RRAM crossbar tiles."""
    device: Literal["cpu", "cuda"] = "cpu"
    """Device of the torch backend."""
    samples: int | None = Field(default=None, ge=1)
    """Test samples to run (the first ones of the training's test split); None: all."""
    seed: int = Field(default=0, ge=0)
    """Seed of the crossbar's programming and read noise."""
    threads: int = Field(default=1, ge=1)
    """Threads of the backend (and of torch for the reference forward pass)."""
    crossbar: CrossbarConfig = CrossbarConfig()
    """The crossbar's tiles and non-idealities (backend crossbar only)."""
    output: Output = Output()
