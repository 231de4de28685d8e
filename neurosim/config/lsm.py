"""Schema of ``task: lsm_classification`` configs: a liquid state machine
(LSM, LSM+STDP or the neuron-astrocyte NALSM) classifying an image data set.

Same conventions as :mod:`neurosim.config.run`: times as strings with
units, unknown keys rejected, errors with key paths. Membrane quantities
(threshold, input current, weights) are in the paper's dimensionless membrane
units. Every default is the NALSM paper's (Ivanov & Michmizos, NeurIPS 2021).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, field_validator, model_validator

from neurosim.config.base import (NonNegativeTime, PathText, PositiveTime, SafeName, Seed,
                                  StrictModel, problems_error, q, range_problems)
from neurosim.config.run import Energy, Output
from neurosim.units import MAX_REFRACTORY_STEPS, pretty_quantity, steps_problem

#: Pixels of one image of each data set: the encoder drives one input neuron per pixel.
PIXELS = {"fashion_mnist": 28 * 28}


class DataSection(StrictModel):
    """Which images, and how many of each split."""

    dataset: Literal["fashion_mnist"] = "fashion_mnist"
    """Data set (read from its standard idx files, never downloaded)."""
    path: PathText | None = None
    """Folder of the idx files; None: /usr/share/datasets/fashion-mnist."""
    train: int = Field(default=50000, ge=1, le=50000)
    """Training samples (from the first 50,000 training images)."""
    validation: int = Field(default=10000, ge=1, le=10000)
    """Validation samples (from the last 10,000 training images)."""
    test: int = Field(default=10000, ge=1, le=10000)
    """Test samples."""


class EncoderSection(StrictModel):
    """Pixels -> input spikes: each image divided by its pixel sum, then by the
    largest such share in the training file; input neuron k receives
    ``input_current`` with that probability every step."""

    kind: Literal["bernoulli_rate"] = "bernoulli_rate"
    """Encoder (the paper's Bernoulli rate code)."""
    peak_from: Literal["split", "train"] = "train"
    """Whose maximum the L1-normalised pixels are divided by. train: the
    training file's for every split, so test images are encoded as the
    readout's training images were; split: each data set file its own (the
    paper's code; on Fashion-MNIST the test file's maximum is 0.041 against
    the training file's 0.066, so test images drive the inputs 1.6x harder
    than training and validation images)."""
    input_current: float = Field(default=100.0, gt=0)
    """Current a driven input neuron receives in one step (membrane units)."""


class LiquidSection(StrictModel):
    """The 3-D grid liquid and its input synapses."""

    size: int = Field(default=1000, ge=2)
    """Liquid neurons; must equal the product of ``grid``."""
    grid: tuple[int, int, int] = (10, 10, 10)
    """Grid dimensions."""
    exc_fraction: float = Field(default=0.8, gt=0, lt=1)
    """Fraction of excitatory neurons."""
    length_scale: float = Field(default=3.0, gt=0)
    """lambda of p = C exp(-(D/lambda)^2), in grid spacings."""
    c_ee: float = Field(default=0.2, ge=0, le=1)
    """C for excitatory -> excitatory."""
    c_ei: float = Field(default=0.1, ge=0, le=1)
    """C for excitatory -> inhibitory."""
    c_ie: float = Field(default=0.3, ge=0, le=1)
    """C for inhibitory -> excitatory."""
    c_ii: float = Field(default=0.05, ge=0, le=1)
    """C for inhibitory -> inhibitory."""
    inputs: int = Field(default=784, ge=1)
    """Input neurons (one per pixel)."""
    input_density: float = Field(default=0.15, gt=0, le=1)
    """Probability of each input -> liquid synapse (random sign)."""
    w_init: float = Field(default=3.0, gt=0)
    """Magnitude of every initial weight."""
    w_max: float = Field(default=3.0, gt=0)
    """Weight bounds: excitatory [0, w_max], inhibitory [-w_max, 0], input [-w_max, w_max]."""

    @model_validator(mode="after")
    def _check_grid(self) -> LiquidSection:
        problems = []
        if any(g < 1 for g in self.grid):
            problems.append((("grid",), f"every dimension must be >= 1, got {list(self.grid)}"))
        elif math.prod(self.grid) != self.size:
            gx, gy, gz = self.grid
            problems.append((("grid",), f"{gx}x{gy}x{gz} = {gx * gy * gz} neurons does not "
                                        f"match liquid.size = {self.size}"))
        if self.w_init > self.w_max:
            problems.append((("w_init",), f"{self.w_init} exceeds w_max = {self.w_max}"))
        if problems:
            raise problems_error(problems)
        return self


class NeuronSection(StrictModel):
    """Liquid and input neurons:
    V <- V - V dt/tau_v + sum_j w_j exp(-Delta_j/tau_u) dt/tau_u + I."""

    tau_v: PositiveTime = q("64 ms")
    """Membrane time constant."""
    tau_u: PositiveTime = q("1 ms")
    """Synaptic time constant."""
    threshold: float = Field(default=20.0, gt=0)
    """Firing threshold (reset to 0)."""
    refractory: NonNegativeTime = q("2 ms")
    """Steps after a spike in which the neuron cannot fire."""


class PlasticitySection(StrictModel):
    """Trace STDP on every synapse into the liquid (input synapses included)."""

    rule: Literal["none", "stdp", "astro_stdp"] = "astro_stdp"
    """none: fixed weights (LSM); stdp: depression rate = a_plus (LSM+STDP);
    astro_stdp: depression rate = the astrocyte's A (NALSM)."""
    a_plus: float = Field(default=0.15, ge=0)
    """Potentiation rate."""
    trace_decay: float = Field(default=0.905, gt=0, lt=1)
    """Trace factor per step, x <- d (x + c S) (0.905 ~ exp(-1 ms / 10 ms))."""
    trace_increment: float = Field(default=0.1, gt=0)
    """Trace increment c per spike."""
    lr_decay: float = Field(default=0.99, gt=0, le=1)
    """Per-step factor on a_plus, A, w_astro and b while a sample runs
    (not during the initialisation)."""


class AstrocyteSection(StrictModel):
    """The single global astrocyte: A <- A + (w (liquid spikes - input spikes) + b - A) dt/tau."""

    w_astro: float = Field(default=0.015, ge=0)
    """Weight of the spike difference (0.015 for 1000 neurons, 0.0075 for 8000)."""
    bias: float = Field(default=0.15, ge=0)
    """b."""
    tau: PositiveTime = q("100 ms")
    """Time constant."""
    initial: float = Field(default=0.15, ge=0)
    """A at the start of every sample."""


class ProtocolSection(StrictModel):
    """Initialisation, then every sample from the initialised weights."""

    dt: PositiveTime = q("1 ms")
    """Time step."""
    init_samples: int = Field(default=50000, ge=0)
    """Training images presented one after another, weights carried (plastic rules only)."""
    init_duration: PositiveTime = q("20 ms")
    """Presentation time of each initialisation image."""
    sample_duration: PositiveTime = q("250 ms")
    """Presentation time of every train/validation/test sample."""
    batch: int = Field(default=512, ge=1)
    """Samples per compiled call (progress granularity; results do not depend on it)."""


class ReadoutSection(StrictModel):
    """Linear softmax layer on L1-normalised liquid spike counts, and ridge regression."""

    epochs: int = Field(default=60, ge=1)
    """Softmax training epochs (test accuracy taken at the best validation epoch)."""
    batch_size: int = Field(default=256, ge=1)
    """Minibatch size."""
    learning_rate: list[PositiveFloat] = Field(default=[0.01], min_length=1)
    """Adam learning rate, or a list of rates to try (the best on validation is kept)."""
    ridge_alphas: list[NonNegativeFloat] = Field(default=[1e-6, 1e-5, 1e-4, 1e-3], min_length=1)
    """Ridge penalties tried (chosen on validation)."""

    @field_validator("learning_rate", mode="before")
    @classmethod
    def _one_rate_is_a_list(cls, value):
        return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("learning_rate", "ridge_alphas")
    @classmethod
    def _each_value_once(cls, values: list[float], info):
        # Each value is a whole readout fit (minutes for a large liquid): a
        # repeated one would only repeat it.
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"{', '.join(f'{v:g}' for v in repeated)} listed more than once; "
                             f"each {info.field_name} value is tried once, list it once")
        return values


