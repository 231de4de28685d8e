"""Pieces every config section builds on: strict models, quantity fields and
errors with key paths.

Every section module (values, network, run, crossbar, the tasks' sections)
imports from here, and this module imports none of them, so there is no
import cycle; the models' parameter classes build on it too.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema

from neurosim.errors import ConfigError
from neurosim.units import format_quantity, parse_quantity, pretty_quantity

Loc = tuple[Union[str, int], ...]

# ---------------------------------------------------------------------------
# Errors with key paths
# ---------------------------------------------------------------------------

#: The pydantic error type of every problem neurosim itself reports.
ERROR_TYPE = "neurosim"


def _fail(reason: str) -> PydanticCustomError:
    """One problem at the location being validated."""
    # The reason goes through the context so that braces in user input are
    # never read as format fields of the message template.
    return PydanticCustomError(ERROR_TYPE, "{reason}", {"reason": reason})


def problems_error(problems: Sequence[tuple[Loc, str]], title: str = "config") -> ValidationError:
    """Bundle ``(key path, reason)`` pairs into one ``ValidationError``.

    Raised inside a validator, pydantic prefixes each path with the location
    of the field being validated, so a validator can report problems of its
    sub-keys (``std``, ``clip.0``) or, at the top, of any key in the file.
    """
    details = [
        InitErrorDetails(type=_fail(reason), loc=tuple(loc), input=None)
        for loc, reason in problems
    ]
    return ValidationError.from_exception_data(title, details)


def error_reason(error: ErrorDetails) -> str:
    """A one-line reason for one pydantic error entry, without its path."""
    kind = error["type"]
    if kind == ERROR_TYPE:
        return error["msg"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    ctx = error.get("ctx") or {}
    if "error" in ctx:  # a plain ValueError raised by a validator
        return str(ctx["error"])
    reason = error["msg"]
    value = error.get("input")
    if isinstance(value, (str, int, float, bool)) or value is None:
        reason += f", got {shown(value)}"
    return reason


def shown(value: Any, limit: int = 60) -> str:
    """``repr`` of a user's value for a message, cut short (a value can be megabytes long)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        # str() of an int beyond 4,300 digits raises; its bit length does not.
        return f"an integer of about {int(abs(value).bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 5]}...{text[-2:]}"


# ---------------------------------------------------------------------------
# Quantity fields
# ---------------------------------------------------------------------------


def _bound_problem(value: float, dim: str, gt: float | None, ge: float | None) -> str | None:
    for op, bound, ok in ((">", gt, gt is None or value > gt), (">=", ge, ge is None or value >= ge)):
        if not ok:
            shown = "0" if bound == 0 else pretty_quantity(bound, dim)
            return f"must be {op} {shown}"
    return None


@dataclass(frozen=True)
class Unit:
    """``Annotated`` metadata: a float field written in YAML as a quantity.

    ``Annotated[float, Unit("s", gt=0)]`` accepts ``"20 ms"`` (stored as
    ``0.02``), rejects bare numbers and other dimensions, and is dumped to JSON
    or YAML as ``"0.02 s"``.
    """

    dim: str
    gt: float | None = None
    ge: float | None = None

    def validate(self, raw: Any) -> float:
        """Parse ``raw`` to SI and check the bounds."""
        try:
            value = parse_quantity(raw, self.dim)
        except ConfigError as err:
            raise _fail(str(err)) from None
        problem = _bound_problem(value, self.dim, self.gt, self.ge)
        if problem:
            raise _fail(f"{problem}, got {shown(raw)}")
        return value

    def serialize(self, value: float, info: core_schema.SerializationInfo) -> float | str:
        """Python dumps keep the float; JSON/YAML dumps get the unit back."""
        return format_quantity(value, self.dim) if info.mode_is_json() else value

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                self.serialize, info_arg=True
            ),
        )


q = parse_quantity  # short name for the quantity defaults below

PositiveTime = Annotated[float, Unit("s", gt=0)]
NonNegativeTime = Annotated[float, Unit("s", ge=0)]
Voltage = Annotated[float, Unit("V")]
Current = Annotated[float, Unit("A")]
PositiveCapacitance = Annotated[float, Unit("F", gt=0)]
NonNegativeFrequency = Annotated[float, Unit("Hz", ge=0)]


# ---------------------------------------------------------------------------
# Names, paths and seeds
# ---------------------------------------------------------------------------

