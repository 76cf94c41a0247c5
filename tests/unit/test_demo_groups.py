"""The extra demo sources (`generate(..., extras=True)`, `generate_extras`): population groups,
BPS population, earlier decrees (docs/COVERAGE_MODEL.md); and their contracts."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from pathlib import Path

import pytest
from cakupan.demo.generate import (
    build_model,
    generate,
    generate_extras,
    participants_by_age,
)
from cakupan.sources.contracts import load_contracts, match_contract
from cakupan.sources.extract import extract_file
from python_calamine import CalamineWorkbook

REFERENCE = Path(__file__).resolve().parents[2] / "include" / "cakupan" / "reference"


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("demo_extras")
    return out, generate(out, extras=True)


def test_extras_are_opt_in(demo, tmp_path):
    root, paths = demo
    assert len(paths) == 48 + 8 + 2 + 30
    core = generate(tmp_path / "core")
    assert len(core) == 48 + 8 + 2
    # the core files are the same bytes with or without the extras
    full = _digest(root)
    for name, digest in _digest(tmp_path / "core").items():
        assert full[name] == digest, name


def test_extras_are_deterministic_and_window_independent(demo, tmp_path):
    root, _ = demo
    generate_extras(tmp_path / "again")
    full = _digest(root)
    again = _digest(tmp_path / "again")
    assert again == {k: v for k, v in full.items() if k in again}
    window = generate_extras(tmp_path / "window", start="2025-05", end="2025-06")
    names = {str(p.relative_to(tmp_path / "window")) for p in window}
    assert "dtsen/dtsen_desil_kabkota_2025-06.csv" in names
    assert "pemasyarakatan/rekap_wbp_jkn_2025_s1.xlsx" in names
    assert not any("2024" in n for n in names if "bps" not in n)
    for name, digest in _digest(tmp_path / "window").items():
        assert full[name] == digest, name


def test_earlier_decrees_list_the_reference_history(demo):
    root, _ = demo
    history = _csv(REFERENCE / "region_codes_history.csv")
    for year in ("2018", "2020", "2022", "2023"):
        rows = _csv(root / "kemendagri" / "riwayat" / f"kepmendagri_{year}.csv")
        assert len(rows) == 514
        expected = {(r["code"], r["name"]) for r in history if r["decree_year"] == year}
        assert {(r["kode"], r["nama"]) for r in rows} == expected
    codes_2018 = {r["kode"] for r in _csv(root / "kemendagri" / "riwayat" / "kepmendagri_2018.csv")}
    assert {"92.01", "91.01"} <= codes_2018 and "96.01" not in codes_2018


def test_bps_population_uses_bps_codes(demo):
    root, _ = demo
    rows = _csv(root / "bps" / "jumlah_penduduk_bps_2024.csv")
    assert list(rows[0]) == ["bps_code", "name", "year", "population"]
    by_code = {r["bps_code"]: int(r["population"]) for r in rows}
    assert len(by_code) == 515 and "9999" in by_code  # 514 kab/kota and the API's aggregate
    assert by_code["9999"] == sum(v for k, v in by_code.items() if k != "9999")
    residents = {
        r["KODE_WILAYAH"]: int(r["JUMLAH_PENDUDUK"])
        for r in _csv(root / "dukcapil" / "penduduk_kabkota_2024_s2.csv", ";")
    }
    # BPS 6403 is Kutai Kartanegara, Kemendagri 64.02 (BPS 6402 is Kutai Barat, 64.07)
    assert by_code["6403"] == pytest.approx(residents["64.02"], rel=0.06)
    assert by_code["6402"] == pytest.approx(residents["64.07"], rel=0.06)


def test_residents_by_age_add_up_to_dukcapil(demo):
    root, _ = demo
    for path in sorted((root / "dukcapil").glob("penduduk_kelompok_umur_*.csv")):
        totals = {
            r["KODE_WILAYAH"]: (int(r["LAKI_LAKI"]), int(r["PEREMPUAN"]))
            for r in _csv(root / "dukcapil" / path.name.replace("kelompok_umur", "kabkota"), ";")
        }
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        rows = _csv(path, ";")
        assert len(rows) == 514 * 6
        for r in rows:
            assert int(r["LAKI_LAKI"]) + int(r["PEREMPUAN"]) == int(r["JUMLAH"])
            sums[r["KODE_WILAYAH"]][0] += int(r["LAKI_LAKI"])
            sums[r["KODE_WILAYAH"]][1] += int(r["PEREMPUAN"])
        assert {k: tuple(v) for k, v in sums.items()} == totals, path.name


def test_participants_by_age_add_up_to_the_segments(demo):
    root, _ = demo
    districts = build_model()
    for d in districts[::50]:
        for m in range(48):
            cells = participants_by_age(d, m)
            assert sum(a + b for a, b in cells) == sum(a + n for a, n in d.segments[m])
    rows = _csv(root / "bpjs_demografi" / "peserta_jkn_jenis_kelamin_umur_2023_s1.csv")
    assert len(rows) == 514 * 6 * 6
    merauke = [r for r in rows if r["BULAN"] == "2023-03" and r["KODE_KAB_KOTA"] == "93.01"]
    assert len(merauke) == 6
    by_code = {d.region.code: d for d in districts}
    assert sum(int(r["JUMLAH"]) for r in merauke) == sum(
        a + n for a, n in by_code["93.01"].segments[14]
    )


def test_papua_reported_under_old_codes_in_2022(demo):
    root, _ = demo
    rows_2022 = _csv(root / "bpjs_demografi" / "peserta_jkn_jenis_kelamin_umur_2022_s2.csv")
    codes = {r["KODE_KAB_KOTA"] for r in rows_2022}
    assert {"91.01", "92.01"} <= codes and not {"93.01", "96.01"} & codes
    assert len(codes) == 514
    rows_2023 = _csv(root / "bpjs_demografi" / "peserta_jkn_jenis_kelamin_umur_2023_s1.csv")
    codes = {r["KODE_KAB_KOTA"] for r in rows_2023}
    assert {"93.01", "96.01"} <= codes and not {"91.01", "92.01"} & codes


def test_prisoner_workbooks(demo):
    root, _ = demo
    paths = sorted((root / "pemasyarakatan").glob("rekap_wbp_jkn_*.xlsx"))
    assert [p.name for p in paths] == [
        "rekap_wbp_jkn_2024_s1.xlsx",
        "rekap_wbp_jkn_2024_s2.xlsx",
        "rekap_wbp_jkn_2025_s1.xlsx",
        "rekap_wbp_jkn_2025_s2.xlsx",
    ]
    rows = CalamineWorkbook.from_path(str(paths[0])).get_sheet_by_name("WBP JKN").to_python()
    assert rows[1][0] == "Keadaan per 30 Juni 2024"
    assert rows[3][2:] == [
        "Nama UPT",
        "Kab/Kota Domisili WBP",
        "Jumlah WBP",
        "Diusulkan ke Pemda",
        "Terdaftar JKN",
    ]
    data, total = rows[4:-1], rows[-1]
    grogot = {r[3]: r[5] for r in data if r[2] == "Rutan Kelas IIB Tanah Grogot"}
    assert grogot == {"Kab. Paser": 338, "Kab. Penajam Paser Utara": 254}
    for r in data:
        assert 0 <= r[6] <= r[5] <= r[4], r
    assert total[2] == "JUMLAH" and total[4] == sum(r[4] for r in data)


def test_dtsen_deciles(demo):
    root, _ = demo
    paths = sorted((root / "dtsen").glob("*.csv"))
    assert [p.name for p in paths] == [
        "dtsen_desil_kabkota_2025-06.csv",
        "dtsen_desil_kabkota_2025-12.csv",
    ]
    rows = _csv(paths[0])
    assert len(rows) == 514 * 10
    for r in rows:
        assert 0 <= int(r["peserta_pbi"]) <= int(r["jumlah_individu"])
    poor = [r for r in rows if int(r["desil"]) <= 4]
    rate = sum(int(r["peserta_pbi"]) for r in poor) / sum(int(r["jumlah_individu"]) for r in poor)
    assert 0.6 < rate < 0.95


def test_every_extra_file_extracts_with_its_contract(demo):
    root, paths = demo
    contracts = load_contracts()
    expected = {
        "kemendagri_region_history": 4,
        "bps_population": 4,
        "dukcapil_residents_by_age": 8,
        "bpjs_participants_by_age": 8,
        "pemasyarakatan_wbp_jkn": 4,
        "dtsen_desil": 2,
    }
    seen: dict[str, int] = defaultdict(int)
    for path in paths[58:]:
        contract = match_contract(path, contracts, sources_dir=root)
        seen[contract.name] += 1
        extraction = extract_file(path, contract)  # its rows: tests/integration/test_acceptance.py
        extraction.close()
        assert extraction.sheet_results[0].missing == [], path.name
    assert dict(seen) == expected
    # the core files still match only their own contracts
    for path in paths[:58]:
        assert match_contract(path, contracts, sources_dir=root).name not in expected
