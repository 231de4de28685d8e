"""Schema of ``task: train`` configs: a feed-forward spiking network trained
with surrogate gradients (backpropagation through time) on an image data set.

The network is a list of layers (``flatten``, ``linear``); every ``linear``
layer is followed by a population of neurons of the model layer
(:mod:`neurosim.models`, parameters validated by the model's own class), and
may feed its spikes back to itself (``recurrent: true``).  Shapes are checked
when the config is loaded: a layer whose input does not fit is reported by
its position and kind, before any data is read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, field_validator, model_validator

from neurosim.config.base import PathText, StrictModel, problems_error
from neurosim.config.run import Output
from neurosim.models.lif_discrete import LifDiscreteParams

def _by_kind(key: str, *classes: type[StrictModel]) -> BeforeValidator:
    """Validate a mapping with the class its ``key`` names.

    By hand rather than as a pydantic discriminated union, which would put the
    kind into every error path (``network.layers.hidden.linear.neuron``).
    """
    table = {cls.model_fields[key].annotation.__args__[0]: cls for cls in classes}
    names = ", ".join(table)

    def parse(raw: Any) -> Any:
        if isinstance(raw, classes):
            return raw
        if not isinstance(raw, Mapping):
            raise problems_error([((), f"expected a mapping with a {key!r} key (one of "
                                       f"{names}), got {raw!r}")])
        kind = raw.get(key)
        if not isinstance(kind, str) or kind not in table:  # a list or mapping is unhashable
            reason = "required key is missing" if kind is None else f"unknown {key} {kind!r}"
            raise problems_error([((key,), f"{reason} (one of {names})")])
        return table[kind].model_validate(raw)

    return BeforeValidator(parse)


#: Shape of one sample (channels, height, width) and number of classes of each data set.
DATASETS: dict[str, tuple[tuple[int, ...], int]] = {"fashion_mnist": ((1, 28, 28), 10)}


class TrainData(StrictModel):
    """Which images, and how many of each split."""

    dataset: Literal["fashion_mnist"] = "fashion_mnist"
    """Data set (read from its standard idx files, never downloaded)."""
    path: PathText | None = None
    """Folder of the idx files; None: /usr/share/datasets/fashion-mnist."""
    train: int = Field(default=50000, ge=1, le=50000)
    """Training samples (from the first 50,000 training images)."""
    validation: int = Field(default=10000, ge=0, le=10000)
    """Validation samples (from the last 10,000 training images); 0: none."""
    test: int = Field(default=10000, ge=1, le=10000)
    """Test samples."""


class Encoding(StrictModel):
    """Pixels (scaled to [0, 1]) -> the input of the first layer at every step."""

    kind: Literal["constant_current", "bernoulli_rate"] = "constant_current"
    """constant_current: the pixel value is the input at every step (snnTorch's
    tutorial); bernoulli_rate: a spike with the pixel value as probability,
    drawn anew at every step."""


class Neuron(StrictModel):
    """The neurons after a linear layer: a model of :mod:`neurosim.models`."""

    model: Literal["lif_discrete"] = "lif_discrete"
    """Neuron model (the ones with a training implementation)."""
    params: LifDiscreteParams = LifDiscreteParams()
    """The model's parameters (its own class: ``beta``, ``threshold``, ``reset`` ...)."""

    @model_validator(mode="after")
    def _no_refractory_period(self) -> Neuron:
        # Training steps are bare steps, with no dt to count a refractory time in.
        if self.params.t_ref != 0:
            raise problems_error([(("params", "t_ref"), "must be 0 s: trained neurons have "
                                                        "no refractory period")])
        return self


class Linear(StrictModel):
    """A fully connected layer and its neurons."""

    type: Literal["linear"]
    in_features: int = Field(ge=1)
    """Inputs (must equal what the layer before gives)."""
    out_features: int = Field(ge=1)
    """Neurons."""
    bias: bool = True
    """Whether the layer adds a trained bias to its input current."""
    recurrent: bool = False
    """Whether the layer's spikes of one step feed back into its next step (all to all)."""
    neuron: Neuron | None = None
    """The layer's neurons; None: ``network.neuron``."""


