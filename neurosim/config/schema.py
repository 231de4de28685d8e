"""The YAML schema of a neurosim run, as pydantic models.

Quantities arrive as text with units (``20 ms``) and leave validation as SI
floats; every quantity field knows its dimension, so :func:`dump_config`
(:mod:`neurosim.config.loader`) writes them back with units. Values that may
vary per neuron or synapse (initial state, weights, delays) are :class:`Value`
objects that keep their dimension, because which dimension is right depends on
the target model and is checked when the whole run is known.

Validation happens in two passes, both reported with the full key path:

1. each model checks its own fields (types, units, ranges, unknown keys);
2. :class:`RunConfig` checks what needs the whole file: references between
   sections, scaled population sizes, ``dt`` against time constants, and the
   sign and dimension of weights for their target model.

Errors are raised as pydantic ``ValidationError`` whose entries carry the key
path; :mod:`neurosim.config.loader` turns them into one ``ConfigError``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

import numpy as np
from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeInt,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from neurosim.config.base import (  # noqa: F401  (re-exported for the sections' importers)
    ERROR_TYPE,
    Current,
    Loc,
    NonNegativeFrequency,
    NonNegativeTime,
    PositiveCapacitance,
    PositiveTime,
    StrictModel,
    Unit,
    Voltage,
    _fail,
    error_reason,
    problems_error,
    q,
)
from neurosim.config.crossbar import CrossbarConfig
from neurosim.errors import ConfigError
from neurosim.units import (
    describe_dim,
    format_quantity,
    parse_quantity,
    parse_with_dim,
    pretty_quantity,
)

# ---------------------------------------------------------------------------
# Values: constants and distributions with a dimension
# ---------------------------------------------------------------------------

Clip = tuple[Union[float, None], Union[float, None]]


def _clip_scalar(x: float, clip: Clip) -> float:
    lo, hi = clip
    if lo is not None and x < lo:
        x = lo
    if hi is not None and x > hi:
        x = hi
    return x


def _dump_number(value: float | None, dim: str) -> float | str | None:
    """YAML form of one SI number: with its unit, or a plain float if none."""
    if value is None or dim == "":
        return value
    return format_quantity(value, dim)


@dataclass(frozen=True, kw_only=True)
class Value(ABC):
    """A quantity that may vary per neuron or synapse.

    Written in YAML either as a quantity (``1.62 mV``: a :class:`Constant`) or
    as a mapping with a ``dist`` key (:class:`Uniform`, :class:`Normal`,
    :class:`LogNormal`, or an explicit :class:`Constant`), each with an
    optional ``clip: [lo, hi]`` (either may be ``null``) applied to samples.

    Attributes
    ----------
    dim:
        Dimension symbol shared by all quantities of the value (see
        :data:`neurosim.units.DIMENSIONS`); the owner checks it (a weight onto
        a conductance-based neuron must be in ``S``, ...).
    clip:
        ``(lo, hi)`` in SI units; ``None`` leaves that side open.
    """

    dim: str
    clip: Clip = (None, None)

    #: The ``dist`` name of the subclass in YAML.
    dist: ClassVar[str]
    #: The quantity fields of the subclass, in YAML order.
    fields: ClassVar[tuple[str, ...]]

    @property
    def is_constant(self) -> bool:
        """True if every sample is the same number (see :attr:`constant`)."""
        return False

    @property
    def constant(self) -> float:
        """The single value of a constant (clip applied), in SI units."""
        raise ValueError(f"a {self.dist} distribution is not a constant")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values (SI float64) from ``rng``, clip applied."""
        draws = np.asarray(self._draw(rng, n), dtype=np.float64)
        lo, hi = self.clip
        if lo is not None or hi is not None:
            np.clip(draws, lo, hi, out=draws)
        return draws

    @property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value a sample can take (clip applied)."""
        lo, hi = self._support()
        return _clip_scalar(lo, self.clip), _clip_scalar(hi, self.clip)

    def clip_bounds(self) -> tuple[float, float]:
        """The clip range in SI units, open sides as -inf / +inf."""
        lo, hi = self.clip
        return (-math.inf if lo is None else lo), (math.inf if hi is None else hi)

    def dist_args(self) -> tuple[float, float]:
        """The two numbers of the distribution, in :attr:`fields` order (SI)."""
        a, b = (getattr(self, name) for name in self.fields)
        return a, b

    def to_yaml(self) -> str | float | dict[str, Any]:
        """The YAML form (units restored) that parses back to an equal value."""
        out: dict[str, Any] = {"dist": self.dist}
        for name in self.fields:
            out[name] = _dump_number(getattr(self, name), self._field_dim(name))
        if self.clip != (None, None):
            out["clip"] = [_dump_number(c, self.dim) for c in self.clip]
        return out

    def _field_dim(self, name: str) -> str:
        return self.dim

    @abstractmethod
    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` unclipped draws."""

    @abstractmethod
    def _support(self) -> tuple[float, float]:
        """The range of unclipped draws (may be infinite)."""

    def _problems(self) -> list[tuple[Loc, str]]:
        """Parameter checks of the distribution, as ``(key, reason)`` pairs."""
        return []

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            parse_value,
            json_schema_input_schema=core_schema.union_schema(
                [core_schema.str_schema(), core_schema.float_schema(), core_schema.dict_schema()]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v, info: v.to_yaml() if info.mode_is_json() else v, info_arg=True
            ),
        )


