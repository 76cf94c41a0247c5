"""The NIK rule of issue 15.2 in Python: a test oracle, not part of the product.

The product has one implementation of the rule, as polars expressions over a batch's columns
(`cakupan.landing.person_frame`); this one checks one NIK at a time, written apart from it so
that `test_person_frame.py` can hold the two against each other on the synthetic kabupaten's
NIKs. The generator's tests (`test_persons_generator.py`) check with it that every unflawed NIK
passes and every flawed one fails, and `test_wilayah_nik.py` pins its cases.

A NIK (Nomor Induk Kependudukan) has 16 digits: 1-2 a province, 1-4 a kab/kota (regions.csv,
2025 decree), 1-6 a kecamatan (checked only where `wilayah_2025.csv` lists that kab/kota's
kecamatan), 7-12 the birth date as DDMMYY with 40 added to the day for women, 13-16 a serial.
The date must be a real date and agree with the record's sex and birth date when it has them.

`nik_problem` returns a reason that names the rule, never the value, or None when the NIK
passes; it is pure and cheap. Its reasons are worded for tests, not the landing's.
"""

from __future__ import annotations

import calendar
import csv
import functools
from collections.abc import Collection
from datetime import date

from cakupan.parsing.regions import REFERENCE_DIR
from cakupan.parsing.wilayah import KECAMATAN, wilayah


@functools.cache
def _region_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(province codes `64`, kab/kota codes without dot `6402`) of regions.csv."""
    with (REFERENCE_DIR / "regions.csv").open(encoding="utf-8", newline="") as f:
        codes = [r["code"] for r in csv.DictReader(f)]
    return (
        frozenset(c for c in codes if "." not in c),
        frozenset(c.replace(".", "") for c in codes if "." in c),
    )


@functools.cache
def reference_kecamatan() -> frozenset[str]:
    """Kecamatan codes of the reference file, without dots (`640201`)."""
    return frozenset(w.code.replace(".", "") for w in wilayah() if w.level == KECAMATAN)


def _date_problem(nik: str, sex: str | None, birth_date: date | None) -> str | None:
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day > 40
    if female:
        day -= 40
    years = [birth_date.year] if birth_date is not None else [1900 + yy, 2000 + yy]
    if not 1 <= month <= 12 or not any(1 <= day <= calendar.monthrange(y, month)[1] for y in years):
        return "birth date digits (7-12) are not a real date"
    if sex is not None and sex in ("L", "P") and female != (sex == "P"):
        return "sex disagrees with the birth day digits (women have 40 added)"
    if birth_date is not None and (day, month, yy) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        return "birth date disagrees with the birth date digits (7-12)"
    return None


def nik_problem(
    nik: str | None,
    sex: str | None = None,
    birth_date: date | None = None,
    known_kecamatan: Collection[str] | None = None,
) -> str | None:
    """Why `nik` fails the NIK rule, or None when it passes (`sex` `L`/`P`).

    `known_kecamatan`: kecamatan codes without dots; default the reference file's. A kab/kota
    none of whose kecamatan is known is not checked at that level.
    """
    if nik is None or not nik.strip():
        return "missing"
    nik = nik.strip()
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        return "not 16 digits"
    provinces, districts = _region_codes()
    if nik[:2] not in provinces:
        return "province digits (1-2) are not a province"
    if nik[:4] not in districts:
        return "kab/kota digits (1-4) are not a kab/kota"
    known = reference_kecamatan() if known_kecamatan is None else known_kecamatan
    if nik[:6] not in known and _district_covered(nik[:4], known):
        return "kecamatan digits (1-6) are not a kecamatan of that kab/kota"
    return _date_problem(nik, sex, birth_date)


def _district_covered(district: str, known: Collection[str]) -> bool:
    if known is reference_kecamatan():
        return district in _covered_districts()
    return any(k.startswith(district) for k in known)


@functools.cache
def _covered_districts() -> frozenset[str]:
    return frozenset(k[:4] for k in reference_kecamatan())


__all__ = ["nik_problem", "reference_kecamatan"]