class Flatten(StrictModel):
    """Reshapes a sample to one vector (channels, rows, columns in that order)."""

    type: Literal["flatten"]


Layer = Annotated[Union[Linear, Flatten], _by_kind("type", Linear, Flatten)]


class NetworkSection(StrictModel):
    """Layers in order, from the data set's samples to one neuron per class."""

    neuron: Neuron = Neuron()
    """Neurons of every linear layer without its own ``neuron``."""
    layers: dict[str, Layer] = Field(min_length=1)
    """The layers by name, in order; the last is linear with one neuron per class.
    Names are identifiers (``hidden``, ``out``): they name the trained tensors
    (``hidden.weight``) and take overrides (``--set network.layers.hidden.out_features=500``)."""

    @field_validator("layers")
    @classmethod
    def _names_are_identifiers(cls, layers: dict[str, Layer]) -> dict[str, Layer]:
        bad = [((name,), "a layer name must be an identifier (letters, digits, _)")
               for name in layers if not name.isidentifier()]
        if bad:
            raise problems_error(bad)
        return layers

    def neuron_of(self, layer: Linear) -> Neuron:
        """The neurons a linear layer uses."""
        return layer.neuron or self.neuron


class Atan(StrictModel):
    """Spike derivative ``alpha / 2 / (1 + (pi alpha x / 2)^2)`` (Fang et al. 2021)."""

    kind: Literal["atan"]
    alpha: float = Field(default=2.0, gt=0)
    """Slope: the derivative at the threshold is alpha / 2."""


class FastSigmoid(StrictModel):
    """Spike derivative ``1 / (1 + slope |x|)^2`` (Zenke & Ganguli 2018, SuperSpike)."""

    kind: Literal["fast_sigmoid"]
    slope: float = Field(default=25.0, gt=0)
    """Steepness."""


class Triangle(StrictModel):
    """Spike derivative ``max(0, 1 - |x| / width) / width`` (Esser et al. 2016; Bellec et al. 2018)."""

    kind: Literal["triangle"]
    width: float = Field(default=1.0, gt=0)
    """Half-width of the triangle around the threshold (membrane units)."""


Surrogate = Annotated[Union[Atan, FastSigmoid, Triangle],
                     _by_kind("kind", Atan, FastSigmoid, Triangle)]


class Adam(StrictModel):
    """Adam (``torch.optim.Adam``)."""

    kind: Literal["adam"]
    lr: float = Field(default=5e-4, gt=0)
    """Learning rate."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Decay of the first and second moment estimates."""
    weight_decay: float = Field(default=0.0, ge=0)
    """L2 penalty."""

    @model_validator(mode="after")
    def _betas_below_one(self) -> Adam:
        if not all(0 <= b < 1 for b in self.betas):
            raise problems_error([(("betas",), f"each must be in [0, 1), got {list(self.betas)}")])
        return self


class SGD(StrictModel):
    """Stochastic gradient descent (``torch.optim.SGD``)."""

    kind: Literal["sgd"]
    lr: float = Field(default=0.01, gt=0)
    """Learning rate."""
    momentum: float = Field(default=0.0, ge=0, lt=1)
    """Momentum factor."""
    weight_decay: float = Field(default=0.0, ge=0)
    """L2 penalty."""


Optimizer = Annotated[Union[Adam, SGD], _by_kind("kind", Adam, SGD)]


