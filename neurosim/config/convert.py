"""Schema of ``task: convert`` configs: a ReLU ANN (trained here or loaded from a
torch state-dict file) converted to a spiking network of integrate-and-fire
neurons with reset by subtraction.

The ANN is a list of layers (``conv2d``, ``avgpool2d``, ``flatten``,
``linear``); every ``conv2d`` and ``linear`` layer but the last is followed by
the activation (``relu``, or QCFS, the quantised clip-floor-shift activation of
Bu et al. 2022).  Shapes are checked when the config is loaded; layers and
activations that have no integrate-and-fire counterpart (max pooling, sigmoid,
...) are refused there with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, field_validator, model_validator

from neurosim.config.base import StrictModel, problems_error
from neurosim.config.run import Output
from neurosim.config.train import DATASETS, SGD, Adam, TrainData, _by_kind

#: Layer kinds a rate-coded IF network cannot stand in for, and why.
UNCONVERTIBLE = {
    "maxpool2d": "max pooling has no integrate-and-fire counterpart (the maximum of spike "
                 "rates is not the rate of any neuron): use avgpool2d",
    "batchnorm2d": "batch normalisation is not a layer of the converted network: fold it "
                   "into the convolution before it",
    "dropout": "dropout is not a layer of the converted network (it is the identity at "
               "inference): leave it out",
}


def _refuse_unconvertible(raw: Any) -> Any:
    # Before the lookup by kind, so that the user reads why, not only "unknown type".
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    if isinstance(kind, str) and kind in UNCONVERTIBLE:
        raise problems_error([(("type",), f"{kind}: {UNCONVERTIBLE[kind]}")])
    return raw


class Conv2d(StrictModel):
    """A 2-D convolution (``torch.nn.Conv2d``), followed by the activation unless last."""

    type: Literal["conv2d"]
    in_channels: int = Field(ge=1)
    """Input channels (must equal what the layer before gives)."""
    out_channels: int = Field(ge=1)
    """Output channels (feature maps)."""
    kernel_size: int = Field(ge=1)
    """Square kernel side."""
    stride: int = Field(default=1, ge=1)
    padding: int = Field(default=0, ge=0)
    """Zeros added on every side."""
    bias: bool = True


class AvgPool2d(StrictModel):
    """Average pooling (``torch.nn.AvgPool2d``): linear, so it acts on spikes as on rates."""

    type: Literal["avgpool2d"]
    kernel_size: int = Field(ge=1)
    """Square window side."""
    stride: int | None = Field(default=None, ge=1)
    """None: the window side (non-overlapping windows)."""


class Linear(StrictModel):
    """A fully connected layer, followed by the activation unless last."""

    type: Literal["linear"]
    in_features: int = Field(ge=1)
    """Inputs (must equal what the layer before gives)."""
    out_features: int = Field(ge=1)
    """Outputs."""
    bias: bool = True


class Flatten(StrictModel):
    """Reshapes a sample to one vector (channels, rows, columns in that order)."""

    type: Literal["flatten"]


Layer = Annotated[Union[Conv2d, AvgPool2d, Linear, Flatten],
                  _by_kind("type", Conv2d, AvgPool2d, Linear, Flatten),
                  BeforeValidator(_refuse_unconvertible)]

#: The layers with weights, each followed by the activation (except the last layer).
WEIGHTED = (Conv2d, Linear)

#: Suffix of the activation module after a weighted layer (``conv1_act``).
ACTIVATION_SUFFIX = "_act"


class ANNSection(StrictModel):
    """The ANN: its layers, its activation, and how it gets its weights."""

    layers: dict[str, Layer] = Field(min_length=1)
    """The layers by name, in order; the last is linear with one output per class.
    Names are identifiers; they name the tensors (``conv1.weight``, ``conv1.bias``;
    with QCFS ``conv1_act.clip``), in the result and in a ``weights`` file."""
    activation: Literal["relu", "qcfs"] = "relu"
    """relu; or qcfs: ``clip * clamp(floor(x L / clip + 1/2) / L, 0, 1)`` with a
    trained clip value per layer (Bu et al. 2022), whose SNN needs fewer steps."""
    levels: int = Field(default=8, ge=1, le=1024)
    """QCFS quantisation levels L (qcfs only)."""
    initial_clip: float = Field(default=2.0, gt=0, le=1e6)
    """QCFS clip value every layer starts training from (qcfs only).  Near the ReLU's
    largest activations (2 to 3 for pixels in [0, 1]): Adam moves a clip by about its
    learning rate per step, so one started at Bu et al.'s 8 stays near 8, floors most
    activations to 0, and its SNN drifts from the ANN past ``levels`` steps."""
    weights: str | None = None
    """A torch state-dict file (``torch.save(model.state_dict(), path)``) to load
    instead of training; its tensors must be named and shaped as the layers say."""
    epochs: int = Field(default=3, ge=1, le=10000)
    """Training passes over the training samples (when no ``weights`` file is given)."""
    batch_size: int = Field(default=128, ge=1)
    """Samples per gradient step, and per evaluation batch."""
    optimizer: Annotated[Union[Adam, SGD], _by_kind("kind", Adam, SGD)] = Field(
        default_factory=lambda: Adam(kind="adam", lr=1e-3))
    """Training optimiser."""

    @field_validator("activation", mode="before")
    @classmethod
    def _convertible_activation(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in ("relu", "qcfs"):
            raise problems_error([((), f"activation {value!r} cannot be converted: the rate of "
                                       "an integrate-and-fire neuron with reset by subtraction "
                                       "stands for a ReLU (clipped at its threshold); use relu "
                                       "or qcfs")])
        return value

    @field_validator("layers")
    @classmethod
    def _names(cls, layers: dict[str, Layer]) -> dict[str, Layer]:
        bad = [((name,), "a layer name must be an identifier (letters, digits, _)")
               for name in layers if not name.isidentifier()]
        bad += [((name,), f"{name!r} is the name of layer {name[:-len(ACTIVATION_SUFFIX)]!r}'s "
                          "activation; choose another")
                for name in layers if name.endswith(ACTIVATION_SUFFIX)
                and name[:-len(ACTIVATION_SUFFIX)] in layers]
        if bad:
            raise problems_error(bad)
        return layers

    def activated(self) -> list[str]:
        """The layers followed by the activation: every weighted layer but the last."""
        names = [name for name, layer in self.layers.items() if isinstance(layer, WEIGHTED)]
        return names[:-1]


class Percentile(StrictModel):
    """Each layer's threshold at a percentile of its activations (Rueckauer et al. 2017)."""

    kind: Literal["percentile"]
    percentile: float = Field(default=99.9, gt=0, le=100)
    """Percentile of all activations of the layer (zeros included) on the calibration samples."""


