"""Quantities that may vary per neuron or synapse: constants and distributions with a dimension.

Written in YAML as a quantity (``1.62 mV``) or as a mapping with a ``dist``
key (``{dist: normal, mean: 20 ms, std: 2 ms, clip: [5 ms, null]}``); a
value keeps its dimension because which dimension is right depends on where
it is used (a weight onto a conductance-based neuron must be in ``S``), which
its owner checks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Union

import numpy as np
from pydantic_core import core_schema

from neurosim.config.base import Loc, _fail, problems_error
from neurosim.errors import ConfigError
from neurosim.units import describe_dim, format_quantity, parse_quantity, parse_with_dim


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
    :class:`LogNormal`, :class:`RandomSign`, or an explicit :class:`Constant`), each with an
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


@dataclass(frozen=True, kw_only=True)
class RandomSign(Value):
    """``{dist: random_sign, magnitude: X}``: ``+X`` or ``-X`` with equal odds.

    The input synapses of a liquid (Maass et al. 2002; the NALSM liquid) are
    excitatory or inhibitory at random with one magnitude.
    """

    magnitude: float
    dist: ClassVar[str] = "random_sign"
    fields: ClassVar[tuple[str, ...]] = ("magnitude",)

    def dist_args(self) -> tuple[float, float]:
        return self.magnitude, self.magnitude

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.where(rng.random(n) < 0.5, -self.magnitude, self.magnitude)

    def _support(self) -> tuple[float, float]:
        return -abs(self.magnitude), abs(self.magnitude)


#: ``dist`` name -> class.
DISTRIBUTIONS: dict[str, type[Value]] = {
    cls.dist: cls for cls in (Constant, Uniform, Normal, LogNormal, RandomSign)
}


def _parse_distribution(raw: Mapping[Any, Any]) -> Value:
    dist = raw.get("dist")
    names = ", ".join(DISTRIBUTIONS)
    if dist is None:
        raise problems_error([(("dist",), f"required key is missing (one of {names})")])
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
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

