"""Physical quantities at the edges of the engine: ``"20 ms"`` <-> ``0.02``.

Configuration files give quantities as text with a unit (``-50 mV``,
``250 pF``, ``6 nS``); everything inside the engine is a plain SI float.
This module converts between the two, once, at the edge.

A quantity is a decimal number, optional whitespace, then an optional unit
made of an SI prefix and a base unit::

    20 ms    -50 mV    1e-3 s    2s    100 kOhm    25 uS    25 µS    0.5

Base units (the *dimension* symbols used throughout neurosim):

=====  ===============
``s``  time
``V``  voltage
``A``  current
``F``  capacitance
``S``  conductance
``Ohm`` resistance (also ``ohm``, ``Ω``)
``Hz`` frequency
``J``  energy (hardware profiles)
``W``  power (hardware profiles)
``""`` dimensionless (a bare number)
=====  ===============

Prefixes: ``f p n u µ m k M G`` (``μ``, the Greek mu, is accepted as ``µ``).

The conversion goes through :class:`decimal.Decimal`, so the SI float is the
double nearest to the exact decimal value: ``parse_quantity("20 ms") == 0.02``
and ``parse_quantity("0.1 ms") == 1e-4`` hold exactly.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from neurosim.errors import ConfigError

#: Dimension symbol -> human name, in the order used in messages.
DIMENSIONS: dict[str, str] = {
    "s": "time",
    "V": "voltage",
    "A": "current",
    "F": "capacitance",
    "S": "conductance",
    "Ohm": "resistance",
    "Hz": "frequency",
    "J": "energy",
    "W": "power",
    "": "dimensionless",
}

#: An example of each dimension, quoted in error messages.
EXAMPLES: dict[str, str] = {
    "s": "20 ms",
    "V": "-65 mV",
    "A": "500 pA",
    "F": "250 pF",
    "S": "6 nS",
    "Ohm": "100 MOhm",
    "Hz": "5 Hz",
    "J": "23.6 pJ",
    "W": "700 W",
    "": "0.5",
}

#: SI prefix -> power of ten.
PREFIXES: dict[str, int] = {
    "f": -15,
    "p": -12,
    "n": -9,
    "u": -6,
    "µ": -6,  # U+00B5 MICRO SIGN
    "μ": -6,  # U+03BC GREEK SMALL LETTER MU
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
}

# Spellings of the base units; the value is the dimension symbol.
_BASE_UNITS: dict[str, str] = {
    "s": "s",
    "V": "V",
    "A": "A",
    "F": "F",
    "S": "S",
    "Ohm": "Ohm",
    "ohm": "Ohm",
    "Ω": "Ohm",
    "Hz": "Hz",
    "J": "J",
    "W": "W",
}

# Prefixes used when printing for people, largest first.
_DISPLAY_PREFIXES: tuple[tuple[int, str], ...] = (
    (9, "G"), (6, "M"), (3, "k"), (0, ""), (-3, "m"), (-6, "µ"), (-9, "n"), (-12, "p"),
    (-15, "f"),
)

_QUANTITY_RE = re.compile(
    r"""^\s*
    (?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    \s*
    (?P<unit>\S*?)
    \s*$""",
    re.VERBOSE,
)


class Quantity(NamedTuple):
    """An SI value and its dimension symbol (a key of :data:`DIMENSIONS`).

    Being a tuple, it unpacks as ``value, dim = parse_with_dim("20 ms")``.
    """

    value: float
    dim: str

    def __str__(self) -> str:
        return format_quantity(self.value, self.dim)


def describe_dim(dim: str) -> str:
    """Name a dimension for messages, e.g. ``"a time (s, e.g. '20 ms')"``."""
    if dim == "":
        return "a dimensionless number (e.g. '0.5')"
    return f"a {DIMENSIONS[dim]} ({dim}, e.g. '{EXAMPLES[dim]}')"


def _split_unit(unit: str) -> tuple[int, str] | None:
    """Split a unit such as ``"ms"`` into (power of ten, dimension symbol)."""
    # A whole base unit wins over prefix + rest, so "S" is siemens and
    # "ms" is milliseconds while "mS" is millisiemens.
    if unit in _BASE_UNITS:
        return 0, _BASE_UNITS[unit]
    prefix, rest = unit[:1], unit[1:]
    if prefix in PREFIXES and rest in _BASE_UNITS:
        return PREFIXES[prefix], _BASE_UNITS[rest]
    return None


def _parse(text: object) -> Quantity | str:
    """Parse ``text`` into a :class:`Quantity`, or return why it is not one."""
    # bool is an int subclass, but "yes"/"true" in YAML is never a quantity.
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        return f"a {type(text).__name__} is not a number"
    if not isinstance(text, str):
        try:
            value = float(text)
        except OverflowError:  # an integer of hundreds of digits
            return "not a finite number"
        return Quantity(value, "") if math.isfinite(value) else "not a finite number"
    match = _QUANTITY_RE.match(text)
    if match is None:
        return "not a number followed by a unit"
    unit = match["unit"]
    split = _split_unit(unit) if unit else (0, "")
    if split is None:
        return (
            f"unknown unit {unit!r} (units are {', '.join(d for d in DIMENSIONS if d)}, "
            f"optionally prefixed by one of {' '.join(p for p in PREFIXES if p)})"
        )
    power, dim = split
    # Decimal keeps the decimal digits exact until the one final rounding.
    value = float(Decimal(match["number"]).scaleb(power))
    return Quantity(value, dim) if math.isfinite(value) else "out of the floating-point range"


def parse_with_dim(text: str | int | float) -> Quantity:
    """Parse a quantity and return its SI value together with its dimension.

    Parameters
    ----------
    text:
        A string such as ``"20 ms"`` or ``"1e-3 s"``; a plain int or float is a
        dimensionless number.

    Returns
    -------
    Quantity
        ``(value, dim)`` with ``value`` in SI units and ``dim`` one of
        ``"s", "V", "A", "F", "S", "Ohm", "Hz", ""``.

    Raises
    ------
    ConfigError
        If the text is not a finite number followed by a known unit.
    """
    parsed = _parse(text)
    if isinstance(parsed, str):
        raise ConfigError(
            f"expected a number with an optional unit (e.g. '20 ms'), got {text!r}: {parsed}"
        )
    return parsed


def parse_quantity(text: str | int | float, dim: str | None = None) -> float:
    """Parse a quantity to an SI float, optionally requiring a dimension.

    Parameters
    ----------
    text:
        A string such as ``"-50 mV"``; a bare int or float counts as
        dimensionless.
    dim:
        The required dimension symbol (``"s"``, ``"V"``, ..., ``""`` for
        dimensionless); ``None`` accepts any dimension.

    Returns
    -------
    float
        The value in SI units (seconds, volts, amperes, ...).

    Raises
    ------
    ConfigError
        If the text cannot be parsed, or its dimension is not ``dim``; the
        message says what was expected and what was given.

    Examples
    --------
    >>> parse_quantity("20 ms", "s")
    0.02
    >>> parse_quantity("25 uS")
    2.5e-05
    """
    if dim is None:
        return parse_with_dim(text).value
    if dim not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dim!r}; known: {list(DIMENSIONS)}")
    parsed = _parse(text)
    if isinstance(parsed, str):
        raise ConfigError(f"expected {describe_dim(dim)}, got {text!r}: {parsed}")
    if parsed.dim != dim:
        given = "a bare number without a unit" if parsed.dim == "" else describe_dim(parsed.dim)
        raise ConfigError(f"expected {describe_dim(dim)}, got {text!r}, which is {given}")
    return parsed.value


def format_quantity(value: float, dim: str) -> str:
    """Format an SI value so that :func:`parse_quantity` gives it back exactly.

    ``repr`` of a float is the shortest decimal that rounds to the same double,
    and :func:`parse_with_dim` rounds decimals correctly, so the round trip is
    lossless: ``format_quantity(0.02, "s") == "0.02 s"``.
    """
    if dim not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dim!r}; known: {list(DIMENSIONS)}")
    text = repr(float(value))
    return f"{text} {dim}" if dim else text


def pretty_quantity(value: float, dim: str) -> str:
    """Format an SI value for people, with a prefix: ``5e-05, "s"`` -> ``"50 µs"``.

    Meant for messages and reports; not guaranteed to round-trip exactly
    (use :func:`format_quantity` for that).
    """
    # Outside the prefixes' span a prefix only hides the exponent: "1e+300 s", not "1e+291 Gs".
    if dim == "" or not 1e-15 <= abs(value) < 1e12:
        return f"{value:g} {dim}".rstrip()
    for power, prefix in _DISPLAY_PREFIXES:
        if abs(value) >= 10.0**power * (1 - 1e-12):
            break
    return f"{value / 10.0**power:.6g} {prefix}{dim}"


#: Longest run in steps of ``dt``: the engine keeps the step at which a neuron
#: integrates again as an int32, with room for refractory periods after the last step.
MAX_STEPS = 2**31 - 2**24
#: Longest refractory period in steps: that room (``lif_discrete`` also counts it
#: down in float32 state, exact only up to 2**24).
MAX_REFRACTORY_STEPS = 2**24


def steps_problem(t: float, dt: float, limit: int = MAX_STEPS) -> str | None:
    """Why ``t`` cannot be counted in steps of ``dt`` below ``limit`` (None if it can).

    :func:`to_steps` casts to int64: a count beyond that range (``1e300 s``, or
    ``dt: 1e-300 s``) would wrap around to any number, even to one step.
    """
    count = t / dt
    if count < limit:
        return None
    shown = f"{count:.3g}" if count < float("inf") else "more than 1e308"
    return (f"{pretty_quantity(t, 's')} is {shown} steps of dt {pretty_quantity(dt, 's')}; "
            f"at most {limit - 1:,} steps")


def to_steps(t, dt: float):
    """Whole steps of ``dt`` in time ``t`` (scalar or array), rounding halves up.

    The one rounding rule for every duration: refractory periods, delays,
    spike times, current changes.
    """
    return np.floor(np.asarray(t) / dt + 0.5).astype(np.int64)