@dataclass(frozen=True, kw_only=True)
class Constant(Value):
    """The same number everywhere: ``1.62 mV`` or ``{dist: constant, value: 1.62 mV}``."""

    value: float
    dist: ClassVar[str] = "constant"
    fields: ClassVar[tuple[str, ...]] = ("value",)

    @property
    def is_constant(self) -> bool:
        return True

    @property
    def constant(self) -> float:
        return _clip_scalar(self.value, self.clip)

    def dist_args(self) -> tuple[float, float]:
        return self.value, self.value

    def to_yaml(self) -> str | float | dict[str, Any]:
        if self.clip == (None, None):
            return _dump_number(self.value, self.dim)
        return super().to_yaml()

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)

    def _support(self) -> tuple[float, float]:
        return self.value, self.value


@dataclass(frozen=True, kw_only=True)
class Uniform(Value):
    """``{dist: uniform, low: X, high: Y}``: uniform on ``[low, high)``."""

    low: float
    high: float
    dist: ClassVar[str] = "uniform"
    fields: ClassVar[tuple[str, ...]] = ("low", "high")

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def _support(self) -> tuple[float, float]:
        return self.low, self.high

    def _problems(self) -> list[tuple[Loc, str]]:
        if self.low > self.high:
            return [(("high",), "must be >= low")]
        return []


@dataclass(frozen=True, kw_only=True)
class Normal(Value):
    """``{dist: normal, mean: X, std: S}``: Gaussian, unbounded unless clipped."""

    mean: float
    std: float
    dist: ClassVar[str] = "normal"
    fields: ClassVar[tuple[str, ...]] = ("mean", "std")

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.normal(self.mean, self.std, n)

    def _support(self) -> tuple[float, float]:
        if self.std == 0:
            return self.mean, self.mean
        return -math.inf, math.inf

    def _problems(self) -> list[tuple[Loc, str]]:
        if self.std < 0:
            return [(("std",), "must be >= 0")]
        return []


@dataclass(frozen=True, kw_only=True)
class LogNormal(Value):
    """``{dist: lognormal, median: X, sigma: s}``: ``median * exp(sigma * N(0, 1))``.

    ``sigma`` is dimensionless (the standard deviation of the log); a negative
    median gives negative samples, e.g. for inhibitory weights in volts.
    """

    median: float
    sigma: float
    dist: ClassVar[str] = "lognormal"
    fields: ClassVar[tuple[str, ...]] = ("median", "sigma")

    def _field_dim(self, name: str) -> str:
        return "" if name == "sigma" else self.dim

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.median * np.exp(self.sigma * rng.standard_normal(n))

    def _support(self) -> tuple[float, float]:
        if self.sigma == 0:
            return self.median, self.median
        return (0.0, math.inf) if self.median > 0 else (-math.inf, 0.0)

    def _problems(self) -> list[tuple[Loc, str]]:
        problems: list[tuple[Loc, str]] = []
        if self.median == 0:
            problems.append((("median",), "must not be 0 (its sign sets the sign of samples)"))
        if self.sigma < 0:
            problems.append((("sigma",), "must be >= 0"))
        return problems


#: ``dist`` name -> class.
DISTRIBUTIONS: dict[str, type[Value]] = {
    cls.dist: cls for cls in (Constant, Uniform, Normal, LogNormal)
}


