"""Network sections of a run config: populations, connection rules, projections.

A population names a neuron model of :mod:`neurosim.models`; its ``params``
are validated by that model's parameter class, and any numeric parameter may
be a distribution (:mod:`neurosim.config.values`) drawn per neuron when the
network is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

import annotated_types
from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeInt,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from neurosim.config.base import Loc, StrictModel, Unit, _fail, problems_error
from neurosim.config.values import Constant, QuantityList, Value, parse_value
from neurosim.errors import ConfigError
from neurosim.models import get_model
from neurosim.models.stdp import Stdp
from neurosim.units import describe_dim, format_quantity, pretty_quantity


# ---------------------------------------------------------------------------
# Populations
# ---------------------------------------------------------------------------


def field_constraints(field) -> tuple[str | None, list[tuple[str, float]]]:
    """The dimension of a parameter field (None if it is not a number) and its
    bounds as ``(operator, bound)`` pairs (``>``, ``>=``, ``<``, ``<=``)."""
    if field.annotation is not float:
        return None, []
    dim, bounds = "", []
    for meta in field.metadata:
        if isinstance(meta, Unit):
            dim = meta.dim
            bounds += [(op, b) for op, b in ((">", meta.gt), (">=", meta.ge)) if b is not None]
        for kind, op in ((annotated_types.Gt, ">"), (annotated_types.Ge, ">="),
                         (annotated_types.Lt, "<"), (annotated_types.Le, "<=")):
            if isinstance(meta, kind):
                bounds.append((op, next(iter(meta.__dict__.values()))))
    return dim, bounds


_HOLDS = {">": lambda x, b: x > b, ">=": lambda x, b: x >= b,
          "<": lambda x, b: x < b, "<=": lambda x, b: x <= b}


def _centre(value: Value) -> float:
    """A value every neuron of a distribution could take: the class checks run on it."""
    a, b = value.dist_args()
    centre = (a + b) / 2 if value.dist == "uniform" else a
    lo, hi = value.bounds
    return min(max(centre, lo), hi)


def _distribution_problems(value: Value, dim: str, bounds) -> list[tuple[Loc, str]]:
    if value.dim != dim:
        return [((), f"expected {describe_dim(dim)}, got {describe_dim(value.dim)}")]
    problems = []
    lo, hi = value.bounds
    for op, bound in bounds:
        end = lo if op.startswith(">") else hi
        if not _HOLDS[op](end, bound):
            shown = f"{end:+g}" if end in (float("inf"), float("-inf")) else pretty_quantity(end, dim)
            problems.append(((), f"must be {op} {pretty_quantity(bound, dim) if bound else 0}, "
                                 f"but this {value.dist} distribution can give {shown} "
                                 "(clip it)"))
    return problems


def parse_params(model_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A population's ``params`` validated by its model's class, defaults filled in.

    Constants come back as SI floats; a numeric parameter given as a
    distribution comes back as its :class:`Value` (drawn per neuron at
    build).  The class's own checks run on each distribution's centre; what
    must hold per neuron is checked again at build.
    """
    cls = get_model(model_name).params
    constants, drawn, problems = dict(params), {}, []
    for key, raw in params.items():
        if not (isinstance(raw, Value) or isinstance(raw, Mapping)) or key not in cls.model_fields:
            continue
        dim, bounds = field_constraints(cls.model_fields[key])
        if dim is None:
            continue  # the class reports a mapping where a non-number belongs
        try:
            value = parse_value(raw)
        except ValidationError as err:
            problems += [((key, *e["loc"]), e["msg"]) for e in err.errors()]
            continue
        problems += [((key, *loc), why) for loc, why in _distribution_problems(value, dim, bounds)]
        drawn[key] = value
        constants[key] = format_quantity(_centre(value), dim) if dim else _centre(value)
    if problems:
        raise problems_error(problems)
    parsed = cls.model_validate(constants).model_dump()
    parsed.update(drawn)
    return parsed


