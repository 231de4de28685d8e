"""Schema of ``task: rram_lsm`` configs: the zero-shot RRAM liquid state machine.

A fixed random LSM (no training of the liquid) encodes event streams; only a
digital readout is trained. The liquid's weights come either from software
(Gaussian) or from an emulated RRAM crossbar (``crossbar:``, by default in
random-device mode: weights drawn by the device's switching stochasticity).
Defaults follow the paper (Lin et al., "Resistive memory-based zero-shot
liquid state machine for multimodal event data learning", Nat. Comput. Sci.
2025; ../shared/PAPERS.md): 200 neurons, 16x16 inputs, 50 time steps, LIF
decay 0.9, threshold 5.

Same conventions as :mod:`neurosim.config.run`: times with units, unknown
keys rejected, errors with key paths. Membrane quantities (threshold,
weights) are in dimensionless membrane units.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, field_validator, model_validator

from neurosim.config.crossbar import CrossbarConfig
from neurosim.config.lsm import DataSection as LsmDataSection
from neurosim.config.lsm import ReadoutSection as LsmReadoutSection
from neurosim.config.base import SafeName, Seed, StrictModel, Unit, problems_error, q, range_problems
from neurosim.config.run import Output

#: Side of the event frame the liquid sees (the paper's 16 x 16 crop).
FRAME = 16
#: Sensor side of the ``crop`` frame (N-MNIST's 34 x 34 camera).
CROP_SENSOR = 34


class DataSection(LsmDataSection):
    """Which images, and how many of each split (smaller defaults than the NALSM's)."""

    train: int = Field(default=6000, ge=1, le=50000)
    """Training samples (from the first 50,000 training images)."""
    validation: int = Field(default=1000, ge=1, le=10000)
    """Validation samples (from the last 10,000 training images)."""
    test: int = Field(default=2000, ge=1, le=10000)
    """Test samples."""


class EncoderSection(StrictModel):
    """Images -> ON/OFF events (:func:`neurosim.data.saccade_events`) -> binary
    frames: ``steps`` time bins, a pixel spikes in a bin if it had an event."""

    kind: Literal["saccade_events"] = "saccade_events"
    """The event-camera encoder (three saccades, as N-MNIST was recorded)."""
    frame: Literal["downsample", "crop"] = "downsample"
    """downsample: the image shrunk 2x (28 -> 14 px, 2x2 means) watched by a
    16x16 sensor, so the whole item is seen; crop: the 28 px image on a 34x34
    sensor (N-MNIST's), of which the centre 16x16 is kept (the paper's crop)."""
    polarity: Literal["merged", "on", "off", "both"] = "merged"
    """merged: one input per pixel, any event (256 inputs, the paper's count);
    on / off: one polarity only; both: ON and OFF inputs apart (512)."""
    saccade: Annotated[float, Unit("s", gt=0)] = q("17 ms")
    """Duration of each of the three saccades (whole ms); 3 x 17 ms covers 50 steps."""
    amplitude: float = Field(default=3.0, gt=0)
    """Saccade length, sensor pixels."""
    threshold: float = Field(default=0.2, gt=0)
    """Log-intensity change per event."""
    steps: int = Field(default=50, ge=1)
    """Time bins of the event stream = liquid time steps."""

    @property
    def saccade_ms(self) -> int:
        return int(round(self.saccade * 1e3))

    @property
    def n_inputs(self) -> int:
        return FRAME * FRAME * (2 if self.polarity == "both" else 1)


class LiquidSection(StrictModel):
    """The recurrent LIF liquid: ``v <- decay v (1 - s) + W_in x + W_rec s``,
    ``s = v > threshold`` (reset to 0 after a spike)."""

    neurons: int = Field(default=200, ge=1)
    """Liquid neurons."""
    decay: float = Field(default=0.9, gt=0, le=1)
    """Membrane factor per step."""
    threshold: float = Field(default=5.0, gt=0)
    """Firing threshold."""
    weight_scale: float = Field(default=0.1, gt=0)
    """Membrane units per microsiemens of differential conductance G+ - G-
    (both weight sources: software weights are Gaussian in siemens with the
    random device's std, then scaled the same way)."""


class ReadoutSection(LsmReadoutSection):
    """The LSM readout's keys, with defaults for the small 200-neuron liquid."""

    epochs: int = Field(default=40, ge=1)
    """Softmax training epochs (test accuracy taken at the best validation epoch)."""
    batch_size: int = Field(default=128, ge=1)
    """Minibatch size."""
    ridge_alphas: list[NonNegativeFloat] = Field(default=[1e-5, 1e-4, 1e-3, 1e-2], min_length=1)
    """Ridge penalties tried (chosen on validation)."""


class RRAMLSMConfig(StrictModel):
    """A zero-shot RRAM LSM: software vs crossbar liquid on the same event data."""

    task: Literal["rram_lsm"]
    """Config kind."""
    name: SafeName = "rram_lsm"
    """Run name (file stem by default); the result is ``<output.dir>/<name>.h5``."""
    description: str = ""
    """Free text: what the config is, and where it deviates from the paper."""
    seed: Seed = 0
    """Root seed of every random draw."""
    threads: int = Field(default=1, ge=1)
    """Processes encoding the images."""
    batch: int = Field(default=1024, ge=1)
    """Samples per liquid call (memory; results of the software liquid do not depend on it)."""
    data: DataSection = DataSection()
    encoder: EncoderSection = EncoderSection()
    liquid: LiquidSection = LiquidSection()
    crossbar: CrossbarConfig = CrossbarConfig(mode="random_device")
    """The RRAM liquid's crossbar; random_device mode draws its own weights,
    programmed mode writes the software weights onto it."""
    readout: ReadoutSection = ReadoutSection()
    output: Output = Output()

    @field_validator("crossbar", mode="before")
    @classmethod
    def _random_device_by_default(cls, value):
        # A crossbar section that names no mode keeps this task's default mode.
        if isinstance(value, dict) and "mode" not in value:
            return {**value, "mode": "random_device"}
        return value

    @model_validator(mode="after")
    def _check(self) -> RRAMLSMConfig:
        # The liquid runs in float32.
        problems = range_problems(self, "float32")
        ms = self.encoder.saccade * 1e3
        if 3 * ms >= 2**31:  # event times are int32 ms over three saccades
            problems.append((("encoder", "saccade"), f"{ms:g} ms is too long: the three "
                                                     "saccades must end before 2**31 ms"))
        elif abs(ms - round(ms)) > 1e-6 or round(ms) < 1:
            problems.append((("encoder", "saccade"), f"{ms:g} ms is not a whole number of ms"))
        elif self.encoder.steps > 3 * round(ms):
            problems.append((("encoder", "steps"),
                             f"{self.encoder.steps} bins for {3 * round(ms)} ms of events "
                             "(at most one per ms)"))
        if problems:
            raise problems_error(problems)
        return self