def _parse_distribution(raw: Mapping[Any, Any]) -> Value:
    dist = raw.get("dist")
    names = ", ".join(DISTRIBUTIONS)
    if dist is None:
        raise problems_error([(("dist",), f"required key is missing (one of {names})")])
    if dist not in DISTRIBUTIONS:
        raise problems_error([(("dist",), f"unknown distribution {dist!r} (one of {names})")])
    cls = DISTRIBUTIONS[dist]
    allowed = ("dist", *cls.fields, "clip")
    problems: list[tuple[Loc, str]] = [
        ((key,), f"unknown key for dist {dist} (allowed: {', '.join(allowed)})")
        for key in raw
        if key not in allowed
    ]
    values: dict[str, float] = {}
    dim: str | None = None  # the dimension of the first quantity sets the rest
    for name in cls.fields:
        if name not in raw:
            problems.append(((name,), "required key is missing"))
            continue
        try:
            if name == "sigma":
                values[name] = parse_quantity(raw[name], "")
                continue
            value, got = parse_with_dim(raw[name])
        except ConfigError as err:
            problems.append(((name,), str(err)))
            continue
        if dim is None:
            dim = got
        elif got != dim:
            problems.append(
                ((name,), f"is {describe_dim(got)} but the distribution's first "
                          f"quantity is {describe_dim(dim)}; all must share one dimension")
            )
        values[name] = value
    clip: Clip = (None, None)
    if "clip" in raw and dim is not None:
        clip, clip_problems = _parse_clip(raw["clip"], dim)
        problems += clip_problems
    if problems:
        raise problems_error(problems)
    value = cls(dim=dim or "", clip=clip, **values)
    problems = value._problems()
    if problems:
        raise problems_error(problems)
    return value


def _parse_clip(raw: Any, dim: str) -> tuple[Clip, list[tuple[Loc, str]]]:
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        return (None, None), [(("clip",), f"expected [lo, hi] (either may be null), got {raw!r}")]
    ends: list[float | None] = []
    problems: list[tuple[Loc, str]] = []
    for i, end in enumerate(raw):
        if end is None:
            ends.append(None)
            continue
        try:
            ends.append(parse_quantity(end, dim))
        except ConfigError as err:
            problems.append((("clip", i), str(err)))
            ends.append(None)
    lo, hi = ends
    if lo is not None and hi is not None and lo > hi:
        problems.append((("clip",), "lo must be <= hi"))
    return (lo, hi), problems


def parse_value(raw: Any) -> Value:
    """Parse a YAML value: a quantity, a number, or a ``{dist: ...}`` mapping.

    Raises
    ------
    pydantic.ValidationError, pydantic_core.PydanticCustomError
        With the key path of the offending sub-key (``std``, ``clip.1``);
        inside a pydantic model these become entries of its error.
    """
    if isinstance(raw, Value):
        return raw
    if isinstance(raw, Mapping):
        return _parse_distribution(raw)
    try:
        value, dim = parse_with_dim(raw)
    except ConfigError as err:
        raise _fail(f"{err} (or a distribution such as {{dist: normal, mean: ..., std: ...}})") from None
    return Constant(dim=dim, value=value)


