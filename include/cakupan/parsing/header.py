"""Find a table's header below its title rows and map its columns to canonical fields.

Header texts are compared after `normalize_header`: case, punctuation and spaces do not matter
(`Kabupaten / Kota`, `KABUPATEN/KOTA` and `kabupaten kota` are the same). A two-row header is
flattened per column as `"<top> / <bottom>"` (`PBI APBN / Aktif`), the top cell of a merged
range carried right over the columns it spans; where merge information is missing (ODS, CSV)
a top cell is carried right over following columns whose top is empty and whose bottom is not,
as long as the previous column also had a bottom text.

Kept here because no library finds a header below an office's title rows or flattens a merged
two-row header: pandas' `header=[0, 1]` needs the header's row numbers and leaves merged cells
empty.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Merged = Sequence[tuple[tuple[int, int], tuple[int, int]]]


def cell_text(value: Any) -> str:
    """A cell as header text: strings with spaces collapsed, `2022.0` as `2022`, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def normalize_header(text: Any) -> str:
    """Lower case, letters and digits only: `Cakupan (%)` -> `cakupan`."""
    return "".join(ch for ch in cell_text(text).casefold() if ch.isalnum())


@dataclass
class HeaderMatch:
    row: int  # 1-based row number of the (first) header row
    rows: int  # 1 or 2 header rows
    texts: list[str]  # header text per column (flattened for two rows)
    columns: dict[str, tuple[int, str]]  # field -> (column index, header text)
    unmatched: list[str] = field(default_factory=list)  # header texts mapped to no field
    index: int = 0  # position of the first header row in the searched rows
    # a two-row position whose second row has no header text (no cell is an alias or a part
    # of one): the second row may be data, so messages show the first row's texts alone
    top_texts: list[str] | None = None

    @property
    def last_row(self) -> int:
        return self.row + self.rows - 1

    @property
    def span(self) -> str:
        """`row 4`, or `rows 4-5 (flattened)` for a two-row header (`row 4` when its second row
        is not a header row)."""
        if self.rows == 1 or self.top_texts is not None:
            return f"row {self.row}"
        return f"rows {self.row}-{self.last_row} (flattened)"

    @property
    def shown_texts(self) -> list[str]:
        """The texts a message may quote: the header's, never a data row's."""
        return self.top_texts if self.top_texts is not None else self.texts

    @property
    def header_rows(self) -> range:
        """Indices in the searched rows of the rows that are header (not data) rows."""
        return range(self.index, self.index + (1 if self.top_texts is not None else self.rows))


class HeaderNotFound(Exception):
    """No row in the search window carries every required field; the message says why.

    `best` is the position that maps the most fields (None when none maps any)."""

    def __init__(
        self,
        message: str,
        missing: list[str],
        closest: list[str],
        best: HeaderMatch | None = None,
    ):
        super().__init__(message)
        self.missing = missing
        self.closest = closest
        self.best = best


_LONG_DIGITS = re.compile(r"\d{6}")


def header_text(match: HeaderMatch) -> str:
    """A header as read, for messages: each non-blank text quoted, in column order; a text that
    looks like data (6 digits in a row: an ID or phone number, a count) or runs over 80
    characters is not shown. Only for a position that maps some field (a header, not data)."""
    shown = [
        "<text not shown>" if _LONG_DIGITS.search(t) or len(t) > 80 else repr(t)
        for t in match.shown_texts
        if t
    ]
    return ", ".join(shown)


def flatten_two_rows(
    top: Sequence[Any],
    bottom: Sequence[Any],
    *,
    top_row: int | None = None,
    merged: Merged | None = None,
) -> list[str]:
    """Header texts of a two-row header; `top_row` is the top row's 0-based absolute index."""
    width = max(len(top), len(bottom))
    tops = [cell_text(top[i]) if i < len(top) else "" for i in range(width)]
    bottoms = [cell_text(bottom[i]) if i < len(bottom) else "" for i in range(width)]
    if merged and top_row is not None:
        for (r0, c0), (r1, c1) in merged:
            if r0 <= top_row <= r1 and c1 > c0 and 0 <= c0 < width:
                for c in range(c0 + 1, min(c1, width - 1) + 1):
                    if not tops[c]:
                        tops[c] = tops[c0]
    for c in range(1, width):
        if not tops[c] and bottoms[c] and bottoms[c - 1] and tops[c - 1]:
            tops[c] = tops[c - 1]
    texts = []
    for t, b in zip(tops, bottoms, strict=True):
        if t and b and normalize_header(t) != normalize_header(b):
            texts.append(f"{t} / {b}")
        else:
            texts.append(t or b)
    return texts


