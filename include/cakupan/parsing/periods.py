"""Months, dates and semesters as sources write them; a period is the first day of its month.

`parse_month` reads `Mei 2022`, `31 Mei 2022`, `Januari 2024`, `Jan-24`, `Mei-22`, `2024-01`,
`01/2024`, `2024-01-31`, `31/01/2024`, `March 2023`, `May 31, 2022`, `202401`, date cells and
Excel serial numbers, Indonesian and English month names and their usual abbreviations
(`Agt`, `Agu`, `Ags`, `Nop`, `Peb`, `Des`). `parse_period` also reads semesters
(`2022_s1`, `S2 2023`, `Semester II 2023` -> January or July) and quarters (`2023 Q2`,
`Triwulan II 2023` -> April) and a bare year (`2024`, `Tahun 2024` -> January: a yearly
value's period is its year, dated by its first month). `search_period` finds such a period
inside free text (`Posisi : 31 Mei 2022`, `Data per Maret 2023`). Two-digit years are 20xx.

Kept here because no locked library reads these: `dateutil` knows English month names only, and
neither it nor `dateparser` reads semesters, triwulan, `202401` or Excel serial numbers as the
month they stand for.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from cakupan.parsing.numbers import ParseError

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    [
        "januari january jan",
        "februari pebruari february feb peb",
        "maret march mar mrt",
        "april apr",
        "mei may",
        "juni june jun",
        "juli july jul",
        "agustus august agu agt ags aug",
        "september sept sep",
        "oktober october okt oct",
        "november nopember nov nop",
        "desember december des dec",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

_MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

_ISO = re.compile(
    r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_MONTH_YEAR = re.compile(r"(\d{1,2})[-/.](\d{4})")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_YYYYMM = re.compile(r"(\d{4})(\d{2})")
_NAMED = re.compile(
    rf"(?:(\d{{1,2}})\s*[-/ ]?\s*)?({_MONTH_NAME})\.?\s*[-/ ,'’]?\s*(\d{{4}}|\d{{2}})"
)
_NAMED_US = re.compile(rf"({_MONTH_NAME})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})")
_SEMESTER = re.compile(r"(\d{4})\s*[-_ /]?\s*s(?:em(?:ester)?)?\.?\s*(i{1,2}|[12])")
_SEMESTER_FIRST = re.compile(r"s(?:em(?:ester)?)?\.?\s*(i{1,2}|[12])\s*[-_ /,]?\s*(\d{4})")
_QUARTER = re.compile(r"(\d{4})\s*[-_ /]?\s*(?:q|tw|triwulan)\s*(iv|i{1,3}|[1-4])")
_QUARTER_FIRST = re.compile(r"(?:q|tw|triwulan)\s*(iv|i{1,3}|[1-4])\s*[-_ /,]?\s*(\d{4})")
_YEAR_ONLY = re.compile(r"(?:tahun|th\.?|year)?\s*(\d{4})")

_SEARCH_NAMED = re.compile(
    rf"(?<![a-z])(?:(\d{{1,2}})\s+)?({_MONTH_NAME})\.?(?![a-z])"
    rf"\s*[-/ ,'’]?\s*(\d{{4}}|\d{{2}})(?!\d)"
)
_SEARCH_SEMESTER = re.compile(
    r"(?<![a-z0-9])(?:(\d{4})\s*[-_ /]?\s*s(?:em(?:ester)?)?\.?\s*(i{1,2}|[12])(?![a-z0-9])"
    r"|s(?:em(?:ester)?)?\.?\s*(i{1,2}|[12])\s*[-_ /,]?\s*(\d{4}))(?!\d)"
)
_SEARCH_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _month_start(year: int, month: int, day: int | None = None) -> dt.date:
    if not 1900 <= year <= 2100 or not 1 <= month <= 12:
        raise ValueError
    if day is not None:
        dt.date(year, month, day)  # validates the day
    return dt.date(year, month, 1)


def _excel_serial(value: float) -> dt.date | None:
    if 20000 <= value <= 80000:  # 1954 .. 2119
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    return None


def _text_of(value: Any) -> str:
    return " ".join(str(value).strip().lower().split())


def _parse_month_text(s: str) -> dt.date | None:
    try:
        if m := _ISO.fullmatch(s):
            return _month_start(int(m[1]), int(m[2]), int(m[3]) if m[3] else None)
        if m := _MONTH_YEAR.fullmatch(s):
            return _month_start(int(m[2]), int(m[1]))
        if m := _DAY_MONTH_YEAR.fullmatch(s):
            return _month_start(int(m[3]), int(m[2]), int(m[1]))
        if m := _YYYYMM.fullmatch(s):
            return _month_start(int(m[1]), int(m[2]))
        if m := _NAMED.fullmatch(s):
            return _month_start(_year(m[3]), MONTHS[m[2]], int(m[1]) if m[1] else None)
        if m := _NAMED_US.fullmatch(s):
            return _month_start(int(m[3]), MONTHS[m[1]], int(m[2]))
    except ValueError:
        return None
    return None


def parse_month(value: Any) -> dt.date:
    """The first day of the month a cell names; raises `ParseError('not a month: ...')`."""
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 190001 <= value <= 210012:
            month = _parse_month_text(str(int(value)))
            if month is not None:
                return month
        day = _excel_serial(float(value))
        if day is not None:
            return day.replace(day=1)
        raise ParseError(f"not a month: {value!r}")
    if isinstance(value, str):
        month = _parse_month_text(_text_of(value))
        if month is not None:
            return month
    raise ParseError(f"not a month: {value!r}")


def parse_date(value: Any) -> dt.date:
    """A calendar day: date cells, `2022-05-31`, `31/05/2022`, `31 Mei 2022`, Excel serials."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        day = _excel_serial(float(value))
        if day is not None:
            return day
        raise ParseError(f"not a date: {value!r}")
    if isinstance(value, str):
        s = _text_of(value)
        try:
            if m := _ISO.fullmatch(s):
                if m[3]:
                    return dt.date(int(m[1]), int(m[2]), int(m[3]))
            elif m := _DAY_MONTH_YEAR.fullmatch(s):
                return dt.date(int(m[3]), int(m[2]), int(m[1]))
            elif (m := _NAMED.fullmatch(s)) and m[1]:
                return dt.date(_year(m[3]), MONTHS[m[2]], int(m[1]))
            elif m := _NAMED_US.fullmatch(s):
                return dt.date(int(m[3]), MONTHS[m[1]], int(m[2]))
        except ValueError:
            pass
    raise ParseError(f"not a date: {value!r}")