@dataclass(frozen=True)
class QuantityList:
    """Explicit per-synapse quantities (``connect.weight`` of rule ``arrays``).

    All entries share one dimension ``dim``; ``values`` are SI floats.
    """

    values: tuple[float, ...]
    dim: str

    def __len__(self) -> int:
        return len(self.values)

    def as_array(self) -> np.ndarray:
        """The values as a float64 array."""
        return np.asarray(self.values, dtype=np.float64)

    @property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest entry."""
        return min(self.values), max(self.values)

    @classmethod
    def parse(cls, raw: Any) -> QuantityList:
        """Parse a non-empty YAML list of quantities of one dimension."""
        if isinstance(raw, cls):
            return raw
        if not isinstance(raw, (list, tuple)) or not raw:
            raise _fail(f"expected a non-empty list of quantities, got {raw!r}")
        values: list[float] = []
        dims: list[str] = []
        problems: list[tuple[Loc, str]] = []
        for i, item in enumerate(raw):
            try:
                value, dim = parse_with_dim(item)
            except ConfigError as err:
                problems.append(((i,), str(err)))
                continue
            if dims and dim != dims[0]:
                problems.append(((i,), f"is {describe_dim(dim)} but entry 0 is {describe_dim(dims[0])}"))
            values.append(value)
            dims.append(dim)
        if problems:
            raise problems_error(problems)
        return cls(tuple(values), dims[0])

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            json_schema_input_schema=core_schema.list_schema(core_schema.str_schema()),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v, info: [format_quantity(x, v.dim) for x in v.values]
                if info.mode_is_json() else v,
                info_arg=True,
            ),
        )


# ---------------------------------------------------------------------------
# Neuron models: parameters and state
# ---------------------------------------------------------------------------


class LifExpParams(StrictModel):
    """Current-based LIF with exponential synaptic currents (NEST ``iaf_psc_exp``)."""

    C_m: PositiveCapacitance = q("250 pF")
    """Membrane capacitance."""
    tau_m: PositiveTime = q("10 ms")
    """Membrane time constant."""
    E_L: Voltage = q("-70 mV")
    """Resting (leak reversal) potential."""
    V_th: Voltage = q("-55 mV")
    """Spike threshold."""
    V_reset: Voltage = q("-70 mV")
    """Potential after a spike; must be below ``V_th``."""
    t_ref: NonNegativeTime = q("2 ms")
    """Absolute refractory period."""
    tau_syn_e: PositiveTime = q("2 ms")
    """Decay time constant of the excitatory synaptic input."""
    tau_syn_i: PositiveTime = q("2 ms")
    """Decay time constant of the inhibitory synaptic input."""
    I_e: Current = q("0 pA")
    """Constant external current."""

    @model_validator(mode="after")
    def _reset_below_threshold(self) -> LifExpParams:
        # A reset at or above threshold would fire again on the next step.
        if not self.V_reset < self.V_th:
            raise problems_error([(
                ("V_reset",),
                f"must be below V_th ({pretty_quantity(self.V_reset, 'V')} >= "
                f"{pretty_quantity(self.V_th, 'V')})",
            )])
        return self


class LifCondExpParams(LifExpParams):
    """Conductance-based LIF with exponential conductances (NEST ``iaf_cond_exp``)."""

    E_e: Voltage = q("0 mV")
    """Reversal potential of excitatory synapses."""
    E_i: Voltage = q("-85 mV")
    """Reversal potential of inhibitory synapses."""


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


NeuronModel = Literal["lif_exp", "lif_cond_exp", "poisson", "spike_generator"]

#: Parameter model of each neuron model.
PARAM_MODELS: dict[str, type[StrictModel]] = {
    "lif_exp": LifExpParams,
    "lif_cond_exp": LifCondExpParams,
    "poisson": PoissonParams,
    "spike_generator": SpikeGeneratorParams,
}

#: State variables that can be initialised and recorded, with their dimension.
STATE_VARIABLES: dict[str, dict[str, str]] = {
    "lif_exp": {"v": "V", "I_syn_e": "A", "I_syn_i": "A"},
    "lif_cond_exp": {"v": "V", "g_e": "S", "g_i": "S"},
    "poisson": {},
    "spike_generator": {},
}

#: Models that only emit spikes: no state, no incoming synapses.
GENERATOR_MODELS: frozenset[str] = frozenset({"poisson", "spike_generator"})

#: Parameters that are time constants of an exponential decay; ``dt`` must not
#: exceed them, or one step would jump over the whole decay.
TIME_CONSTANTS: tuple[str, ...] = ("tau_m", "tau_syn_e", "tau_syn_i")

#: Dimensions a synaptic weight may have, per target model: for current-based
#: neurons a current jump (A) or a Brian2-style voltage jump (V); for
#: conductance-based neurons a conductance jump (S).
WEIGHT_DIMS: dict[str, tuple[str, ...]] = {"lif_exp": ("A", "V"), "lif_cond_exp": ("S",)}


class Population(StrictModel):
    """A group of neurons of one model."""

    size: int = Field(ge=1)
    """Number of neurons before ``RunConfig.scale`` is applied."""
    model: NeuronModel
    """Neuron model name."""
    # validate_default: an omitted ``params`` still gets the model's defaults.
    params: dict[str, Any] = Field(default={}, validate_default=True)
    """Model parameters; once validated, SI floats (lists for spike generators), defaults filled in."""
    initial: dict[str, Value] = {}
    """Initial value of state variables (see :data:`STATE_VARIABLES`)."""

    @field_validator("params")
    @classmethod
    def _parse_params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = info.data.get("model")
        if model is None:  # the invalid model name is reported on its own
            return params
        parsed = PARAM_MODELS[model].model_validate(params).model_dump()
        if model == "spike_generator" and parsed["indices"] is None:
            parsed["indices"] = [0] * len(parsed["times"])
        return parsed

    @field_validator("initial")
    @classmethod
    def _check_initial(cls, initial: dict[str, Value], info: ValidationInfo) -> dict[str, Value]:
        model = info.data.get("model")
        if model is None:
            return initial
        states = STATE_VARIABLES[model]
        problems: list[tuple[Loc, str]] = []
        for name, value in initial.items():
            if name not in states:
                known = ", ".join(states) or "none: generators have no state"
                problems.append(((name,), f"not a state variable of model {model} "
                                          f"(state variables: {known})"))
            elif value.dim != states[name]:
                problems.append(((name,), f"expected {describe_dim(states[name])}, "
                                          f"got {describe_dim(value.dim)}"))
        if problems:
            raise problems_error(problems)
        return initial

    @field_serializer("params")
    def _dump_params(self, params: dict[str, Any], info: core_schema.SerializationInfo) -> dict[str, Any]:
        if not info.mode_is_json():
            return params
        # The parameter model knows each field's unit; no need to validate again.
        return PARAM_MODELS[self.model].model_construct(**params).model_dump(mode="json")


# ---------------------------------------------------------------------------
# Connectivity
# ---------------------------------------------------------------------------


class ConnectRule(StrictModel):
    """Options shared by every connection rule."""

    rule: str
    """Name of the rule."""
    autapses: bool = True
    """Allow a neuron to connect to itself (when source and target are the same population)."""
    multapses: bool = True
    """Allow more than one synapse between the same pair of neurons."""


class AllToAll(ConnectRule):
    """Every source neuron to every target neuron."""

    rule: Literal["all_to_all"] = "all_to_all"


class OneToOne(ConnectRule):
    """Source neuron ``i`` to target neuron ``i``; the sizes must match."""

    rule: Literal["one_to_one"] = "one_to_one"


class FixedProbability(ConnectRule):
    """Each pair independently with probability ``p``."""

    rule: Literal["fixed_probability"] = "fixed_probability"
    p: float = Field(ge=0.0, le=1.0)
    """Connection probability."""


class FixedIndegree(ConnectRule):
    """Each target neuron receives ``k`` synapses from random source neurons."""

    rule: Literal["fixed_indegree"] = "fixed_indegree"
    k: int = Field(ge=0)
    """Synapses per target neuron."""


class FixedOutdegree(ConnectRule):
    """Each source neuron makes ``k`` synapses onto random target neurons."""

    rule: Literal["fixed_outdegree"] = "fixed_outdegree"
    k: int = Field(ge=0)
    """Synapses per source neuron."""


class Arrays(ConnectRule):
    """Explicit synapses ``pre[k] -> post[k]``; ``autapses``/``multapses`` are ignored."""

    rule: Literal["arrays"] = "arrays"
    pre: list[NonNegativeInt] = Field(min_length=1)
    """Source neuron of each synapse."""
    post: list[NonNegativeInt] = Field(min_length=1)
    """Target neuron of each synapse."""
    weight: Union[QuantityList, None] = None
    """Weight of each synapse; overrides the projection's ``weight`` (same dimension)."""
    delay: Union[QuantityList, None] = None
    """Delay of each synapse; overrides the projection's ``delay``."""

    def weight_values(self) -> np.ndarray:
        """Per-synapse weights in SI units (float64); ``weight`` must be given."""
        if self.weight is None:
            raise ValueError("this arrays rule has no per-synapse weights")
        return self.weight.as_array()

    def delay_values(self) -> np.ndarray:
        """Per-synapse delays in seconds (float64); ``delay`` must be given."""
        if self.delay is None:
            raise ValueError("this arrays rule has no per-synapse delays")
        return self.delay.as_array()

    @model_validator(mode="after")
    def _same_lengths(self) -> Arrays:
        problems: list[tuple[Loc, str]] = []
        n = len(self.pre)
        for name in ("post", "weight", "delay"):
            entries = getattr(self, name)
            if entries is not None and len(entries) != n:
                problems.append(((name,), f"has {len(entries)} entries but pre has {n}"))
        if self.delay is not None and self.delay.dim != "s":
            problems.append((("delay",), f"expected times, got {describe_dim(self.delay.dim)}"))
        if problems:
            raise problems_error(problems)
        return self