class BranchingSection(StrictModel):
    """Branching factor measurement on the first test samples."""

    samples: int = Field(default=100, ge=0)
    """Test samples whose rasters are recorded for it."""
    window: PositiveTime = q("4 ms")
    """Look-back and look-ahead window."""
    margin: NonNegativeTime = q("25 ms")
    """Excluded at both ends of a sample."""


class LSMConfig(StrictModel):
    """A liquid state machine trained and evaluated on an image data set."""

    task: Literal["lsm_classification"]
    """Config kind."""
    name: SafeName = "lsm"
    """Run name (file stem by default); the result is ``<output.dir>/<name>.h5``."""
    description: str = ""
    """Free text: what the config is, and where it deviates from the paper."""
    seed: Seed = 0
    """Root seed of every random draw."""
    threads: int = Field(default=1, ge=1)
    """Samples simulated in parallel (torch: intra-op threads)."""
    backend: Literal["cpu", "torch"] = "cpu"
    """Per-sample phase: cpu (numba kernels) or torch (``torch_batch``
    samples advanced at once on tensors; the initialisation stays on cpu).
    Both draw the same input spikes."""
    device: Literal["cpu", "cuda"] = "cpu"
    """Device of the torch backend."""
    torch_batch: int = Field(default=64, ge=1)
    """Samples the torch backend advances at once (each with its own weight
    copy under plasticity); results do not depend on it."""
    data: DataSection = DataSection()
    encoder: EncoderSection = EncoderSection()
    liquid: LiquidSection = LiquidSection()
    neuron: NeuronSection = NeuronSection()
    plasticity: PlasticitySection = PlasticitySection()
    astrocyte: AstrocyteSection = AstrocyteSection()
    protocol: ProtocolSection = ProtocolSection()
    readout: ReadoutSection = ReadoutSection()
    branching: BranchingSection = BranchingSection()
    output: Output = Output()
    energy: Energy | None = None
    """Optional hardware energy report per sample (see :mod:`neurosim.reservoir.energy`)."""

    def steps(self, duration: float) -> int:
        """A duration in whole steps of ``protocol.dt``."""
        return int(math.floor(duration / self.protocol.dt + 0.5))

    @model_validator(mode="after")
    def _check_times(self) -> LSMConfig:
        # The liquid's state and its input drive are float32.
        problems = range_problems(self, "float32")
        pixels = PIXELS[self.data.dataset]
        if self.liquid.inputs != pixels:
            problems.append((("liquid", "inputs"), f"{self.liquid.inputs} input neurons, but the "
                                                  f"{self.encoder.kind} encoder drives one per "
                                                  f"pixel of {self.data.dataset}: {pixels}"))
        if problems:
            raise problems_error(problems)
        dt = self.protocol.dt
        times = {("protocol", "init_duration"): self.protocol.init_duration,
                 ("protocol", "sample_duration"): self.protocol.sample_duration,
                 ("neuron", "refractory"): self.neuron.refractory,
                 ("branching", "window"): self.branching.window,
                 ("branching", "margin"): self.branching.margin}
        for loc, value in times.items():
            # A sample's spike counts are int32; the refractory count is lif_discrete's.
            limit = MAX_REFRACTORY_STEPS if loc[0] == "neuron" else 2**31
            problem = steps_problem(value, dt, limit)
            if problem is None and abs(value / dt - round(value / dt)) > 1e-6:
                problem = (f"{pretty_quantity(value, 's')} is not a whole number of steps of "
                           f"protocol.dt = {pretty_quantity(dt, 's')}")
            if problem:
                problems.append((loc, problem))
        if problems:
            raise problems_error(problems)
        span = self.steps(self.protocol.sample_duration)
        if 2 * (self.steps(self.branching.margin) + self.steps(self.branching.window)) >= span:
            problems.append((("branching", "margin"), "margins and windows leave no time "
                                                     "of the sample to measure"))
        if self.branching.samples > self.data.test:
            problems.append((("branching", "samples"), f"{self.branching.samples} exceeds "
                                                      f"data.test = {self.data.test}"))
        if problems:
            raise problems_error(problems)
        return self