class Maximum(StrictModel):
    """Each layer's threshold at its largest activation (Diehl et al. 2015)."""

    kind: Literal["max"]


class Clip(StrictModel):
    """Each layer's threshold at its trained QCFS clip value (Bu et al. 2022; qcfs only)."""

    kind: Literal["clip"]


Normalisation = Annotated[Union[Percentile, Maximum, Clip],
                          _by_kind("kind", Percentile, Maximum, Clip)]


class ConversionSection(StrictModel):
    """How the trained ANN becomes a spiking network, and how long that runs."""

    normalisation: Normalisation = Field(
        default_factory=lambda: Percentile(kind="percentile"))
    """Where each layer's threshold comes from (``percentile``, ``max``, or ``clip``)."""
    calibration: int = Field(default=1000, ge=1, le=50000)
    """Training samples whose activations set the thresholds (the first ones in order)."""
    initial_membrane: float = Field(default=0.5, ge=0, lt=1)
    """Membrane every neuron starts from, in units of its threshold: 0.5 makes the
    spike count round the ANN activation rather than floor it (Bu et al. 2022)."""
    steps: list[int] = Field(default_factory=lambda: [4, 8, 16, 32, 64], min_length=1)
    """Step counts the SNN's test accuracy is reported at (one run to the largest)."""
    compile: bool = False
    """Whether the neurons' step runs through ``torch.compile`` (one fused loop instead
    of a dozen passes over memory; needs a C++ compiler, and compiles for some
    seconds per layer shape at the start; same spikes)."""

    @field_validator("steps")
    @classmethod
    def _positive_increasing(cls, steps: list[int]) -> list[int]:
        bad = [((i,), f"a step count must be at least 1, got {s}") for i, s in enumerate(steps)
               if s < 1]
        bad += [((i,), f"steps must increase: {s} after {steps[i - 1]}")
                for i, s in enumerate(steps) if i and s <= steps[i - 1] and s >= 1]
        bad += [((i,), f"at most 100,000 steps, got {s}") for i, s in enumerate(steps)
                if s > 100_000]
        if bad:
            raise problems_error(bad)
        return steps


