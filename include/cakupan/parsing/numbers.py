"""Numbers as Indonesian offices write them.

Indonesian convention: `.` groups thousands and `,` marks decimals (`1.234.567`, `95,98`,
`95,98%`). Cells arrive either as numbers (python-calamine gives `float` for every numeric
cell: `316933.0`) or as text. Rules for text:

* blank, `-`, `--`, `–` and `—` are null (`None`);
* all spaces are dropped first, so a stray space (`87, 86`) reads as `87,86`;
* `(1.234)` and `-1.234` are negative;
* both separators present (`1.234,5` or `1,234.5`): the last one is the decimal mark;
* one separator appearing several times (`1.234.567`) groups thousands, in groups of three;
* one separator appearing once: the contract's decimal mark (`decimal: comma`, the default) is a
  decimal (`95,98`); the other one groups thousands when exactly three digits follow it
  (`1.234` is 1234 under Indonesian convention, 1.234 under `decimal: point`), else it can only
  be a decimal mark (`95.98`);
* a contract may name the thousands separator (`thousands: "'"`), which is then simply removed.

Results: `int` when the value has no fractional part, else `decimal.Decimal` (exact: `95,98` is
`Decimal('95.98')`, never a binary float). Failures raise `ParseError` with a one-line reason.

Kept here because no library reads these cells: locale parsers (`locale.atof`, babel's
`parse_decimal`) read one convention strictly, while one office file mixes spreadsheet floats,
dash nulls, bracketed negatives and a lone separator whose meaning the contract decides.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any


class ParseError(ValueError):
    """A cell that cannot be read as the declared type; `reason` is one line naming the value."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


NULL_TEXTS = frozenset({"", "-", "--", "---", "–", "—", "−", "n/a", "N/A", "#N/A"})

_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d+)?[eE][+-]?\d+")
_MINUS = ("-", "−", "–")


def is_null(value: Any) -> bool:
    """True for an empty cell or a text that means 'no value' (`-`, `—`, blank)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in NULL_TEXTS
    return False


def _valid_groups(integer_part: str, sep: str) -> bool:
    groups = integer_part.split(sep)
    if not groups[0] or len(groups[0]) > 3:
        return False
    return all(len(g) == 3 for g in groups[1:])


def _normalise_text(text: str, decimal: str, thousands: str | None) -> str | None:
    """`text` without grouping, with `.` as decimal mark; None when it is not a number."""
    if thousands:
        text = text.replace(thousands, "")
        if decimal == "comma":
            if "." in text:
                return None
            text = text.replace(",", ".")
        elif "," in text:
            return None
        return text
    dot = text.count(".")
    comma = text.count(",")
    if dot and comma:
        dec_sep, grp = (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
        if text.count(dec_sep) != 1:
            return None
        integer, _, fraction = text.partition(dec_sep)
        if not _valid_groups(integer, grp):
            return None
        return integer.replace(grp, "") + "." + fraction
    if not dot and not comma:
        return text
    sep, count = (".", dot) if dot else (",", comma)
    if count > 1:
        return text.replace(sep, "") if _valid_groups(text, sep) else None
    own_decimal = "," if decimal == "comma" else "."
    if sep == own_decimal:
        return text.replace(",", ".")
    integer, _, fraction = text.partition(sep)
    if len(fraction) == 3 and 1 <= len(integer) <= 3 and integer[0] != "0":
        return integer + fraction  # grouping: 1.234 -> 1234 (comma convention)
    return integer + "." + fraction


def _number_from_text(
    text: str, *, decimal: str = "comma", thousands: str | None = None, percent: bool = False
) -> int | Decimal | None:
    s = text.strip()
    if s in NULL_TEXTS:
        return None
    if s.isdigit() and s.isascii():
        return int(s)
    t = "".join(s.split())  # drops every space, also a stray one inside the number
    if percent:
        if t.endswith("%"):
            t = t[:-1]
        elif t.startswith("%"):
            t = t[1:]
    negative = False
    if len(t) > 2 and t[0] == "(" and t[-1] == ")":
        negative, t = True, t[1:-1]
    if t[:1] in _MINUS:
        negative, t = not negative, t[1:]
    elif t[:1] == "+":
        t = t[1:]
    if not t:
        return None if s in NULL_TEXTS else _fail(text, percent)
    if t.isdigit() and t.isascii():
        return -int(t) if negative else int(t)
    if _SCIENTIFIC.fullmatch(t):
        value = Decimal(t)
    else:
        plain = _normalise_text(t, decimal, thousands)
        if plain is None or not _PLAIN.fullmatch(plain):
            return _fail(text, percent)
        try:
            value = Decimal(plain)
        except InvalidOperation:  # pragma: no cover - the regex already guards
            return _fail(text, percent)
        if "." not in plain:
            value = int(plain)  # type: ignore[assignment]
    return -value if negative else value


def _fail(text: str, percent: bool):
    kind = "a percentage" if percent else "a number"
    raise ParseError(f"not {kind}: {text!r}")


def parse_number(
    value: Any, *, decimal: str = "comma", thousands: str | None = None
) -> int | Decimal | None:
    """A number from a numeric cell or Indonesian text; `None` for a blank or `-` cell."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float:
        if value.is_integer():
            return int(value)
        if math.isnan(value) or math.isinf(value):
            raise ParseError(f"not a number: {value!r}")
        return Decimal(repr(value))
    if kind is str:
        return _number_from_text(value, decimal=decimal, thousands=thousands)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, int | float):
        return parse_number(float(value) if isinstance(value, float) else int(value))
    raise ParseError(f"not a number: {value!r}")


def parse_integer(
    value: Any, *, decimal: str = "comma", thousands: str | None = None
) -> int | None:
    """A whole number (counts of people): `316.933`, `316933.0`; `316933,5` is refused."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():
        return int(value)
    if kind is str and value.isdigit() and value.isascii():
        return int(value)
    number = parse_number(value, decimal=decimal, thousands=thousands)
    if number is None or type(number) is int:
        return number
    if number == number.to_integral_value():
        return int(number)
    raise ParseError(f"not an integer: {value!r}")


def parse_percent(
    value: Any, *, decimal: str = "comma", thousands: str | None = None
) -> int | Decimal | None:
    """A percentage as written, in percentage points: `95,98%`, `87, 86`, `86.76` -> 86.76.

    A numeric cell is taken as it is (a workbook holding 0.8676 formatted as `86.76%` gives
    0.8676: declare such a column `number` and scale it downstream).
    """
    kind = type(value)
    if kind is str:
        return _number_from_text(value, decimal=decimal, thousands=thousands, percent=True)
    try:
        return parse_number(value, decimal=decimal, thousands=thousands)
    except ParseError:
        raise ParseError(f"not a percentage: {value!r}") from None
