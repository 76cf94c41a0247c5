"""Indonesian numbers: text and numeric cells, nulls, separators, reasons."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cakupan.parsing.numbers import ParseError, is_null, parse_integer, parse_number, parse_percent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234.567", 1234567),
        ("316.933", 316933),
        ("1.234", 1234),  # Indonesian convention: grouping
        ("95,98", Decimal("95.98")),
        ("95.98", Decimal("95.98")),  # a dot not followed by 3 digits can only be decimal
        ("1.234,5", Decimal("1234.5")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("87, 86", Decimal("87.86")),  # the stray space of Batang's published coverage
        (" 12 ", 12),
        ("1 234 567", 1234567),
        ("(1.234)", -1234),
        ("-1.234", -1234),
        ("−5", -5),
        ("+7", 7),
        ("0,5", Decimal("0.5")),
        ("0.500", Decimal("0.500")),  # a leading zero never starts a thousands group
        ("1.5E+06", Decimal("1.5E+6")),
    ],
)
def test_number_text(text, expected):
    assert parse_number(text) == expected
    assert type(parse_number(text)) is type(expected)


@pytest.mark.parametrize("text", ["", "  ", "-", "--", "—", "–", None])
def test_null_texts(text):
    assert parse_number(text) is None
    assert parse_integer(text) is None
    assert parse_percent(text) is None
    assert is_null(text)


def test_numeric_cells():
    assert parse_number(316933.0) == 316933 and type(parse_number(316933.0)) is int
    assert parse_number(86.76) == Decimal("86.76")
    assert parse_number(42) == 42
    assert parse_integer(316933.0) == 316933
    assert parse_percent(86.76) == Decimal("86.76")
    assert parse_number(Decimal("3.0")) == 3


def test_decimal_point_contract():
    assert parse_number("1.234", decimal="point") == Decimal("1.234")
    assert parse_number("1,234", decimal="point") == 1234
    assert parse_number("95,98", decimal="point") == Decimal("95.98")


def test_explicit_thousands_separator():
    assert parse_number("1'234'567", thousands="'") == 1234567
    assert parse_number("1 234,5", thousands=" ") == Decimal("1234.5")
    with pytest.raises(ParseError):
        parse_number("1.234,5", thousands="'")  # a dot under comma decimals is refused


def test_percent_signs():
    assert parse_percent("95,98%") == Decimal("95.98")
    assert parse_percent("% 95,98") == Decimal("95.98")
    assert parse_percent("100%") == 100
    with pytest.raises(ParseError) as info:
        parse_number("95,98%")
    assert info.value.reason == "not a number: '95,98%'"


@pytest.mark.parametrize(
    ("parser", "value", "reason"),
    [
        (parse_number, "abc", "not a number: 'abc'"),
        (parse_number, "1.23.4", "not a number: '1.23.4'"),
        (parse_number, "1,2,3", "not a number: '1,2,3'"),
        (parse_number, "12a", "not a number: '12a'"),
        (parse_number, "1.234,5,6", "not a number: '1.234,5,6'"),
        (parse_number, True, "not a number: True"),
        (parse_number, float("nan"), "not a number: nan"),
        (parse_integer, "316933,5", "not an integer: '316933,5'"),
        (parse_integer, 316933.5, "not an integer: 316933.5"),
        (parse_percent, "87,86,1%", "not a percentage: '87,86,1%'"),
        (parse_percent, "tinggi", "not a percentage: 'tinggi'"),
    ],
)
def test_reasons(parser, value, reason):
    with pytest.raises(ParseError) as info:
        parser(value)
    assert info.value.reason == reason
    assert str(info.value) == reason
    assert isinstance(info.value, ValueError)