class ConvertConfig(StrictModel):
    """A ReLU (or QCFS) ANN trained or loaded, converted to an IF spiking network."""

    task: Literal["convert"]
    """Config kind."""
    name: str = Field(default="convert", min_length=1)
    """Run name (file stem by default)."""
    description: str = ""
    """Free text: what the config is."""
    seed: int = Field(default=0, ge=0)
    """Root seed of every random draw (samples, initial weights, batch order)."""
    threads: int = Field(default=1, ge=1)
    """Torch intra-op threads."""
    data: TrainData = TrainData(validation=0)
    ann: ANNSection
    conversion: ConversionSection = ConversionSection()
    output: Output = Output()

    @model_validator(mode="after")
    def _check(self) -> ConvertConfig:
        problems = _shape_problems(self)
        if self.ann.weights is None and self.ann.batch_size > self.data.train:
            problems.append((("ann", "batch_size"), f"{self.ann.batch_size} exceeds data.train "
                                                    f"= {self.data.train} (no full batch to "
                                                    "train on)"))
        if self.conversion.calibration > self.data.train:
            problems.append((("conversion", "calibration"),
                             f"{self.conversion.calibration} exceeds data.train = "
                             f"{self.data.train}"))
        if self.conversion.normalisation.kind == "clip" and self.ann.activation != "qcfs":
            problems.append((("conversion", "normalisation", "kind"),
                             "clip needs ann.activation: qcfs (a ReLU has no trained clip "
                             "value); use percentile or max"))
        if problems:
            raise problems_error(problems)
        return self


def _shape_problems(cfg: ConvertConfig) -> list[tuple[tuple, str]]:
    """Each layer's input shape against what it takes (the first misfit only)."""
    shape, classes = DATASETS[cfg.data.dataset]
    before = f"the {cfg.data.dataset} samples are"
    for name, layer in cfg.ann.layers.items():
        where = ("ann", "layers", name)
        shown = "x".join(map(str, shape))
        if isinstance(layer, Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, Linear):
            if len(shape) != 1:
                return [(where, f"linear layer {name!r} gets {shown} inputs: a flatten layer "
                                "must come before it")]
            if layer.in_features != shape[0]:
                return [(where + ("in_features",), f"linear layer {name!r} takes "
                                                   f"{layer.in_features} inputs, but {before} "
                                                   f"{shown}")]
            shape = (layer.out_features,)
        else:
            if len(shape) != 3:
                return [(where, f"{layer.type} layer {name!r} needs channels x rows x columns, "
                                f"but {before} {shown}")]
            if isinstance(layer, Conv2d) and layer.in_channels != shape[0]:
                return [(where + ("in_channels",), f"conv2d layer {name!r} takes "
                                                   f"{layer.in_channels} channels, but {before} "
                                                   f"{shown}")]
            kernel, padding = layer.kernel_size, getattr(layer, "padding", 0)
            stride = layer.stride or kernel
            side = [(n + 2 * padding - kernel) // stride + 1 for n in shape[1:]]
            if min(side) < 1:
                return [(where + ("kernel_size",), f"{layer.type} layer {name!r}: a {kernel}x"
                                                   f"{kernel} window does not fit {before} "
                                                   f"{shown}")]
            channels = layer.out_channels if isinstance(layer, Conv2d) else shape[0]
            shape = (channels, *side)
        before = f"layer {name!r} gives"
    name, last = list(cfg.ann.layers.items())[-1]
    if not isinstance(last, Linear):
        return [(("ann", "layers", name), "the last layer must be linear (one output per class)")]
    if last.out_features != classes:
        return [(("ann", "layers", name, "out_features"),
                 f"linear layer {name!r} has {last.out_features} outputs, but "
                 f"{cfg.data.dataset} has {classes} classes")]
    return []
