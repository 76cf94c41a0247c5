"""Extraction of real-looking generated workbooks and CSVs with the packaged contracts."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from bad_inputs.build import (
    SEGMENTS_2024,
    bpjs_row,
    mini_resolver,
    write_bpjs_workbook,
    write_csv,
    write_pekalongan_workbook,
    write_simple_xlsx,
)
from cakupan.sources.contracts import load_contracts, parse_contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import ExtractedRow, RejectedRow, extract_file, value_parser


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


def _rows():
    return [
        bpjs_row(
            "Kab. Bogor",
            "Jawa Barat",
            [(1000, 100), (200, 20), (300, 30), (400, 40), (500, 50), (60, 6)],
            residents=3000,
        ),
        bpjs_row("KOTA  BOGOR", "Jawa Barat", [(10, 1)] * 6, residents=80),
        bpjs_row(
            "Kota Palangka Raya",
            "Kalimantan Tengah",
            [
                (100000, 10000),
                (50000, 5000),
                (40000, 4000),
                (30000, 3000),
                (20000, 2000),
                (15000, 2230),
            ],
            total=281230,
            residents=293010,
            coverage=95.98,
        ),
        bpjs_row(
            "Kab. Pekalongan",
            "Jawa Tengah",
            [
                (600000, 100000),
                (50000, 20000),
                (20000, 10000),
                (10000, 10000),
                (10000, 4000),
                (5856, 1224),
            ],
            total=842070,
            residents=1000810,
        ),
    ]


def test_bpjs_membership_workbook(tmp_path, contracts):
    path = write_bpjs_workbook(tmp_path / "rekap_peserta_jkn_2022_05.xlsx", _rows())
    extraction = extract_file(path, contracts["bpjs_membership"])
    assert extraction.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert extraction.period == dt.date(2022, 5, 1)
    assert extraction.period_source == "cell A2 of sheet 'Rekap Kab-Kota' 'Posisi: Mei 2022'"
    [sheet] = extraction.sheet_results
    assert (sheet.sheet, sheet.header_row, sheet.header_rows, sheet.data_start_row) == (
        "Rekap Kab-Kota",
        5,
        2,
        7,
    )
    assert sheet.columns["region_name"] == (2, "Kabupaten/Kota")
    assert sheet.columns["pbi_apbn_inactive"] == (4, "PBI APBN / Non Aktif")
    assert sheet.columns["coverage_pct_published"] == (17, "Cakupan (%)")
    assert sheet.column_letters["participants_total"] == "P"
    assert sheet.unmatched == ["No"] and sheet.missing == []
    assert extraction.rows_read == 0  # nothing read before rows() is iterated

    rows = list(extraction.rows())
    assert all(isinstance(r, ExtractedRow) for r in rows)
    assert [r.source_row for r in rows] == [7, 8, 9, 10]
    assert [r.region_code for r in rows] == ["32.01", "32.71", "62.71", "33.26"]
    first = rows[0]
    assert first.sheet == "Rekap Kab-Kota" and first.period == dt.date(2022, 5, 1)
    assert first.values["pbi_apbn_active"] == 1000 and type(first.values["bp_inactive"]) is int
    assert first.values["participants_total"] == 2706
    assert first.values["province_name"] == "Jawa Barat"
    assert first.source_values["Kabupaten/Kota"] == "Kab. Bogor"
    assert first.source_values["PBI APBN / Aktif"] == "1000"
    palangka = rows[2]
    assert palangka.values["participants_total"] == 281230
    assert palangka.values["residents_published"] == 293010
    assert palangka.values["coverage_pct_published"] == Decimal("95.98")
    assert set(palangka.values) == set(contracts["bpjs_membership"].fields)
    # 4 title rows above the header and the JUMLAH row
    assert extraction.counts() == {
        "rows_read": 4,
        "rows_accepted": 4,
        "rows_rejected": 0,
        "rows_skipped": 5,
    }
    assert (sheet.rows_read, sheet.rows_skipped) == (4, 5)
    with pytest.raises(RuntimeError):
        extraction.rows()


@pytest.mark.parametrize("period_text", ["Posisi : 31 Mei 2022", "Posisi: Mei-22"])
def test_bpjs_relabelled_text_numbers(tmp_path, contracts, period_text):
    rows = _rows()
    rows[2]["coverage"] = "95,98%"
    path = write_bpjs_workbook(
        tmp_path / "rekap_peserta_jkn_2024_03.xlsx",
        rows,
        labels=SEGMENTS_2024,
        text_numbers=True,
        period_text=period_text,
        total_label="TOTAL NASIONAL",
    )
    extraction = extract_file(path, contracts["bpjs_membership"])
    assert extraction.period == dt.date(2022, 5, 1)
    sheet = extraction.sheet_results[0]
    assert sheet.columns["pbi_apbn_active"][1] == "PBI JK / Aktif"
    assert sheet.columns["pbpu_inactive"][1] == "PBPU / Mandiri / Non Aktif"
    assert sheet.columns["bp_active"][1] == "Bukan Pekerja / Aktif"
    rows_out = list(extraction.rows())
    palangka = rows_out[2]
    assert palangka.source_values["Jumlah Peserta"] == "281.230"
    assert palangka.values["participants_total"] == 281230
    assert palangka.values["coverage_pct_published"] == Decimal("95.98")
    assert extraction.rows_accepted == 4 and extraction.rows_skipped == 5


def test_pekalongan_branch_table(tmp_path, contracts):
    path = write_pekalongan_workbook(tmp_path / "pekalongan_2023_03.xlsx")
    contract = contracts["bpjs_branch_pekalongan"]
    extraction = extract_file(path, contract)
    assert extraction.period == dt.date(2023, 3, 1)
    sheet = extraction.sheet_results[0]
    assert sheet.header_row == 4 and sheet.unmatched == []
    assert sheet.columns["active_pct_published"] == (6, "% Aktif")
    assert sheet.columns["participants_active"] == (3, "Peserta Aktif")
    rows = {r.region_code: r for r in extraction.rows()}
    assert set(rows) == {"33.75", "33.25", "33.26"}
    kota = rows["33.75"].values
    assert (
        kota["residents_published"],
        kota["participants_total"],
        kota["participants_active"],
        kota["participants_inactive"],
    ) == (316933, 274974, 230665, 44309)
    assert kota["coverage_pct_published"] == Decimal("86.76")
    batang = rows["33.25"].values
    assert (
        batang["residents_published"],
        batang["participants_total"],
        batang["participants_active"],
        batang["participants_inactive"],
    ) == (828576, 726521, 550747, 175774)
    assert batang["coverage_pct_published"] == Decimal("87.86")  # published "87, 86"
    assert rows["33.25"].source_values["% Cakupan"] == "87, 86"
    kab = rows["33.26"].values
    assert (kab["residents_published"], kab["participants_total"]) == (1000810, 842070)
    assert (
        kab["participants_total"] - kab["participants_active"] - kab["participants_inactive"] == 990
    )
    assert extraction.counts() == {
        "rows_read": 3,
        "rows_accepted": 3,
        "rows_rejected": 0,
        "rows_skipped": 4,
    }


def test_dukcapil_csv_semester_from_file_name(tmp_path, contracts):
    path = write_csv(
        tmp_path / "penduduk_kabkota_2023_s2.csv",
        [
            "KODE_WILAYAH;NAMA_WILAYAH;LAKI_LAKI;PEREMPUAN;JUMLAH_PENDUDUK",
            "33;JAWA TENGAH;18000000;18000000;36000000",
            "33.75;KOTA PEKALONGAN;158000;158933;316933",
            "33.25;KAB. BATANG;414000;414576;828576",
        ],
        bom=True,
    )
    extraction = extract_file(path, contracts["dukcapil_residents"])
    assert extraction.period == dt.date(2023, 7, 1)
    assert extraction.encoding == "utf-8-sig" and extraction.delimiter == ";"
    rows = list(extraction.rows())
    assert [(r.source_row, r.sheet, r.region_code, r.values["residents"]) for r in rows] == [
        (2, None, "33", 36000000),
        (3, None, "33.75", 316933),
        (4, None, "33.25", 828576),
    ]
    assert rows[1].values == {
        "code": "33.75",
        "name": "KOTA PEKALONGAN",
        "male": 158000,
        "female": 158933,
        "residents": 316933,
    }
    assert rows[1].source_values["JUMLAH_PENDUDUK"] == "316933"


def test_kemendagri_and_bridge_csvs(tmp_path, contracts):
    regions = write_csv(
        tmp_path / "kode_wilayah_kepmendagri_2025.csv",
        [
            "kode,nama",
            "64,Kalimantan Timur",
            "64.02,Kabupaten Kutai Kartanegara",
            "62.71,Kota Palangkaraya",
        ],
    )
    rows = list(extract_file(regions, contracts["kemendagri_regions"]).rows())
    assert [r.region_code for r in rows] == ["64", "64.02", "62.71"]
    assert all(r.period is None for r in rows)

    bridge = write_csv(
        tmp_path / "bridge_kode_bps_kemendagri_2020.csv",
        [
            "kode_bps,nama_bps,kode_dagri,nama_dagri",
            "6403,KUTAI KARTANEGARA,6402,KAB. KUTAI KARTANEGARA",
            "9107,SORONG,9201,KAB. SORONG",
            "9107,SORONG,9201,KAB. SORONG",
        ],
    )
    extraction = extract_file(bridge, contracts["bps_region_bridge"])
    rows = list(extraction.rows())
    assert rows[0].region_code == "64.02"  # never 64.03
    assert rows[1].region_code == "96.01"  # the pre-2022 Papua code, mapped
    assert isinstance(rows[2], RejectedRow) and rows[2].reason == "duplicate of row 3"
    assert any("92.01" in note and "96.01" in note for note in extraction.notes)


def test_relative_path_and_sources_dir(tmp_path, contracts):
    (tmp_path / "kemendagri").mkdir()
    write_csv(
        tmp_path / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv",
        ["kode,nama", "32.01,Kabupaten Bogor"],
    )
    extraction = extract_file(
        "kemendagri/kode_wilayah_kepmendagri_2025.csv",
        contracts["kemendagri_regions"],
        sources_dir=tmp_path,
    )
    assert [r.region_code for r in extraction.rows()] == ["32.01"]


def test_offset_table_and_multiple_sheets(tmp_path):
    import xlsxwriter

    path = tmp_path / "multi.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, rows in [
        ("Jan", [("Kab. Bogor", 1), ("Kota Bogor", 2)]),
        ("Feb", [("Kab. Bogor", 3)]),
        ("Notes", []),
    ]:
        ws = book.add_worksheet(name)
        if name == "Notes":
            ws.write("A1", "nothing here")
            continue
        ws.write("C2", f"Bulan: {name} 2024")
        ws.write_row("C4", ["Wilayah", "Jumlah"])
        for i, row in enumerate(rows):
            ws.write_row(4 + i, 2, list(row))
    book.close()
    contract = parse_contract(
        {
            "name": "multi",
            "kind": "xlsx",
            "path": "*.xlsx",
            "sheets": ["Jan", "Feb"],
            "raw_table": "raw.multi",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer", "required": True},
            },
            "period": {"from": "cell", "cell": "C2"},
            "region": {"field": "region_name", "system": "name"},
        }
    )
    extraction = extract_file(path, contract, resolver=mini_resolver())
    assert [(s.sheet, s.header_row, s.period) for s in extraction.sheet_results] == [
        ("Jan", 4, dt.date(2024, 1, 1)),
        ("Feb", 4, dt.date(2024, 2, 1)),
    ]
    assert extraction.sheet_results[0].column_letters == {"region_name": "C", "n": "D"}
    assert extraction.period is None and extraction.periods == [
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
    ]
    rows = list(extraction.rows())
    assert [(r.sheet, r.source_row, r.period, r.region_code) for r in rows] == [
        ("Jan", 5, dt.date(2024, 1, 1), "32.01"),
        ("Jan", 6, dt.date(2024, 1, 1), "32.71"),
        ("Feb", 5, dt.date(2024, 2, 1), "32.01"),
    ]
    assert extraction.rows_skipped == 6  # three rows above each header


def test_duplicates_across_sheets_name_the_sheet(tmp_path):
    path = tmp_path / "dups.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name in ("A", "B"):
        ws = book.add_worksheet(name)
        ws.write_row(0, 0, ["Wilayah", "Jumlah"])
        ws.write_row(1, 0, ["Kab. Bogor", 1])
    book.close()
    contract = parse_contract(
        {
            "name": "dups",
            "kind": "xlsx",
            "path": "*.xlsx",
            "sheets": ["*"],
            "raw_table": "raw.dups",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
            },
            "region": {"field": "region_name", "system": "name"},
        }
    )
    rows = list(extract_file(path, contract, resolver=mini_resolver()).rows())
    assert isinstance(rows[1], RejectedRow)
    assert (rows[1].sheet, rows[1].source_row, rows[1].reason) == (
        "B",
        2,
        "duplicate of row 2 in sheet 'A'",
    )


def test_key_fields_make_rows_unique(tmp_path):
    path = write_csv(
        tmp_path / "k.csv",
        ["Wilayah;Umur;Jumlah", "Kab. Bogor;0-4;10", "Kab. Bogor;5-9;20", "Kab. Bogor;0-4;30"],
    )
    contract = parse_contract(
        {
            "name": "k",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.k",
            "key": ["age"],
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "age": {"aliases": ["Umur"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
            },
            "region": {"field": "region_name", "system": "name"},
        }
    )
    extraction = extract_file(path, contract, resolver=mini_resolver())
    reasons = [getattr(r, "reason", None) for r in extraction.rows()]
    assert reasons == [None, None, "duplicate of row 2"]
    assert extraction.counts() == {
        "rows_read": 3,
        "rows_accepted": 2,
        "rows_rejected": 1,
        "rows_skipped": 0,
    }


def test_short_rows_and_extra_cells_are_kept(tmp_path):
    path = write_csv(tmp_path / "s.csv", ["Wilayah;Jumlah;", "Kab. Bogor", "Kota Bogor;5;x;y"])
    contract = parse_contract(
        {
            "name": "s",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.s",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
            },
            "region": {"field": "region_name", "system": "name"},
            "delimiter": ";",
        }
    )
    rows = list(extract_file(path, contract, resolver=mini_resolver()).rows())
    assert rows[0].values == {"region_name": "Kab. Bogor", "n": None}
    assert rows[1].source_values == {"Wilayah": "Kota Bogor", "Jumlah": "5", "C": "x", "D": "y"}


def test_faults_come_before_any_row(tmp_path, contracts):
    path = write_bpjs_workbook(
        tmp_path / "rekap_peserta_jkn_2022_05.xlsx", _rows(), period_text="Periode tidak tertulis"
    )
    with pytest.raises(SourceFileError) as info:
        extract_file(path, contracts["bpjs_membership"])
    assert info.value.fault.startswith("no period: no cell above the header")
    with pytest.raises(SourceFileError, match="is a bps_api source"):
        extract_file(
            path,
            parse_contract(
                {"name": "a", "kind": "bps_api", "url": "http://x", "raw_table": "raw.a"}
            ),
        )
    with pytest.raises(SourceFileError, match="no such file"):
        extract_file(tmp_path / "missing.xlsx", contracts["bpjs_membership"])


def test_value_parsers_fast_paths():
    integer = value_parser("integer")
    assert [integer(v) for v in ("12", 12.0, 12, "", "1.234", "-")] == [
        12,
        12,
        12,
        None,
        1234,
        None,
    ]
    number = value_parser("number", decimal="point")
    assert number("1.5") == Decimal("1.5") and number(2.5) == Decimal("2.5")
    month = value_parser("month")
    assert month("Mei 2022") == dt.date(2022, 5, 1) and month("-") is None
    text = value_parser("text")
    assert [text(v) for v in (" a ", "", 1103.0, None)] == ["a", None, "1103", None]
    with pytest.raises(ValueError):
        value_parser("money")


def test_numeric_cells_typed_in_a_simple_sheet(tmp_path):
    path = write_simple_xlsx(
        tmp_path / "t.xlsx",
        [
            ["Wilayah", "Jumlah", "Persen", "Tanggal"],
            ["Kab. Bogor", 316933.0, 0.5, dt.datetime(2022, 5, 31)],
            ["Kota Bogor", True, 1, None],
        ],
    )
    contract = parse_contract(
        {
            "name": "t",
            "kind": "xlsx",
            "path": "*.xlsx",
            "raw_table": "raw.t",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
                "pct": {"aliases": ["Persen"], "type": "percent"},
                "day": {"aliases": ["Tanggal"], "type": "date"},
            },
            "region": {"field": "region_name", "system": "name"},
        }
    )
    rows = list(extract_file(path, contract, resolver=mini_resolver()).rows())
    assert rows[0].values == {
        "region_name": "Kab. Bogor",
        "n": 316933,
        "pct": Decimal("0.5"),
        "day": dt.date(2022, 5, 31),
    }
    assert isinstance(rows[1], RejectedRow)
    assert rows[1].reason == "Jumlah: not a number: True"


def test_a_large_csv_streams(tmp_path):
    lines = ["Wilayah;Jumlah;Bulan"]
    months = [f"20{y:02d}-{m:02d}" for y in range(10, 30) for m in range(1, 13)]
    lines += [
        f"{'Kab. Bogor' if i % 2 else 'Kota Bogor'};{i};{months[i // 2 % len(months)]}"
        for i in range(20000)
    ]
    path = write_csv(tmp_path / "big.csv", lines)
    contract = parse_contract(
        {
            "name": "big",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.big",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
                "month": {"aliases": ["Bulan"], "type": "month"},
            },
            "period": {"from": "column", "field": "month"},
            "region": {"field": "region_name", "system": "name"},
        }
    )
    extraction = extract_file(path, contract, resolver=mini_resolver())
    rows = extraction.rows()
    first = next(rows)
    assert first.source_row == 2 and extraction.rows_read == 0  # lazily, counted at the end
    rest = sum(1 for _ in rows)
    assert rest + 1 == 20000
    assert extraction.rows_read == 20000
    assert extraction.rows_rejected == 20000 - 2 * len(months)


def test_ods_two_row_header_without_merge_information(tmp_path):
    from bad_inputs.build import write_ods

    path = write_ods(
        tmp_path / "rekap.ods",
        [
            [],
            ["", "Posisi: Juni 2023"],
            [],
            ["", "Kabupaten/Kota", "PBI APBN", "", "Jumlah Peserta"],
            ["", "", "Aktif", "Non Aktif", ""],
            ["", "Kota Bogor", 10, 2, "1.234"],
            ["", "Jumlah", 10, 2, 1234],
        ],
    )
    contract = parse_contract(
        {
            "name": "ods",
            "kind": "ods",
            "path": "*.ods",
            "raw_table": "raw.ods",
            "header": {"rows": 2},
            "fields": {
                "region_name": {"aliases": ["Kabupaten/Kota"], "required": True},
                "active": {"aliases": ["PBI APBN / Aktif"], "type": "integer", "required": True},
                "inactive": {"aliases": ["PBI APBN / Non Aktif"], "type": "integer"},
                "total": {"aliases": ["Jumlah Peserta"], "type": "integer"},
            },
            "period": {"from": "cell", "pattern": r"posisi\s*:\s*(.+)"},
            "region": {"field": "region_name", "system": "name"},
            "skip_rows": [{"field": "region_name", "pattern": "^jumlah"}],
        }
    )
    extraction = extract_file(path, contract, resolver=mini_resolver())
    sheet = extraction.sheet_results[0]
    assert (sheet.header_row, sheet.column_letters["inactive"]) == (4, "D")
    assert extraction.period_source == "cell B2 of sheet 'Data' 'Posisi: Juni 2023'"
    [row] = list(extraction.rows())
    assert (row.source_row, row.region_code, row.period) == (6, "32.71", dt.date(2023, 6, 1))
    assert row.values == {"region_name": "Kota Bogor", "active": 10, "inactive": 2, "total": 1234}
    assert extraction.rows_skipped == 4
