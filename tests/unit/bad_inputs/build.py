"""Write realistic source files for tests: BPJS workbooks, the Pekalongan branch table, CSVs.

Also a small inline region reference (`mini_resolver()`), so reasons that list candidates are
exact and do not move when the package reference grows.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import xlsxwriter
from cakupan.parsing.regions import RegionResolver

FIXED_DATE = dt.datetime(2024, 1, 1)

SEGMENTS_2022 = [
    "PBI APBN",
    "PBI APBD",
    "PPU Penyelenggara Negara",
    "PPU Badan Usaha",
    "PBPU",
    "BP",
]
SEGMENTS_2024 = [
    "PBI JK",
    "Didaftarkan Pemda",
    "PPU PN",
    "PPU Swasta",
    "PBPU / Mandiri",
    "Bukan Pekerja",
]

MINI_REGIONS = [
    ("14", "Riau", "province", "", "14", "14"),
    ("14.08", "Siak", "district", "kabupaten", "14", "1405"),
    ("32", "Jawa Barat", "province", "", "32", "32"),
    ("32.01", "Bogor", "district", "kabupaten", "32", "3201"),
    ("32.16", "Bekasi", "district", "kabupaten", "32", "3216"),
    ("32.71", "Bogor", "district", "kota", "32", "3271"),
    ("32.75", "Bekasi", "district", "kota", "32", "3275"),
    ("33", "Jawa Tengah", "province", "", "33", "33"),
    ("33.25", "Batang", "district", "kabupaten", "33", "3325"),
    ("33.26", "Pekalongan", "district", "kabupaten", "33", "3326"),
    ("33.75", "Pekalongan", "district", "kota", "33", "3375"),
    ("62", "Kalimantan Tengah", "province", "", "62", "62"),
    ("62.71", "Palangkaraya", "district", "kota", "62", "6271"),
    ("64", "Kalimantan Timur", "province", "", "64", "64"),
    ("64.02", "Kutai Kartanegara", "district", "kabupaten", "64", "6403"),
    ("64.11", "Mahakam Ulu", "district", "kabupaten", "64", "6411"),
    ("96", "Papua Barat Daya", "province", "", "96", ""),
    ("96.01", "Sorong", "district", "kabupaten", "96", "9107"),
    ("96.71", "Sorong", "district", "kota", "96", "9171"),
]
MINI_ALIASES = [("palangka raya", "62.71"), ("mahakam hulu", "64.11")]
MINI_HISTORY = [
    ("92.01", "KAB. SORONG", "2020", "96.01"),
    ("92.71", "KOTA SORONG", "2020", "96.71"),
    ("64.02", "KAB. KUTAI KARTANEGARA", "2020", "64.02"),
]


def mini_resolver() -> RegionResolver:
    cols = ["code", "name", "level", "district_type", "province_code", "bps_code"]
    return RegionResolver(
        [dict(zip(cols, r, strict=True)) for r in MINI_REGIONS],
        [{"alias": a, "code": c} for a, c in MINI_ALIASES],
        [
            dict(zip(["code", "name", "decree_year", "current_code"], r, strict=True))
            for r in MINI_HISTORY
        ],
    )


def _book(path: Path) -> xlsxwriter.Workbook:
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": FIXED_DATE})
    return book


def bpjs_row(
    name: str,
    province: str,
    segments: list[tuple[int, int]],
    *,
    total: int | None = None,
    residents: int | None = None,
    coverage: Any = None,
) -> dict[str, Any]:
    """One data row of the BPJS workbook; total defaults to the sum of the segments."""
    total = total if total is not None else sum(a + b for a, b in segments)
    if coverage is None and residents:
        coverage = round(100 * total / residents, 2)
    return {
        "name": name,
        "province": province,
        "segments": segments,
        "total": total,
        "residents": residents,
        "coverage": coverage,
    }


def id_number(value: int) -> str:
    """316933 -> '316.933' (Indonesian thousands)."""
    return f"{value:,}".replace(",", ".")


def write_bpjs_workbook(
    path: Path,
    rows: list[dict[str, Any]],
    *,
    period_text: str = "Posisi: Mei 2022",
    labels: list[str] = SEGMENTS_2022,
    text_numbers: bool = False,
    sheet: str = "Rekap Kab-Kota",
    total_label: str = "JUMLAH",
) -> Path:
    """The layout of docs/DEMO_SOURCES.md: 4 title rows, a merged two-row header, a total row."""
    book = _book(path)
    ws = book.add_worksheet(sheet)
    bold = book.add_format({"bold": True, "align": "center", "valign": "vcenter"})
    width = 3 + 2 * len(labels) + 3
    ws.merge_range(0, 0, 0, width - 1, "REKAPITULASI PESERTA JKN PER KABUPATEN/KOTA", bold)
    ws.write(1, 0, period_text)
    ws.write(2, 0, "Sumber: BPJS Kesehatan (data sintetis untuk uji)")
    for col, text in enumerate(["No", "Provinsi", "Kabupaten/Kota"]):
        ws.merge_range(4, col, 5, col, text, bold)
    for i, label in enumerate(labels):
        col = 3 + 2 * i
        ws.merge_range(4, col, 4, col + 1, label, bold)
        ws.write(5, col, "Aktif", bold)
        ws.write(5, col + 1, "Non Aktif", bold)
    for j, text in enumerate(["Jumlah Peserta", "Jumlah Penduduk", "Cakupan (%)"]):
        ws.merge_range(4, width - 3 + j, 5, width - 3 + j, text, bold)

    def number(value):
        if value is None:
            return ""
        if isinstance(value, str) or not text_numbers:
            return value
        return id_number(value)

    r = 6
    for i, row in enumerate(rows, start=1):
        ws.write(r, 0, i)
        ws.write(r, 1, row["province"])
        ws.write(r, 2, row["name"])
        for k, (active, inactive) in enumerate(row["segments"]):
            ws.write(r, 3 + 2 * k, number(active))
            ws.write(r, 4 + 2 * k, number(inactive))
        ws.write(r, width - 3, number(row["total"]))
        ws.write(r, width - 2, number(row["residents"]))
        cov = row["coverage"]
        if text_numbers and isinstance(cov, float):
            cov = f"{cov:.2f}%".replace(".", ",")
        ws.write(r, width - 1, "" if cov is None else cov)
        r += 1
    ws.write(r, 2, total_label)
    ws.write(r, width - 3, number(sum(row["total"] for row in rows)))
    book.close()
    return path


PEKALONGAN_ROWS = [
    # name, residents, participants, active, non-active, % coverage, % active
    ("Kota Pekalongan", 316933, 274974, 230665, 44309, "86,76%", "83,89%"),
    ("Kab. Batang", "828.576", "726.521", "550.747", "175.774", "87, 86", "75,81%"),
    ("Kab. Pekalongan", "1.000.810", "842.070", "695.856", "145.224", "84,14%", "82,64%"),
]


def write_pekalongan_workbook(path: Path, *, period_text: str = "Data per Maret 2023") -> Path:
    """The branch office's own table (contract `bpjs_branch_pekalongan`), numbers typed in:
    Kota Pekalongan as numeric cells, the others as Indonesian text; Batang's coverage `87, 86`."""
    book = _book(path)
    ws = book.add_worksheet("Maret 2023")
    ws.write(0, 0, "Capaian UHC Kabupaten/Kota Wilayah Kerja BPJS Kesehatan Cabang Pekalongan")
    ws.write(1, 0, period_text)
    header = [
        "Kabupaten/Kota",
        "Jumlah Penduduk",
        "Jumlah Peserta",
        "Peserta Aktif",
        "Peserta Non Aktif",
        "% Cakupan",
        "% Aktif",
    ]
    ws.write_row(3, 0, header)
    for i, row in enumerate(PEKALONGAN_ROWS):
        ws.write_row(4 + i, 0, list(row))
    ws.write_row(7, 0, ["Jumlah", "2.146.319", "1.843.565", "1.477.268", "365.307", "", ""])
    book.close()
    return path


