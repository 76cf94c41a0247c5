"""Spreadsheet column letters and numbers (`A` = column 1, `AB` = column 28).

Two lines each; the readers (whole sheets) and the streaming XLSX reader both need them, and
keeping them here keeps those two modules from importing each other.
"""

from __future__ import annotations


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: bytes) -> int:
    """Spreadsheet letters as bytes of a cell reference -> 1-based column number (b"AB" -> 28)."""
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number
