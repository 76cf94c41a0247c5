"""The deterministic demo generator (docs/DEMO_SOURCES.md)."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest
from cakupan.demo.generate import generate
from python_calamine import CalamineWorkbook

REFERENCE = Path(__file__).resolve().parents[2] / "include" / "cakupan" / "reference"
SHEET = "Rekap Kab-Kota"
COL_NAME, COL_FIRST_SEGMENT, COL_PARTICIPANTS, COL_RESIDENTS, COL_COVERAGE = 2, 3, 15, 16, 17


def _number(value) -> float:
    """A cell as a number: numeric, or Indonesian text (`316.933`, `86,76%`)."""
    if isinstance(value, str):
        value = value.replace(".", "").replace("%", "").replace(" ", "").replace(",", ".")
    return float(value)


def _sheet(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET).to_python()


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _residents(root: Path, year: int, semester: int) -> dict[str, int]:
    path = root / "dukcapil" / f"penduduk_kabkota_{year}_s{semester}.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {
            r["KODE_WILAYAH"]: int(r["JUMLAH_PENDUDUK"]) for r in csv.DictReader(f, delimiter=";")
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    paths = generate(out, progress=lines.append)
    assert lines, "progress lines expected"
    return out, paths


def _workbook(root: Path, year: int, month: int) -> list[list]:
    return _sheet(root / "bpjs" / f"rekap_peserta_jkn_{year}_{month:02d}.xlsx")


def _row(rows: list[list], name: str) -> list:
    hits = [r for r in rows[6:-1] if re.sub(r"\s+", " ", r[COL_NAME]).lower() == name.lower()]
    assert len(hits) == 1, (name, hits)
    return hits[0]


def test_file_counts(demo):
    root, paths = demo
    assert all(p.is_file() for p in paths)
    assert len(list((root / "bpjs").glob("rekap_peserta_jkn_*.xlsx"))) == 48
    assert len(list((root / "dukcapil").glob("penduduk_kabkota_*_s*.csv"))) == 8
    assert (root / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv").is_file()
    assert (root / "bps" / "bridge_kode_bps_kemendagri_2020.csv").is_file()
    assert len(paths) == 48 + 8 + 2
    assert sum(p.stat().st_size for p in paths) < 8 * 1024 * 1024


def test_deterministic(demo, tmp_path):
    root, _ = demo
    generate(tmp_path / "again")
    assert _digest(tmp_path / "again") == _digest(root)


def test_a_window_writes_the_same_bytes(demo, tmp_path):
    root, _ = demo
    paths = generate(tmp_path / "window", start="2023-03", end="2023-03")
    assert len(paths) == 2 + 1 + 1
    full = _digest(root)
    for name, digest in _digest(tmp_path / "window").items():
        assert full[name] == digest, name


def test_palangka_raya_may_2022(demo):
    root, _ = demo
    rows = _workbook(root, 2022, 5)
    assert rows[1][0] == "Posisi: Mei 2022"
    row = _row(rows, "Kota Palangka Raya")
    assert _number(row[COL_PARTICIPANTS]) == 281_230
    assert _number(row[COL_RESIDENTS]) == 293_010
    assert _number(row[COL_COVERAGE]) == pytest.approx(95.98)
    active = sum(_number(row[c]) for c in range(COL_FIRST_SEGMENT, COL_PARTICIPANTS, 2))
    assert active / 281_230 >= 0.75
    assert _residents(root, 2022, 1)["62.71"] == 293_010


@pytest.mark.parametrize(
    "name, code, residents, participants, active, non_active, coverage",
    [
        ("Kota Pekalongan", "33.75", 316_933, 274_974, 230_665, 44_309, "86,76%"),
        ("Kab. Batang", "33.25", 828_576, 726_521, 550_747, 175_774, "87, 86"),
        ("Kab. Pekalongan", "33.26", 1_000_810, 842_070, 695_856, 145_224, "84,14%"),
    ],
)
def test_pekalongan_branch_march_2023(
    demo, name, code, residents, participants, active, non_active, coverage
):
    root, _ = demo
    row = _row(_workbook(root, 2023, 3), name)
    assert row[COL_PARTICIPANTS] == f"{participants:,}".replace(",", ".")  # text month
    assert _number(row[COL_PARTICIPANTS]) == participants
    assert _number(row[COL_RESIDENTS]) == residents
    segments = [_number(v) for v in row[COL_FIRST_SEGMENT:COL_PARTICIPANTS]]
    assert sum(segments[0::2]) == active
    assert sum(segments[1::2]) == non_active
    assert row[COL_COVERAGE] == coverage
    assert _residents(root, 2023, 1)[code] == residents


def test_workbook_layout_and_totals(demo):
    root, _ = demo
    for path in sorted((root / "bpjs").glob("*.xlsx")):
        rows = _sheet(path)
        assert rows[0][0] == "REKAPITULASI PESERTA JKN PER KABUPATEN/KOTA"
        assert rows[1][0].startswith("Posisi")
        assert rows[4][:3] == ["No", "Provinsi", "Kabupaten/Kota"]
        assert rows[5][3:5] == ["Aktif", "Non Aktif"]
        year = int(path.stem.split("_")[-2])
        assert rows[4][3] == ("PBI JK" if year >= 2024 else "PBI APBN")
        assert rows[4][9] == ("PPU Swasta" if year >= 2024 else "PPU Badan Usaha")
        data, total = rows[6:-1], rows[-1]
        assert len(data) == 514, path.name
        assert total[1] == "" and total[2] in ("JUMLAH", "TOTAL NASIONAL")
        for col in range(COL_FIRST_SEGMENT, COL_RESIDENTS + 1):
            assert _number(total[col]) == sum(_number(r[col]) for r in data), (path.name, col)
        for r in data:
            assert re.match(r"(?i)^(kab\.|kota) ", r[COL_NAME]), r[COL_NAME]
            segments = sum(_number(v) for v in r[COL_FIRST_SEGMENT:COL_PARTICIPANTS])
            extra = _number(r[COL_PARTICIPANTS]) - segments
            assert extra == 0 or (path.stem.endswith("2023_03") and extra == 990), r


def _normalise(text: str) -> str:
    s = re.sub(r"\s+", " ", text.lower().replace(".", " ").replace(",", " ")).strip()
    s = re.sub(r"^(kab|kota) ", "", s)
    s = re.sub(r"\b(?:[a-z] ){2,}[a-z]\b", lambda m: m.group(0).replace(" ", ""), s)
    return re.sub(r"\s+", " ", s).strip()


def test_names_resolve_through_the_reference(demo):
    root, _ = demo
    with (REFERENCE / "regions.csv").open(encoding="utf-8") as f:
        regions = [r for r in csv.DictReader(f) if r["level"] == "district"]
    with (REFERENCE / "region_aliases.csv").open(encoding="utf-8") as f:
        aliases = {r["alias"]: r["code"] for r in csv.DictReader(f)}
    by_name = {(_normalise(r["name"]), r["district_type"]): r["code"] for r in regions}
    seen = set()
    for month in (1, 2, 7):
        for r in _workbook(root, 2022, month)[6:-1]:
            kind = "kota" if r[COL_NAME].lower().startswith("kota") else "kabupaten"
            key = _normalise(r[COL_NAME])
            code = by_name.get((key, kind)) or aliases.get(key)
            assert code is not None, r[COL_NAME]
            seen.add(r[COL_NAME])
    assert {"Kota Palangkaraya", "Kota Palangka Raya", "Kab. Mahakam Hulu"} <= seen


def test_national_shape(demo):
    root, _ = demo

    def national(year: int, month: int, semester: int) -> tuple[float, list[float]]:
        rows = _workbook(root, year, month)[6:-1]
        residents = _residents(root, year, semester)
        participants = sum(_number(r[COL_PARTICIPANTS]) for r in rows)
        coverages = [_number(r[COL_PARTICIPANTS]) / _number(r[COL_RESIDENTS]) for r in rows]
        return 100 * participants / sum(residents.values()), coverages

    jan22, cov_jan22 = national(2022, 1, 1)
    dec23, _ = national(2023, 12, 2)
    dec25, cov_dec25 = national(2025, 12, 2)
    assert 84 <= jan22 <= 88
    assert 95.0 <= dec23 <= 96.5
    assert 97 <= dec25 <= 99
    assert sum(c < 0.90 for c in cov_jan22) >= 10
    assert sum(c < 0.95 for c in cov_dec25) < 100


def test_smooth_and_mostly_75_85_active(demo):
    root, _ = demo
    series: dict[int, list[float]] = {}
    for path in sorted((root / "bpjs").glob("*.xlsx")):
        rows = _sheet(path)[6:-1]
        in_band = 0
        for i, r in enumerate(rows):
            series.setdefault(i, []).append(_number(r[COL_PARTICIPANTS]))
            segments = [_number(v) for v in r[COL_FIRST_SEGMENT:COL_PARTICIPANTS]]
            in_band += 0.75 <= sum(segments[0::2]) / sum(segments) <= 0.85
        assert in_band >= 0.8 * len(rows), path.name
    january_2024_steps = 0
    for values in series.values():
        assert len(values) == 48
        steps = [abs(b / a - 1) for a, b in zip(values[:-1], values[1:], strict=True)]
        # smooth, except a few enrolment drives in January 2024 (index 23: Dec 2023 -> Jan 2024)
        assert max(steps[:23] + steps[24:]) < 0.035
        assert steps[23] < 0.06
        january_2024_steps += steps[23] > 0.02
    assert january_2024_steps <= 30


def test_residents_files(demo):
    root, _ = demo
    for path in sorted((root / "dukcapil").glob("*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        assert list(rows[0]) == [
            "KODE_WILAYAH", "NAMA_WILAYAH", "LAKI_LAKI", "PEREMPUAN", "JUMLAH_PENDUDUK",
        ]  # fmt: skip
        assert len(rows) == 514
        for r in rows:
            assert int(r["LAKI_LAKI"]) + int(r["PEREMPUAN"]) == int(r["JUMLAH_PENDUDUK"])
            assert re.fullmatch(r"\d\d\.\d\d", r["KODE_WILAYAH"])


def test_reference_files(demo):
    root, _ = demo
    with (root / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv").open(encoding="utf-8") as f:
        decree = {r["kode"]: r["nama"] for r in csv.DictReader(f)}
    assert len(decree) == 552
    assert decree["64.02"] == "Kabupaten Kutai Kartanegara"
    assert decree["62.71"] == "Kota Palangkaraya"
    with (root / "bps" / "bridge_kode_bps_kemendagri_2020.csv").open(encoding="utf-8") as f:
        bridge = {r["kode_bps"]: r for r in csv.DictReader(f)}
    assert len(bridge) == 514
    assert bridge["6403"]["kode_dagri"] == "6402"
    assert bridge["9107"]["kode_dagri"] == "9201"  # Kabupaten Sorong before the Papua split


def test_a_longer_history_before_2022(tmp_path):
    """`start` back to 2014 (the bench's history): earlier months from their own generators, the
    kab/kota as the decree of the time lists them; the 2022 files keep their bytes."""
    from cakupan.parsing.regions import RegionResolver

    generate(tmp_path, start="2014-01", end="2022-01")
    assert len(list((tmp_path / "bpjs").glob("*.xlsx"))) == 97
    assert len(list((tmp_path / "dukcapil").glob("penduduk_kabkota_*.csv"))) == 17
    again = generate(tmp_path / "again", start="2016-07", end="2016-07")
    assert len(again) == 2 + 1 + 1
    generate(tmp_path / "w2022", start="2022-01", end="2022-01")  # the demo's first month
    full = _digest(tmp_path)
    for window in ("again", "w2022"):
        for name, digest in _digest(tmp_path / window).items():
            assert full[name] == digest, (window, name)

    residents = _residents(tmp_path, 2016, 1)
    assert "91.01" in residents and "93.01" not in residents  # Merauke before the Papua split
    assert len(residents) == 514
    assert residents["11.01"] < _residents(tmp_path, 2022, 1)["11.01"]  # fewer residents then
    resolver = RegionResolver.default()
    rows = _workbook(tmp_path, 2014, 1)[6:-1]
    codes = {resolver.resolve_name(r[COL_NAME], r[1]).code for r in rows}
    assert len(rows) == len(codes) == 514 and None not in codes
    names = {r[COL_NAME] for r in rows}
    assert "KAB. MERAUKE" in names and "KAB. TOBA SAMOSIR" in names
    coverage_2014 = sum(_number(r[COL_PARTICIPANTS]) for r in rows) / sum(
        _number(r[COL_RESIDENTS]) for r in rows
    )
    assert 0.4 < coverage_2014 < 0.75
    with pytest.raises(ValueError, match="outside 2014-01"):
        generate(tmp_path / "too_early", start="2013-12", end="2014-01")