#: Longest run name, in UTF-8 bytes: ``.<name>.h5.tmp-<pid>`` must stay within
#: the 255 bytes a file name may have.
MAX_NAME_BYTES = 200


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be one file name or one HDF5 path component (None if it can).

    Run names become ``<output.dir>/<name>.h5``; population, projection and
    trace names become groups of the result file.  A separator, ``.`` or
    ``..`` would put them somewhere else, a NUL would cut them short, and a
    lone surrogate (undecodable bytes on the command line) cannot be stored.
    """
    if name in ("", ".", ".."):
        return f"{name!r} is not a name"
    bad = sorted({c for c in name if c in "/\\" or ord(c) < 32 or ord(c) == 127})
    if bad:
        return (f"{shown(name)} contains {', '.join(repr(c) for c in bad)}; a name must be "
                "one file name / HDF5 group name (no path separators or control characters)")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return f"{shown(name)} is not valid UTF-8 text"
    if size > MAX_NAME_BYTES:
        return f"is {size} bytes long; at most {MAX_NAME_BYTES} (UTF-8 bytes)"
    return None


def _safe_name(name: str) -> str:
    problem = name_problem(name)
    if problem:
        raise _fail(problem)
    return name


def _path_text(text: str) -> str:
    # The operating system ends paths at a NUL; open() refuses them with a traceback.
    if "\0" in text:
        raise _fail(f"{shown(text)} contains a NUL character; not a usable path")
    return text


#: A run, population, projection or trace name (see :func:`name_problem`).
SafeName = Annotated[str, AfterValidator(_safe_name)]
#: A file or folder path given in a config.
PathText = Annotated[str, AfterValidator(_path_text)]

#: Seeds feed numpy's ``SeedSequence`` and are stored as uint64 in result files.
SEED_LIMIT = 2**64


def _seed_range(seed: int) -> int:
    if not 0 <= seed < SEED_LIMIT:
        raise _fail(f"must be an integer from 0 to 2**64 - 1 ({SEED_LIMIT - 1}), got {shown(seed)}")
    return seed


_SEED_RANGE = AfterValidator(_seed_range)
#: The root seed of a run.
Seed = Annotated[int, _SEED_RANGE]


# ---------------------------------------------------------------------------
# Numbers the kernels can hold
# ---------------------------------------------------------------------------

#: Every integer of a config (sizes, counts, indices, epochs ...) but its seed
#: lands in the engine's int32 or int64 arrays; nothing meaningful comes near it.
INT_LIMIT = 2**31


def numbers(obj: Any, loc: Loc = ()) -> Iterator[tuple[Loc, float | int, str]]:
    """Every number in a validated config, with its key path and dimension (``""`` if unknown).

    Walks models, mappings, sequences and the dataclass values of
    :mod:`neurosim.config.values` (their quantities are their fields);
    the seed fields (:data:`Seed`) are left out: they have their own range.
    """
    if isinstance(obj, BaseModel):
        for name, field in type(obj).model_fields.items():
            if _SEED_RANGE in field.metadata:
                continue
            dim = next((m.dim for m in field.metadata if isinstance(m, Unit)), "")
            for where, value, d in numbers(getattr(obj, name), loc + (field.alias or name,)):
                yield where, value, d or dim
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from numbers(value, loc + (key,))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from numbers(value, loc + (i,))
    elif dataclasses.is_dataclass(obj):
        dim = getattr(obj, "dim", "")
        field_dim = getattr(obj, "_field_dim", lambda name: dim)
        # Only a value written as a mapping in YAML (a distribution) has sub-keys to
        # name; a constant is one quantity, a quantity list (no to_yaml) a list.
        written = getattr(obj, "to_yaml", list)()
        for f in dataclasses.fields(obj):
            if f.name != "dim":
                where = loc + (f.name,) if isinstance(written, dict) else loc
                for at, value, _ in numbers(getattr(obj, f.name), where):
                    yield at, value, field_dim(f.name) if f.name != "clip" else dim
    elif isinstance(obj, (int, float, np.integer, np.floating)) and not isinstance(obj, bool):
        yield loc, obj, ""


def range_problems(obj: Any, precision: str, hint: str = "") -> list[tuple[Loc, str]]:
    """Numbers of a validated config that the kernels' types cannot hold.

    A float beyond the range of ``precision`` would become inf (and then
    NaN) in the kernels; an integer of :data:`INT_LIMIT` or more overflows
    the engine's index and count arrays.  (Tiny numbers are left alone:
    rounded to 0 they are what they nearly are.)
    """
    big = float(np.finfo(precision).max)
    problems: list[tuple[Loc, str]] = []
    for loc, value, dim in numbers(obj):
        if isinstance(value, (int, np.integer)):
            if abs(value) >= INT_LIMIT:
                problems.append((loc, f"{shown(int(value))} is too large: integers here must be "
                                      f"below 2**31 ({INT_LIMIT:,})"))
            continue
        size = abs(float(value))
        text = f"{float(value):g} {dim}".rstrip()
        if size > big:
            problems.append((loc, f"{text} is beyond the {precision} range of the kernels "
                                  f"(magnitudes up to {big:.3g}){hint}"))
    return problems


# ---------------------------------------------------------------------------
# Base model
# ---------------------------------------------------------------------------


class StrictModel(BaseModel):
    """Immutable model that rejects unknown keys, naming the allowed ones."""

    # No use_attribute_docstrings: pydantic would read and parse every model's
    # source at import (~0.05 s of a run's start-up); the field docstrings are
    # for readers of the code.
    # allow_inf_nan: an inf passes every lower bound and a NaN makes every
    # result NaN; neither is ever a meaningful setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        # pydantic's own extra_forbidden error does not say what *is* allowed,
        # which is what a user with a typo needs.
        if isinstance(data, Mapping):
            # A field whose YAML key is a Python keyword has it as its alias.
            keys = [f.alias or name for name, f in cls.model_fields.items()]
            allowed = ", ".join(keys)
            unknown = [key for key in data if key not in keys]
            if unknown:
                raise problems_error([((key,), f"unknown key (allowed: {allowed})") for key in unknown])
        return data
