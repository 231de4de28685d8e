"""Pieces every config section builds on: strict models, quantity fields and
errors with key paths.

Every section module (values, network, run, crossbar, the tasks' sections)
imports from here, and this module imports none of them, so there is no
import cycle; the models' parameter classes build on it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
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
        reason += f", got {value!r}"
    return reason


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
            raise _fail(f"{problem}, got {raw!r}")
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
# Base model
# ---------------------------------------------------------------------------


class StrictModel(BaseModel):
    """Immutable model that rejects unknown keys, naming the allowed ones."""

    # No use_attribute_docstrings: pydantic would read and parse every model's
    # source at import (~0.05 s of a run's start-up); the field docstrings are
    # for readers of the code.
    model_config = ConfigDict(extra="forbid", frozen=True)

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
