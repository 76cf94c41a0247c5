"""Extraction of real-looking generated workbooks and CSVs with the packaged contracts: headers,
columns and periods (no database). Their rows are accepted in the warehouse: the same files
are checked row by row in tests/integration/test_acceptance.py."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from bad_inputs.build import (
    SEGMENTS_2024,
    bpjs_sample_rows,
    mini_resolver,
    write_bpjs_workbook,
    write_csv,
    write_pekalongan_workbook,
)
from cakupan.sources.contracts import load_contracts, parse_contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import extract_file, value_parser


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


def test_bpjs_membership_workbook(tmp_path, contracts):
    path = write_bpjs_workbook(tmp_path / "rekap_peserta_jkn_2022_05.xlsx", bpjs_sample_rows())
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


@pytest.mark.parametrize("period_text", ["Posisi : 31 Mei 2022", "Posisi: Mei-22"])
def test_bpjs_relabelled_text_numbers(tmp_path, contracts, period_text):
    rows = bpjs_sample_rows()
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


def test_pekalongan_branch_table(tmp_path, contracts):
    path = write_pekalongan_workbook(tmp_path / "pekalongan_2023_03.xlsx")
    contract = contracts["bpjs_branch_pekalongan"]
    extraction = extract_file(path, contract)
    assert extraction.period == dt.date(2023, 3, 1)
    sheet = extraction.sheet_results[0]
    assert sheet.header_row == 4 and sheet.unmatched == []
    assert sheet.columns["active_pct_published"] == (6, "% Aktif")
    assert sheet.columns["participants_active"] == (3, "Peserta Aktif")


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
    assert extraction.path == tmp_path / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv"
    assert extraction.sheet_results[0].columns == {"code": (0, "kode"), "name": (1, "nama")}


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


def test_faults_come_before_any_row(tmp_path, contracts):
    path = write_bpjs_workbook(
        tmp_path / "rekap_peserta_jkn_2022_05.xlsx",
        bpjs_sample_rows(),
        period_text="Periode tidak tertulis",
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
