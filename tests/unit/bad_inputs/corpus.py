"""The bad-input corpus: files a source contract must refuse or reject, each with its outcome.

Every case builds its file under a given folder (nothing is committed: the files are generated,
in well under a second each) and states exactly what must happen: a `Fault` (the whole file
is refused with `SourceFileError`, the fault text given), a `Reject` (the row is kept aside with
that sheet, row, column and reason) or `Accept` (the row loads, with these values).

Run `python tests/unit/bad_inputs/corpus.py OUT_DIR` to write every case's file for a look.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bad_inputs.build import (  # noqa: E402
    SEGMENTS_2022,
    bpjs_row,
    declare_huge_sizes,
    rewrite_zip,
    write_bpjs_workbook,
    write_csv,
    write_simple_xlsx,
)

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# A CSV layout: one row per kab/kota and month, Indonesian numbers, a total row.
CSV_CONTRACT: dict[str, Any] = {
    "name": "corpus_csv",
    "kind": "csv",
    "path": "*.csv",
    "raw_table": "raw.corpus_csv",
    "fields": {
        "region_name": {"aliases": ["Kabupaten/Kota"], "required": True},
        "participants": {"aliases": ["Jumlah Peserta"], "type": "integer", "required": True},
        "coverage": {"aliases": ["Cakupan (%)"], "type": "percent"},
        "month": {"aliases": ["Bulan"], "type": "month", "required": True},
        "remark": {"aliases": ["Keterangan"]},
    },
    "period": {"from": "column", "field": "month"},
    "region": {"field": "region_name", "system": "name"},
    "skip_rows": [{"field": "region_name", "pattern": "^(jumlah|total)"}],
}
HEADER = "Kabupaten/Kota;Jumlah Peserta;Cakupan (%);Bulan"

CODE_CONTRACT: dict[str, Any] = {
    "name": "corpus_codes",
    "kind": "csv",
    "path": "*.csv",
    "raw_table": "raw.corpus_codes",
    "fields": {"code": {"aliases": ["kode"], "required": True}, "name": {"aliases": ["nama"]}},
    "region": {"field": "code", "system": "kemendagri"},
}

SEGMENT_FIELDS = ["pbi_apbn", "pbi_apbd", "ppu_pn", "ppu_bu", "pbpu", "bp"]
XLSX_CONTRACT: dict[str, Any] = {
    "name": "corpus_xlsx",
    "kind": "xlsx",
    "path": "*.xlsx",
    "sheets": ["Rekap*"],
    "raw_table": "raw.corpus_xlsx",
    "header": {"rows": 2, "max_search_rows": 12},
    "fields": {
        "province_name": {"aliases": ["Provinsi"]},
        "region_name": {"aliases": ["Kabupaten/Kota"], "required": True},
        **{
            f"{seg}_{state}": {
                "aliases": [f"{label} / {text}"],
                "type": "integer",
                "required": True,
            }
            for seg, label in zip(SEGMENT_FIELDS, SEGMENTS_2022, strict=True)
            for state, text in (("active", "Aktif"), ("inactive", "Non Aktif"))
        },
        "participants_total": {"aliases": ["Jumlah Peserta"], "type": "integer", "required": True},
        "residents_published": {"aliases": ["Jumlah Penduduk"], "type": "integer"},
        "coverage_pct_published": {"aliases": ["Cakupan (%)"], "type": "percent"},
    },
    "period": {"from": "cell", "pattern": r"posisi\s*:?\s*(.+)"},
    "region": {"field": "region_name", "system": "name", "province_field": "province_name"},
    "skip_rows": [{"field": "region_name", "pattern": r"^\s*(jumlah|total)"}],
}


@dataclass
class Fault:
    text: str  # the fault, exactly; a regex when `pattern` is true
    pattern: bool = False

    def matches(self, fault: str) -> bool:
        return bool(re.fullmatch(self.text, fault)) if self.pattern else fault == self.text


@dataclass
class Reject:
    row: int
    column: str | None
    reason: str
    sheet: str | None = None


@dataclass
class Accept:
    row: int
    region_code: str | None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    id: str
    build: Callable[[Path], Path]
    contract: dict[str, Any]
    expect: list[Fault | Reject | Accept]
    counts: dict[str, int] | None = None  # rows_read/accepted/rejected/skipped when given


def _csv(name: str, *lines: str, **options: Any) -> Callable[[Path], Path]:
    return lambda folder: write_csv(folder / name, list(lines), **options)


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


SEG = [(100, 10)] * 6


def _bpjs(name: str, rows=None, **options: Any) -> Callable[[Path], Path]:
    rows = rows or [bpjs_row("Kab. Bogor", "Jawa Barat", SEG, residents=1500)]
    return lambda folder: write_bpjs_workbook(folder / name, rows, **options)


def _valid_xlsx(folder: Path, name: str) -> Path:
    return write_bpjs_workbook(folder / name, [bpjs_row("Kab. Bogor", "Jawa Barat", SEG)])


def _encrypted(folder: Path) -> Path:
    path = folder / "rekap_encrypted.xlsx"
    path.write_bytes(OLE_SIGNATURE + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le"))
    return path


def _corrupt_zip(folder: Path) -> Path:
    path = folder / "rekap_corrupt.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x14\x00" + b"\x00" * 200)
    return path


def _truncated(folder: Path) -> Path:
    path = _valid_xlsx(folder, "rekap_truncated.xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _zip_bomb(folder: Path) -> Path:
    return declare_huge_sizes(_valid_xlsx(folder, "rekap_bomb.xlsx"))


def _entities(folder: Path) -> Path:
    path = _valid_xlsx(folder, "rekap_entities.xlsx")
    import zipfile

    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    declaration, _, rest = sheet.partition(b"?>")
    doctype = (
        b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;">]>'
    )
    return rewrite_zip(path, {"xl/worksheets/sheet1.xml": declaration + b"?>" + doctype + rest})


def _too_many_cells(folder: Path) -> Path:
    rows = [["Kabupaten/Kota", "Jumlah Peserta", "Cakupan (%)", "Bulan"]]
    rows += [["Kab. Bogor", 1000 + i, 95.5, "Mei 2022"] for i in range(15)]
    return write_simple_xlsx(folder / "rekap_big.xlsx", rows, sheet="Rekap Data")


def _declared_huge(folder: Path) -> Path:
    """A small workbook whose sheet declares 2,000,000 x 26 cells: refused before loading."""
    import zipfile

    path = _valid_xlsx(folder, "rekap_declared.xlsx")
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    sheet = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:Z2000000"/>', sheet)
    return rewrite_zip(path, {"xl/worksheets/sheet1.xml": sheet})


def _empty_sheet(folder: Path) -> Path:
    import xlsxwriter

    path = folder / "rekap_empty.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Rekap Kab-Kota")
    book.close()
    return path


BAD_CONTRACT = dict(XLSX_CONTRACT)
CELL_LIMIT_CONTRACT = dict(CSV_CONTRACT, kind="xlsx", path="*.xlsx", limits={"max_cells": 50})
BPS_CONTRACT = dict(CODE_CONTRACT, region={"field": "code", "system": "bps"})
DECLARED_UTF8 = dict(CSV_CONTRACT, encoding="utf-8")
DUKCAPIL_LIKE = dict(
    CODE_CONTRACT,
    fields={
        "code": {"aliases": ["KODE_WILAYAH"], "required": True},
        "residents": {"aliases": ["JUMLAH_PENDUDUK"], "type": "integer"},
    },
    period={"from": "filename", "pattern": r"_(\d{4}_s[12])(?:\D|$)"},
)

REQUIRED_NAME = dict(
    CODE_CONTRACT,
    fields={
        "code": {"aliases": ["kode"], "required": True},
        "name": {"aliases": ["nama"], "required": True},
    },
)
ABOVE_500M = "a count cannot be above 500,000,000 (the field's max)"

BOGOR = "Kabupaten/Kota: ambiguous region name 'Bogor': 32.01 Kabupaten Bogor, 32.71 Kota Bogor"

CASES: list[Case] = [
    # --- numbers ------------------------------------------------------------------------
    Case(
        "number_not_a_number",
        _csv("n1.csv", HEADER, "Kab. Bogor;abc;95,5;Mei 2022"),
        CSV_CONTRACT,
        [Reject(2, "Jumlah Peserta", "Jumlah Peserta: not a number: 'abc'")],
        {"rows_read": 1, "rows_accepted": 0, "rows_rejected": 1, "rows_skipped": 0},
    ),
    Case(
        "number_fraction_in_integer",
        _csv("n2.csv", HEADER, "Kab. Bogor;316933,5;95,5;Mei 2022"),
        CSV_CONTRACT,
        [Reject(2, "Jumlah Peserta", "Jumlah Peserta: not an integer: '316933,5'")],
    ),
    Case(
        "number_bad_grouping",
        _csv("n3.csv", HEADER, "Kab. Bogor;1.23.4;95,5;Mei 2022"),
        CSV_CONTRACT,
        [Reject(2, "Jumlah Peserta", "Jumlah Peserta: not a number: '1.23.4'")],
    ),
    Case(
        "percent_not_a_percentage",
        _csv("n4.csv", HEADER, "Kab. Bogor;1.000;87,86,1%;Mei 2022"),
        CSV_CONTRACT,
        [Reject(2, "Cakupan (%)", "Cakupan (%): not a percentage: '87,86,1%'")],
    ),
    Case(
        "percent_stray_space_is_read",
        _csv("n5.csv", HEADER, "Kab. Batang;726.521;87, 86;Maret 2023"),
        CSV_CONTRACT,
        [Accept(2, "33.25", {"participants": 726521, "coverage": Decimal("87.86")})],
    ),
    Case(
        "number_dash_and_dashes_are_null",
        _csv("n6.csv", HEADER, "Kab. Bogor;1;—;Mei 2022", "Kota Bogor;1.234;-;Mei 2022"),
        CSV_CONTRACT,
        [
            Accept(2, "32.01", {"participants": 1, "coverage": None}),
            Accept(3, "32.71", {"participants": 1234, "coverage": None}),
        ],
    ),
    Case(
        "number_two_bad_cells_both_named",
        _csv("n7.csv", HEADER, "Kab. Bogor;x1;y2;Mei 2022"),
        CSV_CONTRACT,
        [
            Reject(
                2,
                "Jumlah Peserta",
                "Jumlah Peserta: not a number: 'x1'; Cakupan (%): not a percentage: 'y2'",
            )
        ],
    ),
    Case(
        "number_fraction_in_numeric_cell",
        lambda folder: write_bpjs_workbook(
            folder / "rekap_fraction.xlsx",
            [bpjs_row("Kab. Bogor", "Jawa Barat", [(100.5, 10)] + SEG[1:], total=1000)],
        ),
        XLSX_CONTRACT,
        [
            Reject(
                7,
                "PBI APBN / Aktif",
                "PBI APBN / Aktif: not an integer: 100.5",
                sheet="Rekap Kab-Kota",
            )
        ],
    ),
    # --- values that cannot be: required and empty, negative or implausible counts -------
    Case(
        "required_empty_blank_or_dash",
        _csv(
            "v1.csv",
            HEADER,
            "Kab. Bogor;;95;Mei 2022",
            "Kota Bogor;-;95;Mei 2022",
            "Kab. Batang; ;95;Mei 2022",
            "Kota Pekalongan;—;;Mei 2022",
            "Kab. Pekalongan;0;;Mei 2022",
        ),
        CSV_CONTRACT,
        [
            Reject(2, "Jumlah Peserta", "Jumlah Peserta: required but empty"),
            Reject(3, "Jumlah Peserta", "Jumlah Peserta: required but empty"),
            Reject(4, "Jumlah Peserta", "Jumlah Peserta: required but empty"),
            Reject(5, "Jumlah Peserta", "Jumlah Peserta: required but empty"),
            Accept(6, "33.26", {"participants": 0, "coverage": None}),
        ],
        {"rows_read": 5, "rows_accepted": 1, "rows_rejected": 4, "rows_skipped": 0},
    ),
    Case(
        "required_text_empty",
        _csv("v2.csv", "kode,nama", "32.01,", "32.71,-", "33.25,KAB. BATANG", "33.26, n/a "),
        REQUIRED_NAME,
        [
            Reject(2, "nama", "nama: required but empty"),
            Reject(3, "nama", "nama: required but empty"),
            Accept(4, "33.25", {"name": "KAB. BATANG"}),
            Reject(5, "nama", "nama: required but empty"),
        ],
    ),
    Case(
        "count_negative",
        _csv(
            "v3.csv",
            HEADER,
            "Kab. Bogor;-5;95;Mei 2022",
            "Kota Bogor;(1.234);95;Mei 2022",
            "Kab. Batang;−7;95;Mei 2022",
        ),
        CSV_CONTRACT,
        [
            Reject(2, "Jumlah Peserta", "Jumlah Peserta: a count cannot be negative"),
            Reject(3, "Jumlah Peserta", "Jumlah Peserta: a count cannot be negative"),
            Reject(4, "Jumlah Peserta", "Jumlah Peserta: a count cannot be negative"),
        ],
    ),
    Case(
        "count_above_the_default_bound",
        _csv(
            "v4.csv",
            HEADER,
            "Kab. Bogor;1000000000000000;95;Mei 2022",
            "Kota Bogor;1.000.000.000.000.000;95;Mei 2022",
            "Kab. Batang;500000001;95;Mei 2022",
            "Kota Pekalongan;100000000000000000000000;95;Mei 2022",
            "Kab. Pekalongan;500000000;95;Mei 2022",
            "Kota Palangkaraya;000000000000000000000000281230;95;Mei 2022",
            "Kab. Siak;1e15;95;Mei 2022",
        ),
        CSV_CONTRACT,
        [
            Reject(2, "Jumlah Peserta", f"Jumlah Peserta: {ABOVE_500M}"),
            Reject(3, "Jumlah Peserta", f"Jumlah Peserta: {ABOVE_500M}"),
            Reject(4, "Jumlah Peserta", f"Jumlah Peserta: {ABOVE_500M}"),
            Reject(5, "Jumlah Peserta", f"Jumlah Peserta: {ABOVE_500M}"),
            Accept(6, "33.26", {"participants": 500_000_000}),
            Accept(7, "62.71", {"participants": 281230}),
            Reject(8, "Jumlah Peserta", f"Jumlah Peserta: {ABOVE_500M}"),
        ],
        {"rows_read": 7, "rows_accepted": 2, "rows_rejected": 5, "rows_skipped": 0},
    ),
    Case(
        "count_above_the_field_max",
        _csv(
            "v5.csv",
            "KODE_WILAYAH;JUMLAH_PENDUDUK",
            "32.01;5.000.001",
            "32.71;5.000.000",
            "33.25;-1",
            "33.26;",
            "32.16;5000001",
            "32.75;0005000000",
        ),
        dict(
            DUKCAPIL_LIKE,
            fields={
                "code": {"aliases": ["KODE_WILAYAH"], "required": True},
                "residents": {
                    "aliases": ["JUMLAH_PENDUDUK"],
                    "type": "integer",
                    "max": 5_000_000,
                },
            },
            period=None,
        ),
        [
            Reject(
                2,
                "JUMLAH_PENDUDUK",
                "JUMLAH_PENDUDUK: a count cannot be above 5,000,000 (the field's max)",
            ),
            Accept(3, "32.71", {"residents": 5_000_000}),
            Reject(4, "JUMLAH_PENDUDUK", "JUMLAH_PENDUDUK: a count cannot be negative"),
            Accept(5, "33.26", {"residents": None}),  # not required: empty is null
            Reject(
                6,
                "JUMLAH_PENDUDUK",
                "JUMLAH_PENDUDUK: a count cannot be above 5,000,000 (the field's max)",
            ),
            Accept(7, "32.75", {"residents": 5_000_000}),
        ],
    ),
    Case(
        "count_cells_of_a_workbook",
        lambda folder: write_bpjs_workbook(
            folder / "rekap_counts.xlsx",
            [
                bpjs_row("Kab. Bogor", "Jawa Barat", [(-5, 10)] + SEG[1:], total=1000),
                bpjs_row("Kota Bogor", "Jawa Barat", [(1e15, 10)] + SEG[1:], total=1000),
                bpjs_row("Kab. Batang", "Jawa Tengah", SEG, total=1200),
            ],
        ),
        XLSX_CONTRACT,
        [
            Reject(
                7,
                "PBI APBN / Aktif",
                "PBI APBN / Aktif: a count cannot be negative",
                sheet="Rekap Kab-Kota",
            ),
            Reject(
                8,
                "PBI APBN / Aktif",
                f"PBI APBN / Aktif: {ABOVE_500M}",
                sheet="Rekap Kab-Kota",
            ),
            Accept(9, "33.25", {"pbi_apbn_active": 100, "participants_total": 1200}),
        ],
    ),
    # --- periods ------------------------------------------------------------------------
    Case(
        "period_unknown_month_name",
        _csv("p1.csv", HEADER, "Kab. Bogor;1.000;95;Foo 2022"),
        CSV_CONTRACT,
        [Reject(2, "Bulan", "Bulan: not a month: 'Foo 2022'")],
    ),
    Case(
        "period_month_13",
        _csv("p2.csv", HEADER, "Kab. Bogor;1.000;95;2022-13"),
        CSV_CONTRACT,
        [Reject(2, "Bulan", "Bulan: not a month: '2022-13'")],
    ),
    Case(
        "period_missing_in_row",
        _csv("p3.csv", HEADER, "Kab. Bogor;1.000;95;"),
        CSV_CONTRACT,
        [Reject(2, "Bulan", "Bulan: no period")],
    ),
    Case(
        "period_variants_are_read",
        _csv(
            "p4.csv",
            HEADER,
            "Kab. Bogor;1;95;Mei-22",
            "Kab. Bogor;2;95;31 Mei 2023",
            "Kab. Bogor;3;95;01/2024",
            "Kab. Bogor;4;95;Jan-25",
            "Kab. Bogor;5;95;2025-02",
        ),
        CSV_CONTRACT,
        [
            Accept(2, "32.01", {"month": __import__("datetime").date(2022, 5, 1)}),
            Accept(3, "32.01", {"month": __import__("datetime").date(2023, 5, 1)}),
            Accept(4, "32.01", {"month": __import__("datetime").date(2024, 1, 1)}),
            Accept(5, "32.01", {"month": __import__("datetime").date(2025, 1, 1)}),
            Accept(6, "32.01", {"month": __import__("datetime").date(2025, 2, 1)}),
        ],
    ),
    Case(
        "period_cell_missing",
        _bpjs("rekap_noperiod.xlsx", period_text="Periode: ?"),
        XLSX_CONTRACT,
        [
            Fault(
                "no period: no cell above the header of sheet 'Rekap Kab-Kota' matching"
                r" /posisi\s*:?\s*(.+)/"
            )
        ],
    ),
    Case(
        "period_cell_unreadable",
        _bpjs("rekap_badperiod.xlsx", period_text="Posisi: Foo 2022"),
        XLSX_CONTRACT,
        [
            Fault(
                "no period: cell A2 of sheet 'Rekap Kab-Kota' 'Posisi: Foo 2022': not a period:"
                " 'Foo 2022'"
            )
        ],
    ),
    Case(
        "period_not_in_file_name",
        _csv("penduduk_kabkota_2023.csv", "KODE_WILAYAH;JUMLAH_PENDUDUK", "32.01;5000"),
        DUKCAPIL_LIKE,
        [
            Fault(
                r"no period: file name 'penduduk_kabkota_2023.csv' does not match"
                r" /_(\d{4}_s[12])(?:\D|$)/"
            )
        ],
    ),
    # --- encodings and separators -------------------------------------------------------
    Case(
        "encoding_cp1252",
        _csv(
            "e1.csv",
            HEADER + ";Keterangan",
            "Kab. Bogor;1.000;95;Mei 2022;naïve – catatan",
            encoding="cp1252",
        ),
        CSV_CONTRACT,
        [Accept(2, "32.01", {"remark": "naïve – catatan"})],
    ),
    Case(
        "encoding_utf8_bom",
        _csv("e2.csv", HEADER, "Kota Bogor;2.000;95,5;Juni 2022", bom=True),
        CSV_CONTRACT,
        [Accept(2, "32.71", {"participants": 2000})],
    ),
    Case(
        "encoding_declared_utf8_but_cp1252",
        _csv("e3.csv", HEADER + ";Keterangan", "Kab. Bogor;1;95;Mei 2022;é", encoding="cp1252"),
        DECLARED_UTF8,
        [Fault("not utf-8 text: undecodable byte at offset 84")],
    ),
    Case(
        "separator_comma_quoted_decimals",
        _csv(
            "e4.csv",
            HEADER.replace(";", ","),
            'Kab. Bogor,"1.000","95,98",Mei 2022',
            'Kota Bogor,"2.000","87, 86",Mei 2022',
        ),
        CSV_CONTRACT,
        [
            Accept(2, "32.01", {"coverage": Decimal("95.98")}),
            Accept(3, "32.71", {"coverage": Decimal("87.86")}),
        ],
    ),
    Case(
        "separator_tab_crlf",
        _csv(
            "e5.csv", HEADER.replace(";", "\t"), "Kab. Bogor\t1.000\t95\tMei 2022", newline="\r\n"
        ),
        CSV_CONTRACT,
        [Accept(2, "32.01", {"participants": 1000})],
    ),
    Case(
        "csv_binary_content",
        _bytes("e6.csv", b"\x00\x01\x02garbage\x00" * 20),
        CSV_CONTRACT,
        [Fault("not a CSV: binary content (NUL bytes)")],
    ),
    Case(
        "csv_is_a_workbook",
        lambda folder: (
            _valid_xlsx(folder, "x.xlsx").rename(folder / "workbook.csv") or folder / "workbook.csv"
        ),
        CSV_CONTRACT,
        [Fault("not a CSV: this is a workbook (zip/OLE2) file")],
    ),
    # --- region names and codes ---------------------------------------------------------
    Case(
        "region_ambiguous_bogor",
        _csv("r1.csv", HEADER, "Bogor;1.000;95;Mei 2022"),
        CSV_CONTRACT,
        [Reject(2, "Kabupaten/Kota", BOGOR)],
    ),
    Case(
        "region_unknown_with_candidates",
        _csv("r2.csv", HEADER, "Kab. Bogr;1.000;95;Mei 2022"),
        CSV_CONTRACT,
        [
            Reject(
                2,
                "Kabupaten/Kota",
                "Kabupaten/Kota: unknown region name 'Kab. Bogr'; closest:"
                " 32.01 Kabupaten Bogor, 32.71 Kota Bogor, 33.25 Kabupaten Batang",
            )
        ],
    ),
    Case(
        "region_empty",
        _csv("r3.csv", HEADER, ";1.000;95;Mei 2022"),
        CSV_CONTRACT,
        [Reject(2, "Kabupaten/Kota", "Kabupaten/Kota: empty region")],
    ),
    Case(
        "region_spaced_letters",
        _csv("r4.csv", HEADER, "KAB. S I A K;1.000;95;Mei 2022"),
        CSV_CONTRACT,
        [Accept(2, "14.08")],
    ),
    Case(
        "region_palangkaraya_variants",
        _csv(
            "r5.csv",
            HEADER,
            "Kota Palangkaraya;1;95;Mei 2022",
            "Kota Palangka Raya;2;95;Juni 2022",
            "KOTA  PALANGKA  RAYA;3;95;Juli 2022",
            "Palangka-Raya;4;95;Agustus 2022",
        ),
        CSV_CONTRACT,
        [Accept(2, "62.71"), Accept(3, "62.71"), Accept(4, "62.71"), Accept(5, "62.71")],
    ),
    Case(
        "region_mahakam_hulu_alias",
        _csv("r6.csv", HEADER, "Kab. Mahakam Hulu;1;95;Mei 2022"),
        CSV_CONTRACT,
        [Accept(2, "64.11")],
    ),
    Case(
        "region_old_papua_code",
        _csv("r7.csv", "kode,nama", "92.01,KAB. SORONG", "9271,KOTA SORONG"),
        CODE_CONTRACT,
        [Accept(2, "96.01"), Accept(3, "96.71")],
    ),
    Case(
        "region_unknown_code",
        _csv("r8.csv", "kode,nama", "99.99,NEGERI ANTAH"),
        CODE_CONTRACT,
        [Reject(2, "kode", "kode: unknown Kemendagri code '99.99'")],
    ),
    Case(
        "region_bps_code_never_gets_a_dot",
        _csv("r9.csv", "kode,nama", "6403,KUTAI", "64.03,KUTAI"),
        BPS_CONTRACT,
        [
            Accept(2, "64.02"),
            Reject(
                3,
                "kode",
                "kode: not a BPS province or kab/kota code: '64.03'"
                " (BPS codes are 2 or 4 digits, without a dot)",
            ),
        ],
    ),
    Case(
        "region_province_hint_does_not_guess",
        _bpjs("rekap_hint.xlsx", rows=[bpjs_row("Bogor", "Jawa Barat", SEG)]),
        XLSX_CONTRACT,
        [Reject(7, "Kabupaten/Kota", BOGOR, sheet="Rekap Kab-Kota")],
    ),
    # --- duplicates, totals, blanks -----------------------------------------------------
    Case(
        "duplicate_key",
        _csv(
            "d1.csv",
            HEADER,
            "Kab. Bogor;1;95;Mei 2022",
            "Kota Bogor;2;95;Mei 2022",
            "KAB. BOGOR;3;95;Mei 2022",
            "Kab. Bogor;4;95;Mei 2022",
        ),
        CSV_CONTRACT,
        [
            Accept(2, "32.01"),
            Accept(3, "32.71"),
            Reject(4, "Kabupaten/Kota", "duplicate of row 2"),
            Reject(5, "Kabupaten/Kota", "duplicate of row 2"),
        ],
        {"rows_read": 4, "rows_accepted": 2, "rows_rejected": 2, "rows_skipped": 0},
    ),
    Case(
        "total_and_blank_rows_skipped",
        _csv(
            "d2.csv",
            "Rekap peserta",
            "",
            HEADER,
            "Kab. Bogor;1;95;Mei 2022",
            ";;;",
            "Kota Bogor;2;95;Mei 2022",
            "JUMLAH;3;;",
            "TOTAL NASIONAL;3;;",
        ),
        CSV_CONTRACT,
        [Accept(4, "32.01"), Accept(6, "32.71")],
        {"rows_read": 2, "rows_accepted": 2, "rows_rejected": 0, "rows_skipped": 5},
    ),
    # --- file-level faults --------------------------------------------------------------
    Case(
        "no_header",
        _csv("f1.csv", "Wilayah;Peserta;Cakupan (%)", "Kab. Bogor;1;95"),
        CSV_CONTRACT,
        [
            Fault(
                r"no header found \(rows 1-2\): required fields not found: region_name"
                r" \('Kabupaten/Kota', 'region_name'\); participants \('Jumlah Peserta',"
                r" 'participants'\); month \('Bulan', 'month'\); closest header texts: .*'Peserta'"
                r" \(row 1\).*",
                pattern=True,
            )
        ],
    ),
    Case(
        "no_matching_sheet",
        _bpjs("rekap_sheet.xlsx", sheet="Sheet1"),
        XLSX_CONTRACT,
        [Fault("no sheet matching 'Rekap*'; the workbook has 'Sheet1'")],
    ),
    Case(
        "encrypted_workbook",
        _encrypted,
        XLSX_CONTRACT,
        [
            Fault(
                "encrypted workbook: an OLE2/CFB container, not an .xlsx zip (password-protected,"
                " or an old .xls renamed); save it unprotected as .xlsx"
            )
        ],
    ),
    Case(
        "corrupt_zip",
        _corrupt_zip,
        XLSX_CONTRACT,
        [Fault(r"corrupt workbook: not a readable zip \(.*\)", pattern=True)],
    ),
    Case(
        "truncated_workbook",
        _truncated,
        XLSX_CONTRACT,
        [Fault(r"corrupt workbook: .*", pattern=True)],
    ),
    Case(
        "not_a_zip",
        _bytes("rekap_text.xlsx", b"Kabupaten/Kota;Jumlah\nKab. Bogor;1\n"),
        XLSX_CONTRACT,
        [
            Fault(
                "not a workbook: a .xlsx must be a zip archive; this file is plain text"
                " (35 bytes)"  # the type and size, not the first bytes
            )
        ],
    ),
    Case(
        "zip_bomb",
        _zip_bomb,
        XLSX_CONTRACT,
        [
            Fault(
                r"zip bomb refused: the zip directory declares [\d,]+ MB uncompressed from a"
                r" [\d,]+ KB file \(ratio [\d,]+, limit 100\)",
                pattern=True,
            )
        ],
    ),
    Case(
        "xml_entity_expansion",
        _entities,
        XLSX_CONTRACT,
        [
            Fault(
                "XML entity declarations refused: xl/worksheets/sheet1.xml carries a"
                " <!DOCTYPE>/<!ENTITY> (entity expansion attack or not an Office file)"
            )
        ],
    ),
    Case(
        "cell_count_over_limit",
        _too_many_cells,
        CELL_LIMIT_CONTRACT,
        [Fault("sheet 'Rekap Data' has 64 cells (16 rows x 4 columns), over the limit of 50")],
    ),
    Case(
        "cell_count_declared_over_limit",
        _declared_huge,
        XLSX_CONTRACT,
        [
            Fault(
                "sheet 'Rekap Kab-Kota' has 52,000,000 cells (2,000,000 rows x 26 columns),"
                " over the limit of 20,000,000"
            )
        ],
    ),
    Case(
        "csv_cell_count_over_limit",
        _csv("big.csv", HEADER, *[f"Kab. Bogor;{i};95;Mei 2022" for i in range(20)]),
        dict(CSV_CONTRACT, limits={"max_cells": 40}),
        [Fault("the file has 84 cells (21 lines x 4 columns), over the limit of 40")],
    ),
    Case("empty_file", _bytes("empty.csv", b""), CSV_CONTRACT, [Fault("empty file (0 bytes)")]),
    Case(
        "blank_text_file",
        _bytes("blank.csv", b"\n\n  \n"),
        CSV_CONTRACT,
        [Fault("empty file (no text)")],
    ),
    Case(
        "empty_workbook_sheet",
        _empty_sheet,
        XLSX_CONTRACT,
        [Fault("empty sheet: sheet 'Rekap Kab-Kota' has no cells")],
    ),
]


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in CASES:
        sub = folder / case.id
        sub.mkdir(exist_ok=True)
        paths.append(case.build(sub))
    return paths


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs_out")):
        print(written)