def match_fields(
    texts: Sequence[str], aliases: Mapping[str, Sequence[str]]
) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Map fields to columns by alias (first alias, then first free column, wins)."""
    positions: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        key = normalize_header(text)
        if key:
            positions.setdefault(key, []).append(i)
    taken: set[int] = set()
    columns: dict[str, tuple[int, str]] = {}
    for name, names in aliases.items():
        for alias in names:
            col = next(
                (c for c in positions.get(normalize_header(alias), ()) if c not in taken), None
            )
            if col is not None:
                columns[name] = (col, texts[col])
                taken.add(col)
                break
    unmatched = [t for i, t in enumerate(texts) if t and i not in taken]
    return columns, unmatched


def find_header(
    rows: Sequence[tuple[int, Sequence[Any]]],
    aliases: Mapping[str, Sequence[str]],
    required: Collection[str],
    *,
    header_rows: int = 1,
    merged: Merged | None = None,
    sheet: str | None = None,
) -> HeaderMatch:
    """The header among `rows` (`(row_number, cells)`, the search window).

    Every candidate position is scored by the number of fields it maps; the best one that maps
    all required fields wins (the earliest on a tie). Raises `HeaderNotFound` naming the
    required fields not found and the header texts closest to them, taken only from rows of a
    position that maps at least one field (a header that is not complete): a row that maps
    none may be a data row, whose cells (names, ID numbers) an error message must not echo.
    """
    best: HeaderMatch | None = None
    best_any: HeaderMatch | None = None
    header_like: set[int] = set()  # indices of rows in a position that maps some field
    for match in _positions(rows, aliases, header_rows, merged):
        columns = match.columns
        if columns:
            header_like.update(match.header_rows)
        if best_any is None or _breadth(match) > _breadth(best_any):
            best_any = match
        if all(f in columns for f in required) and (
            best is None or len(columns) > len(best.columns)
        ):
            best = match
    if best is not None:
        return best
    raise _not_found(rows, aliases, required, best_any, sheet, header_like)


def best_header(
    rows: Sequence[tuple[int, Sequence[Any]]],
    aliases: Mapping[str, Sequence[str]],
    *,
    header_rows: int = 1,
    merged: Merged | None = None,
) -> HeaderMatch | None:
    """The position among `rows` that maps the most fields (then has the most texts: of two
    row pairs around a two-row header, the one that is it), whether or not it has the required
    ones; None when no position maps any field."""
    best: HeaderMatch | None = None
    for match in _positions(rows, aliases, header_rows, merged):
        if match.columns and (best is None or _breadth(match) > _breadth(best)):
            best = match
    return best


def _breadth(match: HeaderMatch) -> tuple[int, int]:
    return len(match.columns), sum(1 for t in match.texts if t)


def _positions(rows, aliases, header_rows, merged):
    """Every candidate header position of the search window, its texts matched to fields."""
    parts = {
        normalize_header(part)
        for names in aliases.values()
        for alias in names
        for part in (alias, *alias.split("/"))
    } - {""}
    for i in range(len(rows) - header_rows + 1):
        number, cells = rows[i]
        top_texts = None
        if header_rows == 2:
            bottom = rows[i + 1][1]
            texts = flatten_two_rows(cells, bottom, top_row=number - 1, merged=merged)
            if not any(normalize_header(c) in parts for c in bottom):
                top_texts = [cell_text(c) for c in cells]
        else:
            texts = [cell_text(c) for c in cells]
        if not any(texts):
            continue
        columns, unmatched = match_fields(texts, aliases)
        yield HeaderMatch(number, header_rows, texts, columns, unmatched, i, top_texts)


def _not_found(rows, aliases, required, best, sheet, header_like) -> HeaderNotFound:
    found = best.columns if best else {}
    missing = [f for f in required if f not in found]
    texts: dict[str, str] = {}
    if best is not None and best.columns and best.top_texts is None and best.rows == 2:
        for text in best.texts:  # the flattened texts first
            if text and not any(ch.isdigit() for ch in text[:1]) and len(text) <= 80:
                texts.setdefault(
                    normalize_header(text), f"{text!r} (rows {best.row}-{best.last_row})"
                )
    for number, cells in (rows[i] for i in sorted(header_like)):
        for cell in cells:
            text = cell_text(cell)
            if text and not any(ch.isdigit() for ch in text[:1]) and len(text) <= 80:
                texts.setdefault(normalize_header(text), f"{text!r} (row {number})")
    wanted = [normalize_header(a) for f in missing for a in aliases[f]]
    scored: dict[str, float] = {}
    for key, label in texts.items():
        if not key:
            continue
        score = max(
            (difflib.SequenceMatcher(None, key, w).ratio() for w in wanted if w), default=0.0
        )
        if score >= 0.4:
            scored[label] = score
    closest = sorted(scored, key=lambda k: -scored[k])[:3]
    where = f" in sheet {sheet!r}" if sheet else ""
    span = f"rows {rows[0][0]}-{rows[-1][0]}" if rows else "no rows"
    described = "; ".join(f"{f} ({', '.join(repr(a) for a in aliases[f][:4])})" for f in missing)
    message = f"no header found{where} ({span}): required fields not found: {described}"
    if closest:
        message += "; closest header texts: " + ", ".join(closest)
    elif not header_like:
        message += "; no row has any of the expected header texts (cells are not shown)"
    else:
        message += "; closest header texts: none"
    if best is not None and best.columns:
        message += f"; header as read at {best.span}: {header_text(best)}"
    return HeaderNotFound(message, missing, closest, best if best and best.columns else None)
