"""Months, dates, semesters and quarters as sources write them."""

from __future__ import annotations

import datetime as dt

import pytest
from cakupan.parsing.numbers import ParseError
from cakupan.parsing.periods import parse_date, parse_month, parse_period, search_period

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mei 2022", D(2022, 5, 1)),
        ("31 Mei 2022", D(2022, 5, 1)),
        ("Januari 2024", D(2024, 1, 1)),
        ("Jan-24", D(2024, 1, 1)),
        ("Mei-22", D(2022, 5, 1)),
        ("2024-01", D(2024, 1, 1)),
        ("01/2024", D(2024, 1, 1)),
        ("1/2024", D(2024, 1, 1)),
        ("2024-01-31", D(2024, 1, 1)),
        ("31/01/2024", D(2024, 1, 1)),
        ("31-12-2023", D(2023, 12, 1)),
        ("March 2023", D(2023, 3, 1)),
        ("Maret 2023", D(2023, 3, 1)),
        ("May 31, 2022", D(2022, 5, 1)),
        ("Agt 2023", D(2023, 8, 1)),
        ("Agustus 2023", D(2023, 8, 1)),
        ("Ags-23", D(2023, 8, 1)),
        ("Nop 2023", D(2023, 11, 1)),
        ("Pebruari 2022", D(2022, 2, 1)),
        ("Des 2025", D(2025, 12, 1)),
        ("DESEMBER  2025", D(2025, 12, 1)),
        ("October 2024", D(2024, 10, 1)),
        ("202401", D(2024, 1, 1)),
        ("2024-01-31 00:00:00", D(2024, 1, 1)),
    ],
)
def test_month_texts(text, expected):
    assert parse_month(text) == expected


def test_month_cells():
    assert parse_month(dt.datetime(2022, 5, 31, 12, 0)) == D(2022, 5, 1)
    assert parse_month(D(2022, 5, 31)) == D(2022, 5, 1)
    assert parse_month(44712.0) == D(2022, 5, 1)  # Excel serial of 2022-05-31
    assert parse_month(202205) == D(2022, 5, 1)


@pytest.mark.parametrize(
    "text", ["Foo 2022", "2022-13", "13/2024", "31 Februari 2024", "", "Mei", "2022", "abc"]
)
def test_month_reasons(text):
    with pytest.raises(ParseError) as info:
        parse_month(text)
    assert info.value.reason == f"not a month: {text!r}"


def test_dates():
    assert parse_date("2022-05-31") == D(2022, 5, 31)
    assert parse_date("31/05/2022") == D(2022, 5, 31)
    assert parse_date("31 Mei 2022") == D(2022, 5, 31)
    assert parse_date(dt.datetime(2022, 5, 31, 8)) == D(2022, 5, 31)
    assert parse_date(44712) == D(2022, 5, 31)
    for bad in ("Mei 2022", "2022-02-30", "x"):
        with pytest.raises(ParseError) as info:
            parse_date(bad)
        assert info.value.reason == f"not a date: {bad!r}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022_s1", D(2022, 1, 1)),
        ("2022_S2", D(2022, 7, 1)),
        ("2023 S2", D(2023, 7, 1)),
        ("S1 2024", D(2024, 1, 1)),
        ("Semester II 2023", D(2023, 7, 1)),
        ("Semester 1 2023", D(2023, 1, 1)),
        ("2023 Q2", D(2023, 4, 1)),
        ("Triwulan IV 2023", D(2023, 10, 1)),
        ("Mei 2022", D(2022, 5, 1)),
    ],
)
def test_periods(text, expected):
    assert parse_period(text) == expected


def test_period_reason():
    with pytest.raises(ParseError) as info:
        parse_period("2022_s3")
    assert info.value.reason == "not a period: '2022_s3'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Posisi: Mei 2022", D(2022, 5, 1)),
        ("Posisi : 31 Mei 2022", D(2022, 5, 1)),
        ("Posisi: Mei-22", D(2022, 5, 1)),
        ("Data per Maret 2023", D(2023, 3, 1)),
        ("penduduk_kabkota_2023_s2.csv", D(2023, 7, 1)),
        ("rekap 2024-03 final", D(2024, 3, 1)),
        ("Sumber: BPJS Kesehatan", None),
        ("desa 2023", None),  # `des` inside a word is no month
        (None, None),
    ],
)
def test_search_period(text, expected):
    assert search_period(text) == expected