def _semester(year: str, number: str) -> dt.date:
    n = _ROMAN.get(number) or int(number)
    return _month_start(int(year), 1 if n == 1 else 7)


def _quarter(year: str, number: str) -> dt.date:
    n = _ROMAN.get(number) or int(number)
    return _month_start(int(year), 3 * (n - 1) + 1)


def parse_period(value: Any) -> dt.date:
    """A month, semester (`2022_s1` -> 2022-01-01, `2022 S2` -> 2022-07-01), quarter, or year
    (`2024` -> 2024-01-01; an integer cell too)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2100:
        return dt.date(value, 1, 1)
    if isinstance(value, str):
        s = _text_of(value)
        try:
            if m := _YEAR_ONLY.fullmatch(s):
                return _month_start(int(m[1]), 1)
            if m := _SEMESTER.fullmatch(s):
                return _semester(m[1], m[2])
            if m := _SEMESTER_FIRST.fullmatch(s):
                return _semester(m[2], m[1])
            if m := _QUARTER.fullmatch(s):
                return _quarter(m[1], m[2])
            if m := _QUARTER_FIRST.fullmatch(s):
                return _quarter(m[2], m[1])
        except ValueError:
            raise ParseError(f"not a period: {value!r}") from None
    try:
        return parse_month(value)
    except ParseError:
        raise ParseError(f"not a period: {value!r}") from None


def search_period(text: Any) -> dt.date | None:
    """The first month or semester named inside free text (`Posisi : 31 Mei 2022`), or None."""
    if isinstance(text, dt.date | dt.datetime):
        return parse_month(text)
    if not isinstance(text, str):
        return None
    s = _text_of(text)
    candidates: list[tuple[int, dt.date]] = []
    for m in _SEARCH_NAMED.finditer(s):
        try:
            candidates.append(
                (m.start(), _month_start(_year(m[3]), MONTHS[m[2]], int(m[1]) if m[1] else None))
            )
            break
        except ValueError:
            continue
    for m in _SEARCH_SEMESTER.finditer(s):
        try:
            year, number = (m[1], m[2]) if m[1] else (m[4], m[3])
            candidates.append((m.start(), _semester(year, number)))
            break
        except ValueError:
            continue
    for m in _SEARCH_ISO.finditer(s):
        try:
            candidates.append((m.start(), _month_start(int(m[1]), int(m[2]))))
            break
        except ValueError:
            continue
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[0])[1]