class TrainConfig(StrictModel):
    """A spiking network trained with surrogate gradients on an image data set."""

    task: Literal["train"]
    """Config kind."""
    name: str = Field(default="train", min_length=1)
    """Run name (file stem by default)."""
    description: str = ""
    """Free text: what the config is."""
    seed: int = Field(default=0, ge=0)
    """Root seed of every random draw (samples, initial weights, batch order, input spikes)."""
    threads: int = Field(default=1, ge=1)
    """Torch intra-op threads."""
    steps: int = Field(default=25, ge=1)
    """Time steps every sample is presented for."""
    epochs: int = Field(default=1, ge=1)
    """Passes over the training samples."""
    batch_size: int = Field(default=128, ge=1)
    """Samples per gradient step (and per evaluation batch)."""
    backward: Literal["fused", "autograd"] = "fused"
    """fused: each layer's neurons over all steps as one autograd node with a
    hand-written backward pass; autograd: torch records every step (the
    reference; same gradients, slower)."""
    compile: bool = False
    """Whether each step runs through ``torch.compile`` (one fused loop instead of
    some twenty passes over memory; needs a C++ compiler, and compiles for
    some seconds at the first batch of each shape)."""
    recompute_steps: int | None = Field(default=None, ge=1)
    """Memory of the backward pass.  None: every step of every layer is kept
    from the forward pass for the backward pass (memory grows with ``steps``).
    k: the steps run in pieces of k, of which only the layers' states at the
    start are kept; the backward pass runs each piece again (one more forward
    pass) and holds k steps at a time.  Least memory near
    ``sqrt(steps)``.  The gradients are the default's up to float rounding
    (the weight gradients sum the pieces' terms in another order)."""
    data: TrainData = TrainData()
    encoding: Encoding = Encoding()
    network: NetworkSection
    surrogate: Surrogate = Field(default_factory=lambda: Atan(kind="atan"))
    """Derivative that stands in for the spike's in the backward pass."""
    loss: Literal["rate", "membrane", "membrane_per_step"] = "rate"
    """rate: cross-entropy of the output spike counts; membrane: cross-entropy of
    the output membrane summed over the steps; membrane_per_step: the sum over
    steps of the cross-entropy of each step's output membrane (snnTorch's tutorial 5)."""
    optimizer: Optimizer = Field(default_factory=lambda: Adam(kind="adam"))
    output: Output = Output()

    @model_validator(mode="after")
    def _check_shapes(self) -> TrainConfig:
        shape, classes = DATASETS[self.data.dataset]
        problems = []
        before = f"the {self.data.dataset} samples are"
        for name, layer in self.network.layers.items():
            where = ("network", "layers", name)
            shown = "x".join(map(str, shape))
            if isinstance(layer, Flatten):
                shape = (math.prod(shape),)
            elif len(shape) != 1:
                problems.append((where, f"linear layer {name!r} gets {shown} inputs: a flatten "
                                        "layer must come before it"))
                break
            elif layer.in_features != shape[0]:
                problems.append((where + ("in_features",),
                                 f"linear layer {name!r} takes {layer.in_features} inputs, but "
                                 f"{before} {shown}"))
                break
            else:
                shape = (layer.out_features,)
            before = f"layer {name!r} gives"
        else:
            name, last = list(self.network.layers.items())[-1]
            if not isinstance(last, Linear):
                problems.append((("network", "layers", name),
                                 "the last layer must be linear (one neuron per class)"))
            elif last.out_features != classes:
                problems.append((("network", "layers", name, "out_features"),
                                 f"linear layer {name!r} has {last.out_features} neurons, "
                                 f"but {self.data.dataset} has {classes} classes"))
        if self.recompute_steps is not None and self.recompute_steps >= self.steps:
            problems.append((("recompute_steps",), f"{self.recompute_steps} is not below steps = "
                                                   f"{self.steps}: one piece of all steps saves "
                                                   "no memory (leave recompute_steps unset)"))
        if self.batch_size > self.data.train:
            problems.append((("batch_size",), f"{self.batch_size} exceeds data.train = "
                                              f"{self.data.train} (no full batch to train on)"))
        if problems:
            raise problems_error(problems)
        return self

    def linear_layers(self) -> list[Linear]:
        """The linear layers, in order."""
        return [layer for layer in self.network.layers.values() if isinstance(layer, Linear)]

    def sizes(self) -> list[int]:
        """Inputs of the first linear layer, then the neurons of each (784-1000-10)."""
        linear = self.linear_layers()
        return [linear[0].in_features] + [layer.out_features for layer in linear]
