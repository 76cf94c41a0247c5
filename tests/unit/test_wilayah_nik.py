"""The kecamatan/desa reference (wilayah_2025.csv) and the Python NIK rule.

No NIK is printed: the checks compare dicts of case label -> reason.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from cakupan.parsing.wilayah import desa_of, districts_covered, kecamatan_of, wilayah
from nik_rule import nik_problem  # the NIK rule as a test oracle (tests/unit/nik_rule.py)

SHARED_WILAYAH = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "reference"
    / "kepmendagri_2025_wilayah_kaltim_palangkaraya_pekanbaru.csv"
)


def test_kukar_has_20_kecamatan_and_237_desa_kelurahan():
    kecamatan = kecamatan_of("64.02")
    desa = [d for k in kecamatan for d in desa_of(k.code)]
    assert len(kecamatan) == 20
    assert len(desa) == 237
    assert {d.level for d in desa} == {"desa", "kelurahan"}
    assert kecamatan[5].code == "64.02.06" and kecamatan[5].name == "Tenggarong"
    assert all(d.district_code == "64.02" for d in desa)


@pytest.mark.skipif(not SHARED_WILAYAH.exists(), reason="the shared reference data is absent")
def test_reference_carries_every_kecamatan_and_desa_of_the_shared_file():
    with SHARED_WILAYAH.open(encoding="utf-8-sig", newline="") as f:
        shared = [r for r in csv.DictReader(f) if r["code"].count(".") >= 2]
    ours = {w.code: w for w in wilayah()}
    assert len(ours) == len(shared) == len(wilayah())
    mismatched = [
        r["code"]
        for r in shared
        if r["code"] not in ours
        or ours[r["code"]].name != r["name"].strip()
        or ours[r["code"]].level != r["level"]
        or ours[r["code"]].district_code != r["code"][:5]
    ]
    assert mismatched == []
    shared_kukar = [r for r in shared if r["code"].startswith("64.02.")]
    assert sum(r["code"].count(".") == 2 for r in shared_kukar) == 20
    assert sum(r["code"].count(".") == 3 for r in shared_kukar) == 237


def test_desa_level_follows_the_fourth_part():
    wrong = [
        w.code
        for w in wilayah()
        if w.level != "kecamatan" and (w.level == "desa") != w.code.split(".")[3].startswith("2")
    ]
    assert wrong == []
    assert districts_covered() >= {"64.02", "64.72", "62.71", "14.71"}


def _nik(prefix6: str, day: int, month: int, yy: int, serial: int) -> str:
    return f"{prefix6}{day:02d}{month:02d}{yy:02d}{serial:04d}"


def test_nik_rule():
    man, woman = date(1985, 7, 9), date(2001, 2, 28)
    cases = {
        "valid man": (_nik("640206", 9, 7, 85, 1), "L", man),
        "valid woman": (_nik("640206", 68, 2, 1, 12), "P", woman),
        "valid without sex or date": (_nik("640206", 68, 2, 1, 12), None, None),
        "outside the reference: kecamatan not checked": (_nik("350799", 9, 7, 85, 3), "L", man),
        "missing": ("", "L", man),
        "15 digits": (_nik("640206", 9, 7, 85, 1)[:15], "L", man),
        "letter": ("64020609078500O1", "L", man),
        "unknown province": (_nik("990206", 9, 7, 85, 1), "L", man),
        "unknown kab/kota": (_nik("649906", 9, 7, 85, 1), "L", man),
        "unknown kecamatan of Kukar": (_nik("640299", 9, 7, 85, 1), "L", man),
        "day 00": (_nik("640206", 0, 7, 85, 1), None, None),
        "30 February": (_nik("640206", 30, 2, 85, 1), None, None),
        "29 February of a leap year": (_nik("640206", 29, 2, 0, 1), None, None),
        "month 13": (_nik("640206", 9, 13, 85, 1), None, None),
        "woman with a man's day": (_nik("640206", 28, 2, 1, 12), "P", woman),
        "other birth date": (_nik("640206", 9, 7, 85, 1), "L", date(1985, 7, 10)),
    }
    got = {label: nik_problem(nik, sex, born) for label, (nik, sex, born) in cases.items()}
    assert got == {
        "valid man": None,
        "valid woman": None,
        "valid without sex or date": None,
        "outside the reference: kecamatan not checked": None,
        "missing": "missing",
        "15 digits": "not 16 digits",
        "letter": "not 16 digits",
        "unknown province": "province digits (1-2) are not a province",
        "unknown kab/kota": "kab/kota digits (1-4) are not a kab/kota",
        "unknown kecamatan of Kukar": "kecamatan digits (1-6) are not a kecamatan of that kab/kota",
        "day 00": "birth date digits (7-12) are not a real date",
        "30 February": "birth date digits (7-12) are not a real date",
        "29 February of a leap year": None,
        "month 13": "birth date digits (7-12) are not a real date",
        "woman with a man's day": "sex disagrees with the birth day digits (women have 40 added)",
        "other birth date": "birth date disagrees with the birth date digits (7-12)",
    }


def test_nik_rule_with_given_kecamatan():
    nik = _nik("640206", 9, 7, 85, 1)
    got = {
        "known": nik_problem(nik, known_kecamatan={"640206"}),
        "other kecamatan known": nik_problem(nik, known_kecamatan={"640201"}),
        "district not covered": nik_problem(nik, known_kecamatan={"647201"}),
    }
    assert got == {
        "known": None,
        "other kecamatan known": "kecamatan digits (1-6) are not a kecamatan of that kab/kota",
        "district not covered": None,
    }
