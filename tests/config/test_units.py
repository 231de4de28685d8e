"""Parsing and formatting of physical quantities (neurosim.units)."""

import math

import pytest

from neurosim.errors import ConfigError
from neurosim.units import (
    Quantity,
    format_quantity,
    parse_quantity,
    parse_with_dim,
    pretty_quantity,
)

# text, SI value (exactly the double nearest the decimal value), dimension
PARSE_TABLE = [
    ("20 ms", 0.02, "s"),
    ("-50 mV", -0.05, "V"),
    ("250 pF", 2.5e-10, "F"),
    ("5 Hz", 5.0, "Hz"),
    ("1.62 mV", 0.00162, "V"),
    ("6 nS", 6e-9, "S"),
    ("0.1 ms", 1e-4, "s"),
    ("2s", 2.0, "s"),
    ("1e-3 s", 1e-3, "s"),
    ("100 kOhm", 1e5, "Ohm"),
    ("100 kohm", 1e5, "Ohm"),
    ("2 GΩ", 2e9, "Ohm"),
    ("25 uS", 2.5e-5, "S"),
    ("25 µS", 2.5e-5, "S"),  # U+00B5 micro sign
    ("25 μS", 2.5e-5, "S"),  # U+03BC Greek mu
    ("3 MOhm", 3e6, "Ohm"),
    ("500 pA", 5e-10, "A"),
    ("1 nA", 1e-9, "A"),
    ("1.5 kHz", 1500.0, "Hz"),
    ("+7 V", 7.0, "V"),
    (".5 s", 0.5, "s"),
    ("  4 ms  ", 0.004, "s"),
    ("0.5", 0.5, ""),
    ("-3", -3.0, ""),
    (3, 3.0, ""),
    (0.25, 0.25, ""),
]


@pytest.mark.parametrize("text, value, dim", PARSE_TABLE)
def test_parse_table(text, value, dim):
    assert parse_with_dim(text) == (value, dim)
    assert parse_quantity(text, dim) == value


def test_case_of_prefix_and_unit_matters():
    # The lone base unit wins: "S" is siemens, "s" seconds, "m" a prefix only.
    assert parse_with_dim("1 mS") == (1e-3, "S")
    assert parse_with_dim("1 ms") == (1e-3, "s")
    assert parse_with_dim("1 MS") == (1e6, "S")
    assert parse_with_dim("1 Ms") == (1e6, "s")


def test_parse_with_dim_returns_quantity():
    q = parse_with_dim("20 ms")
    assert isinstance(q, Quantity)
    value, dim = q
    assert (q.value, q.dim) == (value, dim) == (0.02, "s")


def test_parse_quantity_without_dim_accepts_any_dimension():
    assert parse_quantity("6 nS") == 6e-9
    assert parse_quantity("-65 mV") == -0.065


@pytest.mark.parametrize(
    "text, dim, fragments",
    [
        ("20", "s", ["expected a time", "'20'", "bare number"]),
        (20, "s", ["expected a time", "20", "bare number"]),
        ("20 xs", "s", ["expected a time", "'20 xs'", "unknown unit 'xs'"]),
        ("20 ms", "V", ["expected a voltage", "'20 ms'", "a time"]),
        ("6 nS", "A", ["expected a current", "'6 nS'", "a conductance"]),
        ("5 mV", "", ["expected a dimensionless number", "'5 mV'", "a voltage"]),
        ("abc", "V", ["expected a voltage", "'abc'", "not a number"]),
        ("", "s", ["expected a time", "''"]),
        ("20 m s", "s", ["expected a time", "'20 m s'"]),
        ("1e400 s", "s", ["out of the floating-point range"]),
        (True, "s", ["expected a time", "True"]),
        (None, "V", ["expected a voltage", "None"]),
        ([1], "V", ["expected a voltage", "[1]"]),
        (float("nan"), "", ["not a finite number"]),
    ],
)
def test_parse_errors_say_what_was_expected_and_given(text, dim, fragments):
    with pytest.raises(ConfigError) as info:
        parse_quantity(text, dim)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["abc", "1 furlong", "ms", "--1 s", "1 s s"])
def test_parse_with_dim_rejects_garbage(text):
    with pytest.raises(ConfigError, match="expected a number with an optional unit"):
        parse_with_dim(text)


def test_unknown_dimension_argument_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown dimension"):
        parse_quantity("1 s", "seconds")


@pytest.mark.parametrize(
    "value, dim",
    [(0.02, "s"), (1e-4, "s"), (-0.07, "V"), (2.5e-10, "F"), (6.7e-8, "S"),
     (1e5, "Ohm"), (5.0, "Hz"), (0.1 + 0.2, ""), (-1e-300, "A"), (0.0, "V")],
)
def test_format_quantity_round_trips_exactly(value, dim):
    text = format_quantity(value, dim)
    assert parse_with_dim(text) == (value, dim)


def test_format_quantity_uses_si_base_unit():
    assert format_quantity(0.02, "s") == "0.02 s"
    assert format_quantity(-0.05, "V") == "-0.05 V"
    assert format_quantity(0.5, "") == "0.5"
    assert str(Quantity(6e-9, "S")) == "6e-09 S"


def test_format_quantity_round_trip_property():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.given(
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["s", "V", "A", "F", "S", "Ohm", "Hz", ""]),
    )
    def check(value, dim):
        parsed = parse_with_dim(format_quantity(value, dim))
        assert parsed.dim == dim
        assert parsed.value == value and math.copysign(1, parsed.value) == math.copysign(1, value)

    check()


@pytest.mark.parametrize(
    "value, dim, text",
    [(5e-5, "s", "50 µs"), (-0.07, "V", "-70 mV"), (2.5e-10, "F", "250 pF"),
     (1e5, "Ohm", "100 kOhm"), (0.0, "s", "0 s"), (0.5, "", "0.5")],
)
def test_pretty_quantity(value, dim, text):
    assert pretty_quantity(value, dim) == text