class Population(StrictModel):
    """A group of neurons of one model."""

    size: int = Field(ge=1, le=2**53)
    """Number of neurons before ``RunConfig.scale`` is applied (below 2^53, so that
    ``size x scale`` is exact; a network is limited to 2^30 - 1 neurons when built)."""
    model: str
    """Neuron model name (:func:`neurosim.models.get_model`)."""
    # validate_default: an omitted ``params`` still gets the model's defaults.
    params: dict[str, Any] = Field(default={}, validate_default=True)
    """Model parameters; once validated, SI floats (lists for spike generators) or
    distributions drawn per neuron, defaults filled in."""
    initial: dict[str, Value] = {}
    """Initial value of state variables (see the model's ``state``)."""

    @field_validator("model")
    @classmethod
    def _known_model(cls, name: str) -> str:
        try:
            get_model(name)
        except ConfigError as err:
            raise _fail(str(err)) from None
        return name

    @field_validator("params")
    @classmethod
    def _parse_params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = info.data.get("model")
        if model is None:  # the invalid model name is reported on its own
            return params
        parsed = parse_params(model, params)
        if model == "spike_generator" and parsed["indices"] is None:
            parsed["indices"] = [0] * len(parsed["times"])
        return parsed

    @field_validator("initial")
    @classmethod
    def _check_initial(cls, initial: dict[str, Value], info: ValidationInfo) -> dict[str, Value]:
        model = info.data.get("model")
        if model is None:
            return initial
        states = get_model(model).state
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
        # The parameter class knows each field's unit; no need to validate again.
        constants = {k: v for k, v in params.items() if not isinstance(v, Value)}
        out = get_model(self.model).params.model_construct(**constants).model_dump(mode="json")
        out.update({k: v.to_yaml() for k, v in params.items() if isinstance(v, Value)})
        return out

    @property
    def heterogeneous(self) -> list[str]:
        """Parameters drawn per neuron."""
        return [k for k, v in self.params.items() if isinstance(v, Value)]


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


class Distance(ConnectRule):
    """Each pair independently with probability ``C exp(-(D / lambda)^2)``.

    ``D`` is the Euclidean distance between the two neurons' points on their
    grid (``grids:`` section; both populations must lie on the same grid),
    in grid units, as in Maass et al. 2002's liquids and the NALSM liquid.
    """

    rule: Literal["distance"] = "distance"
    C: float = Field(ge=0.0, le=1.0)
    """Connection probability at distance 0."""
    lam: float = Field(gt=0.0, alias="lambda")
    """Length constant ``lambda`` (grid units)."""
    autapses: bool = False


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
    for cls in (AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedOutdegree, Distance, Arrays)
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
    if not isinstance(rule, str) or rule not in CONNECT_RULES:  # a list or mapping is unhashable
        reason = "required key is missing" if rule is None else f"unknown rule {rule!r}"
        raise problems_error([(("rule",), f"{reason} (one of {names})")])
    return CONNECT_RULES[rule].model_validate(raw)


Connect = Annotated[
    Union[AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedOutdegree, Distance, Arrays],
    BeforeValidator(_parse_connect),
]


class Grid(StrictModel):
    """Populations laid out on one 3-D grid of points, one neuron per point.

    The populations fill the grid in the order listed; with ``shuffle``, the
    points are first put in a random order (seeded), so the populations mix
    in space.  Point ``(i, j, k)`` sits at ``spacing * (i, j, k)``.
    """

    shape: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)],
                 Annotated[int, Field(ge=1)]]
    """Points along x, y and z."""
    populations: list[str] = Field(min_length=1)
    """The populations on the grid; their sizes add up to the number of points."""
    spacing: float = Field(default=1.0, gt=0.0)
    """Distance between neighbouring points (grid units)."""
    shuffle: bool = True
    """Assign points in random order instead of row-major."""


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
    plasticity: Union[Stdp, None] = None
    """A plasticity rule for the weights (:mod:`neurosim.models.stdp`); ``None``: fixed."""

    @model_validator(mode="after")
    def _dimensions(self) -> Projection:
        problems: list[tuple[Loc, str]] = []
        if self.plasticity is not None and self.plasticity.dim != self.weight.dim:
            problems.append((("plasticity",), f"amounts are {describe_dim(self.plasticity.dim)} "
                                              f"but the weight is {describe_dim(self.weight.dim)}"))
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