#: ``rule`` name -> class.
CONNECT_RULES: dict[str, type[ConnectRule]] = {
    cls.model_fields["rule"].default: cls
    for cls in (AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedOutdegree, Arrays)
}


def _parse_connect(raw: Any) -> Any:
    # Dispatch on ``rule`` by hand: a pydantic discriminated union would put
    # the rule name into every error path (projections.ee.connect.fixed_probability.p).
    if isinstance(raw, ConnectRule):
        return raw
    names = ", ".join(CONNECT_RULES)
    if not isinstance(raw, Mapping):
        raise _fail(f"expected a mapping with a 'rule' key (one of {names}), got {raw!r}")
    rule = raw.get("rule")
    if rule not in CONNECT_RULES:
        reason = "required key is missing" if rule is None else f"unknown rule {rule!r}"
        raise problems_error([(("rule",), f"{reason} (one of {names})")])
    return CONNECT_RULES[rule].model_validate(raw)


Connect = Annotated[
    Union[AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedOutdegree, Arrays],
    BeforeValidator(_parse_connect),
]


class Projection(StrictModel):
    """Synapses from one population onto another."""

    source: str
    """Presynaptic population."""
    target: str
    """Postsynaptic population (not a generator)."""
    receptor: Literal["exc", "inh"]
    """Which synaptic input of the target the synapses feed."""
    connect: Connect
    """Connection rule."""
    weight: Value
    """Synaptic weight; with rule ``arrays``, ``connect.weight`` may override it per synapse."""
    delay: Union[Value, None] = None
    """Transmission delay; ``None`` means one time step."""

    @model_validator(mode="after")
    def _dimensions(self) -> Projection:
        problems: list[tuple[Loc, str]] = []
        if self.delay is not None and self.delay.dim != "s":
            problems.append((("delay",), f"expected a time, got {describe_dim(self.delay.dim)}"))
        listed = self.connect.weight if isinstance(self.connect, Arrays) else None
        # The builder converts both with one factor for the target model.
        if listed is not None and listed.dim != self.weight.dim:
            problems.append((("connect", "weight"), f"is {describe_dim(listed.dim)} but weight is "
                                                    f"{describe_dim(self.weight.dim)}; use one unit"))
        if problems:
            raise problems_error(problems)
        return self

    def quantities(self, kind: Literal["weight", "delay"]) -> list[tuple[Loc, Value | QuantityList]]:
        """Every weight or delay given for this projection, with its key path.

        That is the ``weight`` (``delay``) key, if given, and the per-synapse
        list of rule ``arrays``, if given.
        """
        found: list[tuple[Loc, Value | QuantityList]] = []
        own = getattr(self, kind)
        if own is not None:
            found.append(((kind,), own))
        if isinstance(self.connect, Arrays) and getattr(self.connect, kind) is not None:
            found.append((("connect", kind), getattr(self.connect, kind)))
        return found


