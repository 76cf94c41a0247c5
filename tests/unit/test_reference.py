"""The committed reference CSVs (built by scripts/build_reference.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "include" / "cakupan" / "reference"
SHARED = REPO.parent / "shared" / "data" / "reference"


def _read(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def regions() -> list[dict[str, str]]:
    return _read("regions.csv")


@pytest.fixture(scope="module")
def history() -> list[dict[str, str]]:
    return _read("region_codes_history.csv")


def test_regions_counts_and_codes(regions):
    header = ["code", "name", "level", "district_type", "province_code", "bps_code"]
    assert list(regions[0]) == header
    provinces = [r for r in regions if r["level"] == "province"]
    districts = [r for r in regions if r["level"] == "district"]
    assert len(provinces) == 38
    assert len(districts) == 514
    codes = [r["code"] for r in regions]
    assert len(set(codes)) == len(codes)
    province_codes = {r["code"] for r in provinces}
    for r in provinces:
        assert r["district_type"] == ""
        assert len(r["code"]) == 2
    for r in districts:
        assert r["province_code"] in province_codes
        assert r["code"].startswith(r["province_code"] + ".")
        assert r["district_type"] == ("kota" if r["code"][3] == "7" else "kabupaten")
        assert r["bps_code"].isdigit() and len(r["bps_code"]) == 4
        assert not r["name"].lower().startswith(("kab", "kota "))
    bps = [r["bps_code"] for r in districts]
    assert len(set(bps)) == 514


def test_bps_code_is_not_the_dropped_dot(regions):
    by_bps = {r["bps_code"]: r for r in regions if r["level"] == "district"}
    assert by_bps["6403"]["code"] == "64.02"
    assert by_bps["6403"]["name"] == "Kutai Kartanegara"


def test_new_papua_provinces_have_no_bps_code(regions):
    by_code = {r["code"]: r for r in regions}
    for code in ("93", "94", "95", "96"):
        assert by_code[code]["bps_code"] == ""
    assert by_code["91"]["bps_code"] == "94"
    assert by_code["92"]["bps_code"] == "91"


def test_sorong_after_the_papua_split(regions, history):
    by_code = {r["code"]: r for r in regions}
    assert by_code["96.01"]["name"] == "Sorong"
    assert by_code["96.01"]["district_type"] == "kabupaten"
    assert by_code["96.71"]["district_type"] == "kota"
    assert by_code["96.01"]["bps_code"] == "9107"
    assert by_code["96.71"]["bps_code"] == "9171"
    rows = [r for r in history if r["code"] == "92.01"]
    assert {r["decree_year"] for r in rows} == {"2018", "2020", "2022", "2023"}
    assert {r["current_code"] for r in rows} == {"96.01"}
    assert {r["current_code"] for r in history if r["code"] == "92.71"} == {"96.71"}


def test_history_covers_every_decree(regions, history):
    current = {r["code"] for r in regions if r["level"] == "district"}
    years = {}
    for r in history:
        assert r["current_code"] in current
        years.setdefault(r["decree_year"], set()).add(r["code"])
    assert sorted(years) == ["2018", "2020", "2022", "2023", "2025"]
    for codes in years.values():
        assert len(codes) == 514
    assert all(r["code"] == r["current_code"] for r in history if r["decree_year"] == "2025")


def test_bogor_is_two_regions(regions):
    bogor = {(r["code"], r["district_type"]) for r in regions if r["name"] == "Bogor"}
    assert bogor == {("32.01", "kabupaten"), ("32.71", "kota")}


def test_aliases():
    aliases = {r["alias"]: r["code"] for r in _read("region_aliases.csv")}
    assert aliases["palangkaraya"] == "62.71"
    assert aliases["palangka raya"] == "62.71"
    assert aliases["mahakam hulu"] == "64.11"
    assert aliases["siak"] == "14.08"
    for alias in aliases:
        assert alias == alias.lower().strip()
        assert "  " not in alias
        assert not alias.startswith(("kab ", "kota "))
    assert "bogor" not in aliases and "sorong" not in aliases


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared reference data absent")
def test_cross_check_with_shared_facts(regions):
    with (SHARED / "kepmendagri_2025_regions.csv").open(encoding="utf-8") as f:
        decree = {r["kode"]: r["nama"].strip() for r in csv.DictReader(f)}
    assert set(decree) == {r["code"] for r in regions}
    for r in regions:
        if r["level"] == "district":
            assert decree[r["code"]].endswith(r["name"])
    with (SHARED / "bps_kemendagri_bridge_2020_kabkota.csv").open(encoding="utf-8") as f:
        bridge = {r["kode_bps"]: r["kode_dagri"] for r in csv.DictReader(f)}
    for r in regions:
        if r["level"] == "district" and r["code"][:2] not in {"91", "92", "93", "94", "95", "96"}:
            assert bridge[r["bps_code"]] == r["code"].replace(".", "")