def write_csv(
    path: Path, lines: list[str], *, encoding: str = "utf-8", bom: bool = False, newline: str = "\n"
) -> Path:
    data = newline.join(lines) + newline
    raw = data.encode(encoding)
    if bom:
        raw = b"\xef\xbb\xbf" + raw
    path.write_bytes(raw)
    return path


def write_simple_xlsx(path: Path, rows: list[list[Any]], *, sheet: str = "Data") -> Path:
    book = _book(path)
    ws = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    book.close()
    return path


def rewrite_zip(path: Path, replace: dict[str, bytes]) -> Path:
    """Copy a zip, replacing the named members' bytes."""
    original = path.read_bytes()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = replace.get(info.filename, src.read(info.filename))
            dst.writestr(info.filename, data)
    path.write_bytes(out.getvalue())
    return path


def declare_huge_sizes(path: Path, size: int = 0xFFFF0000) -> Path:
    """Patch every central-directory entry to declare `size` uncompressed bytes (a zip bomb's
    directory, without writing gigabytes)."""
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        data[pos + 24 : pos + 28] = size.to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    return path


def write_ods(path: Path, rows: list[list[Any]], *, sheet: str = "Data") -> Path:
    """A minimal OpenDocument spreadsheet (no library needed): strings and numbers."""
    from xml.sax.saxutils import escape

    def cell(value: Any) -> str:
        if value is None or value == "":
            return "<table:table-cell/>"
        if isinstance(value, int | float):
            return (
                f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
            "</text:p></table:table-cell>"
        )

    body = "".join(
        f"<table:table-row>{''.join(cell(v) for v in row) or cell(None)}</table:table-row>"
        for row in rows
    )
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}'
        f' office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="{escape(sheet)}">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def bpjs_sample_rows() -> list[dict]:
    """Four districts of a BPJS membership workbook (Kab. Bogor, Kota Bogor, Palangka Raya,
    Kab. Pekalongan)."""
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