# ---------------------------------------------------------------------------
# Inputs, recording, output
# ---------------------------------------------------------------------------


class CurrentSource(StrictModel):
    """A step current into every neuron of a population.

    The current is 0 before ``times[0]`` and ``amplitudes[k]`` from
    ``times[k]`` until the next time.
    """

    target: str
    """Neuron population receiving the current."""
    times: list[NonNegativeTime] = Field(min_length=1)
    """Times of the steps, strictly increasing."""
    amplitudes: list[Current] = Field(min_length=1)
    """Current from each time on."""

    @model_validator(mode="after")
    def _steps(self) -> CurrentSource:
        problems: list[tuple[Loc, str]] = []
        if len(self.amplitudes) != len(self.times):
            problems.append((
                ("amplitudes",),
                f"has {len(self.amplitudes)} entries but times has {len(self.times)}",
            ))
        for k in range(1, len(self.times)):
            if self.times[k] <= self.times[k - 1]:
                problems.append((("times", k), "times must be strictly increasing"))
        if problems:
            raise problems_error(problems)
        return self


class Trace(StrictModel):
    """State variables of chosen neurons, sampled at a fixed interval."""

    population: str
    """Population of the neurons."""
    neurons: list[NonNegativeInt] = Field(min_length=1)
    """Indices within the (scaled) population."""
    variables: list[str] = Field(default_factory=lambda: ["v"], min_length=1)
    """State variables to sample."""
    interval: Union[PositiveTime, None] = None
    """Sampling interval, a multiple of dt; ``None`` means every step."""


class Record(StrictModel):
    """What to record during the run."""

    spikes: Union[Literal["all", "none"], list[str]] = "all"
    """``all``, ``none`` or a list of population names."""
    rate_bin: PositiveTime = q("1 ms")
    """Bin width of population rate histograms."""
    traces: dict[str, Trace] = {}
    """Named state recordings."""

    @field_validator("spikes", mode="before")
    @classmethod
    def _spike_selection(cls, raw: Any) -> Any:
        # Checked by hand so that a bad value gives one message instead of
        # one per member of the union.
        if raw in ("all", "none"):
            return raw
        if isinstance(raw, list) and all(isinstance(name, str) for name in raw):
            return raw
        raise _fail(f"expected 'all', 'none' or a list of population names, got {raw!r}")


class Output(StrictModel):
    """Where results go."""

    dir: str = "results"
    """Directory for the result file, summary and plots."""
    plots: bool = True
    """Whether to draw plots after the run."""


class Energy(StrictModel):
    """Hardware energy estimate printed after the run and stored in the result."""

    hardware: list[str] = Field(min_length=1)
    """Hardware profile names (files in ``hardware/``, e.g. ``loihi``) or ``all``;
    resolved by :mod:`neurosim.energy` before the run starts."""


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


class RunConfig(StrictModel):
    """A complete simulation run: network, inputs, recording and output."""

    name: str = Field(default="run", min_length=1)
    """Run name (the file stem when loaded from a file)."""
    description: str = ""
    """Free text."""
    seed: int = Field(default=0, ge=0)
    """Root seed of every random draw."""
    duration: PositiveTime
    """Simulated time."""
    dt: PositiveTime = q("0.1 ms")
    """Time step."""
    backend: str = "cpu"
    """Backend name, resolved by the backend registry."""
    device: Literal["cpu", "cuda"] = "cpu"
    """Where the backend runs: ``cuda`` needs a backend that supports it (``torch``) and a GPU."""
    precision: Literal["float32", "float64"] = "float32"
    """Floating-point type of state and weights."""
    threads: int = Field(default=1, ge=1)
    """CPU threads."""
    scale: float = Field(default=1.0, gt=0)
    """Multiplies every population size (rounded, at least 1); see :attr:`sizes`."""
    populations: dict[str, Population] = Field(min_length=1)
    """Populations by name, in file order."""
    projections: dict[str, Projection] = {}
    """Projections by name."""
    currents: dict[str, CurrentSource] = {}
    """Step current sources by name."""
    record: Record = Record()
    """What to record."""
    output: Output = Output()
    """Where results go."""
    energy: Union[Energy, None] = None
    """Optional hardware energy report (see :class:`Energy`)."""
    crossbar: Union[CrossbarConfig, None] = None
    """Device settings of the ``crossbar`` backend (its defaults when absent)."""

    @property
    def sizes(self) -> dict[str, int]:
        """Size of each population after ``scale``: ``round(size * scale)``, at least 1."""
        # floor(x + 0.5) rounds halves up; Python's round() would round 2.5 to 2.
        return {
            name: max(1, math.floor(pop.size * self.scale + 0.5))
            for name, pop in self.populations.items()
        }

    def population_size(self, name: str) -> int:
        """Size of population ``name`` after ``scale`` (see :attr:`sizes`)."""
        return self.sizes[name]

    @property
    def spike_populations(self) -> list[str]:
        """Names of the populations whose spikes are recorded."""
        if self.record.spikes == "all":
            return list(self.populations)
        if self.record.spikes == "none":
            return []
        return list(self.record.spikes)

    @model_validator(mode="after")
    def _check_run(self) -> RunConfig:
        problems = _RunChecks(self).run()
        if problems:
            raise problems_error(problems)
        return self


class _RunChecks:
    """Checks that need the whole run; collects ``(key path, reason)`` pairs."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.dt = cfg.dt
        self.sizes = cfg.sizes
        self.found: list[tuple[Loc, str]] = []

    def add(self, loc: Loc, reason: str) -> None:
        self.found.append((loc, reason))

    def run(self) -> list[tuple[Loc, str]]:
        """Run every check; return the problems found."""
        cfg = self.cfg
        if cfg.duration < self.dt:
            self.add(("duration",), f"{self._t(cfg.duration)} is shorter than dt {self._t(self.dt)}")
        for name, pop in cfg.populations.items():
            self._population(name, pop)
        for name, proj in cfg.projections.items():
            self._projection(("projections", name), proj)
        for name, source in cfg.currents.items():
            self._neuron_reference(("currents", name, "target"), source.target, "receive a current")
        self._record()
        if cfg.crossbar is not None and cfg.backend != "crossbar":
            self.add(("crossbar",), f"only the crossbar backend reads this section "
                                    f"(backend is {cfg.backend!r})")
        return self.found

    # -- helpers --------------------------------------------------------

    @staticmethod
    def _t(seconds: float) -> str:
        return pretty_quantity(seconds, "s")

    def _size_text(self, name: str) -> str:
        n = self.sizes[name]
        scaled = f" after scale {self.cfg.scale:g}" if self.cfg.scale != 1 else ""
        return f"population '{name}' ({n} neuron{'' if n == 1 else 's'}{scaled})"

    def _population_reference(self, loc: Loc, name: str) -> bool:
        if name in self.cfg.populations:
            return True
        known = ", ".join(self.cfg.populations)
        self.add(loc, f"unknown population {name!r} (populations: {known})")
        return False

    def _neuron_reference(self, loc: Loc, name: str, what: str) -> bool:
        if not self._population_reference(loc, name):
            return False
        model = self.cfg.populations[name].model
        if model in GENERATOR_MODELS:
            self.add(loc, f"population {name!r} is a {model} generator and cannot {what}")
            return False
        return True

    def _indices(self, loc: Loc, indices: Sequence[int], name: str) -> None:
        """Report the first index outside the (scaled) population, if any."""
        n = self.sizes[name]
        bad = np.flatnonzero(np.asarray(indices, dtype=np.int64) >= n)
        if bad.size:
            more = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
            self.add(loc + (int(bad[0]),),
                     f"index {indices[bad[0]]} is outside {self._size_text(name)}{more}")

    # -- sections -------------------------------------------------------

    def _population(self, name: str, pop: Population) -> None:
        loc: Loc = ("populations", name, "params")
        if pop.model == "spike_generator":
            self._indices(loc + ("indices",), pop.params["indices"], name)
        if pop.model in GENERATOR_MODELS:
            return
        for tau in TIME_CONSTANTS:
            if pop.params[tau] < self.dt:
                self.add(loc + (tau,),
                         f"{self._t(pop.params[tau])} is shorter than dt {self._t(self.dt)}")

    def _projection(self, base: Loc, proj: Projection) -> None:
        known_source = self._population_reference(base + ("source",), proj.source)
        if not self._neuron_reference(base + ("target",), proj.target, "receive synapses"):
            return
        for loc, weight in proj.quantities("weight"):
            self._weight(base + loc, proj, weight)
        for loc, delay in proj.quantities("delay"):
            shortest = delay.bounds[0]
            if shortest < self.dt * (1 - 1e-9):
                fix = "" if isinstance(delay, (Constant, QuantityList)) else (
                    f" (clip the distribution, e.g. clip: [{self._t(self.dt)}, null])")
                self.add(base + loc, f"delays must be at least dt {self._t(self.dt)} (one step), "
                                     f"got {self._t(shortest)}{fix}")
        if known_source:
            self._connect(base + ("connect",), proj)

    def _weight(self, loc: Loc, proj: Projection, weight: Value | QuantityList) -> None:
        """Dimension and sign of a weight for its target model.

        The sign rule: every value a weight can take must have the sign the
        target needs. For a distribution that means its range after clip, so
        an unclipped normal (unbounded) is rejected; clip it on the wrong
        side (``clip: [0 nS, null]``) to make it acceptable.
        """
        target = proj.target
        model = self.cfg.populations[target].model
        allowed = WEIGHT_DIMS[model]
        if weight.dim not in allowed:
            expected = " or ".join(describe_dim(d) for d in allowed)
            self.add(loc, f"a weight onto {model} population {target!r} must be {expected}, "
                          f"got {describe_dim(weight.dim)}")
            return
        if model == "lif_cond_exp":
            nonnegative = True
            why = ("conductance weights must be >= 0 for both receptors "
                   "(the reversal potential sets the effect)")
        elif proj.receptor == "exc":
            nonnegative = True
            why = "excitatory (receptor exc) weights onto lif_exp must be >= 0"
        else:
            nonnegative = False
            why = "inhibitory (receptor inh) weights onto lif_exp must be <= 0"
        lo, hi = weight.bounds
        if (lo >= 0) if nonnegative else (hi <= 0):
            return
        wrong = lo if nonnegative else hi
        shown = f"{wrong:+g}" if math.isinf(wrong) else pretty_quantity(wrong, weight.dim)
        if isinstance(weight, Constant):
            self.add(loc, f"{why}, got {shown}")
        elif isinstance(weight, QuantityList):
            self.add(loc, f"{why}, got an entry of {shown}")
        else:
            side, fix = (("down to", f"[0 {weight.dim}, null]") if nonnegative
                         else ("up to", f"[null, 0 {weight.dim}]"))
            self.add(loc, f"{why}, but this {weight.dist} distribution can give values "
                          f"{side} {shown} (clip it, e.g. clip: {fix})")

    def _connect(self, loc: Loc, proj: Projection) -> None:
        rule = proj.connect
        src, tgt = proj.source, proj.target
        if isinstance(rule, OneToOne) and self.sizes[src] != self.sizes[tgt]:
            self.add(loc + ("rule",), f"one_to_one needs equal sizes: {self._size_text(src)} "
                                      f"vs {self._size_text(tgt)}")
        elif isinstance(rule, (FixedIndegree, FixedOutdegree)):
            # Partners of a target are the sources (in-degree) and vice versa.
            partner = src if isinstance(rule, FixedIndegree) else tgt
            available = self.sizes[partner] - (0 if rule.autapses or src != tgt else 1)
            if rule.k > available and (not rule.multapses or available == 0):
                why = "without multapses" if available else "(no partner neuron at all)"
                self.add(loc + ("k",), f"k = {rule.k} exceeds the {available} possible partners in "
                                       f"{self._size_text(partner)} {why}")
        elif isinstance(rule, Arrays):
            self._indices(loc + ("pre",), rule.pre, src)
            self._indices(loc + ("post",), rule.post, tgt)

    def _record(self) -> None:
        record = self.cfg.record
        if isinstance(record.spikes, list):
            for i, name in enumerate(record.spikes):
                self._population_reference(("record", "spikes", i), name)
        for name, trace in record.traces.items():
            base: Loc = ("record", "traces", name)
            if not self._population_reference(base + ("population",), trace.population):
                continue
            self._indices(base + ("neurons",), trace.neurons, trace.population)
            model = self.cfg.populations[trace.population].model
            states = STATE_VARIABLES[model]
            for i, var in enumerate(trace.variables):
                if var not in states:
                    known = ", ".join(states) or "none: generators have no state"
                    self.add(base + ("variables", i), f"{var!r} is not a state variable of "
                                                      f"model {model} (state variables: {known})")
            if trace.interval is not None:
                ratio = trace.interval / self.dt
                steps = round(ratio)
                if steps < 1 or abs(ratio - steps) > 1e-9 * ratio:
                    self.add(base + ("interval",), f"{self._t(trace.interval)} is not a multiple "
                                                   f"of dt {self._t(self.dt)}")
