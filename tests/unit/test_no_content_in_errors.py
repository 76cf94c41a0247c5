"""File-level error messages describe a fault, never echo the file's contents (issue #12).

Every file here holds a made-up personal-data sentinel; each message must name the file and the
fault and contain no piece of the sentinel longer than 3 characters.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from bad_inputs.build import rewrite_zip, write_simple_xlsx
from cakupan.parsing.header import HeaderNotFound, find_header
from cakupan.sources import cli
from cakupan.sources.contracts import parse_contract
from cakupan.sources.errors import SourceFileError, content_free
from cakupan.sources.extract import extract_file
from cakupan.sources.readers import describe_content, open_source

SENTINEL = "NIK 6402015501900001 Siti Rahma"
PIECES = {SENTINEL[i : i + 4] for i in range(len(SENTINEL) - 3)}

CONTRACT = {
    "name": "sentinel",
    "kind": "xlsx",
    "path": "*.xlsx",
    "raw_table": "raw.sentinel",
    "fields": {
        "region_name": {"aliases": ["Kabupaten/Kota"], "required": True},
        "participants": {"aliases": ["Jumlah Peserta"], "type": "integer", "required": True},
    },
}


def assert_no_content(text: str, path: Path | None = None) -> None:
    if path is not None:
        text = text.replace(str(path), "<path>")
    leaked = sorted(p for p in PIECES if p in text)
    assert not leaked, f"{leaked} of the file's contents in: {text}"


def _fault(path: Path, kind: str = "xlsx", **options) -> SourceFileError:
    with pytest.raises(SourceFileError) as info:
        reader = open_source(path, kind, **options)
        for name in reader.select():
            list(reader.sheet(name).rows)
    assert str(info.value).startswith(f"{path}: ")
    assert "\n" not in str(info.value)
    assert_no_content(str(info.value), path)
    return info.value


@pytest.fixture
def sentinel_text(tmp_path) -> Path:
    target = tmp_path / "secret.txt"
    target.write_text(f"{SENTINEL}\n{SENTINEL};12\n" * 3, encoding="utf-8")
    return target


def test_symlink_to_a_text_file_named_xlsx(tmp_path, sentinel_text):
    link = tmp_path / "rekap_peserta_jkn_2025_01.xlsx"
    link.symlink_to(sentinel_text)
    fault = _fault(link).fault
    size = sentinel_text.stat().st_size
    assert fault == (
        f"not a workbook: a .xlsx must be a zip archive; this file is plain text ({size:,} bytes)"
    )


def test_symlink_to_etc_passwd_named_xlsx(tmp_path):
    passwd = Path("/etc/passwd")
    if not passwd.is_file():
        pytest.skip("no /etc/passwd")
    link = tmp_path / "rekap_peserta_jkn_2025_01.xlsx"
    link.symlink_to(passwd)
    with pytest.raises(SourceFileError) as info:
        open_source(link, "xlsx")
    assert "root" not in info.value.fault
    assert "plain text" in info.value.fault


def test_text_named_ods_and_xls(tmp_path, sentinel_text):
    for kind in ("ods", "xls"):
        path = tmp_path / f"data.{kind}"
        shutil.copy(sentinel_text, path)
        fault = _fault(path, kind).fault
        assert fault.startswith("not a workbook: ")
        assert "plain text" in fault


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"<!DOCTYPE html><html><body>" + SENTINEL.encode(), "an HTML page"),
        (b"<?xml version='1.0'?><x>" + SENTINEL.encode(), "XML or other markup text"),
        (b"%PDF-1.7 " + SENTINEL.encode(), "a PDF document"),
        (b"\x00\x01" + SENTINEL.encode(), "binary data (NUL bytes)"),
        (SENTINEL.encode("utf-16"), "UTF-16 text"),
        (SENTINEL.encode(), "plain text"),
    ],
)
def test_describe_content_names_the_kind_only(tmp_path, head, kind):
    assert describe_content(head) == kind
    path = tmp_path / "f.xlsx"
    path.write_bytes(head)
    assert f"this file is {kind} ({len(head):,} bytes)" in _fault(path).fault


def _workbook(tmp_path: Path, name: str) -> tuple[Path, bytes, bytes]:
    path = write_simple_xlsx(tmp_path / name, [["Kabupaten/Kota", "Jumlah Peserta"], [SENTINEL, 1]])
    with zipfile.ZipFile(path) as zf:
        return path, zf.read("xl/worksheets/sheet1.xml"), zf.read("xl/sharedStrings.xml")


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_parser_errors_about_cells_mask_the_cell_text(tmp_path, streamed):
    """python-calamine quotes what it could not parse; the message masks it."""
    options = {"stream_above_bytes": 0, "chunk_bytes": 100} if streamed else {}
    path, sheet, strings = _workbook(tmp_path, "entity.xlsx")
    bad = strings.replace(SENTINEL.encode(), b"NIK &6402015501900001; Siti &Rahma;")
    rewrite_zip(path, {"xl/sharedStrings.xml": bad})
    fault = _fault(path, **options).fault
    assert fault.startswith("corrupt workbook: ")
    assert "<text not shown>" in fault

    path, sheet, strings = _workbook(tmp_path, "attribute.xlsx")
    bad = sheet.replace(b't="s"', b't="' + SENTINEL.encode() + b'"', 1)
    rewrite_zip(path, {"xl/worksheets/sheet1.xml": bad})
    fault = _fault(path, **options).fault
    assert fault.startswith("corrupt workbook: sheet 'Data': ")
    assert "<text not shown>" in fault


def test_content_free_masks_quoted_spans():
    assert content_free(ValueError("bad `&Siti;` at 3")) == "bad <text not shown> at 3"
    assert content_free(ValueError('t "a \\" b" end')) == "t <text not shown> end"
    assert content_free(ValueError("open 'unterminated")) == "open <text not shown>"
    assert content_free(ValueError("no quotes here")) == "no quotes here"


def test_csv_of_personal_data_has_no_header_and_no_echo(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(f"{SENTINEL};12\n{SENTINEL};13\n", encoding="utf-8")
    contract = parse_contract({**CONTRACT, "kind": "csv", "path": "*.csv"}, "sentinel")
    with pytest.raises(SourceFileError) as info:
        extract_file(path, contract)
    assert info.value.fault.startswith("no header found (rows 1-2): required fields not found")
    assert info.value.fault.endswith("(cells are not shown)")
    assert_no_content(str(info.value), path)


def test_header_not_found_quotes_header_texts_not_data_rows():
    aliases = {"region_name": ["Kabupaten/Kota"], "participants": ["Jumlah Peserta"]}
    rows = [(1, ["Kab/Kota", "Jumlah Peserta"]), (2, [SENTINEL, "Siti Rahma NIK"])]
    with pytest.raises(HeaderNotFound) as info:
        find_header(rows, aliases, ["region_name", "participants"])
    assert "'Kab/Kota' (row 1)" in str(info.value)
    assert_no_content(str(info.value))


def test_period_cell_in_a_data_row_is_not_quoted(tmp_path):
    path = write_simple_xlsx(
        tmp_path / "p.xlsx",
        [["Rekap"], ["Kabupaten/Kota", "Jumlah Peserta"], [SENTINEL, 1]],
    )
    contract = parse_contract({**CONTRACT, "period": {"from": "cell", "cell": "A3"}}, "sentinel")
    with pytest.raises(SourceFileError) as info:
        extract_file(path, contract)
    assert info.value.fault == (
        "no period: cell A3 of sheet 'Data' (below the header: its text is not shown)"
        " names no month"
    )
    assert_no_content(str(info.value), path)


def test_period_title_cell_is_still_quoted(tmp_path):
    path = write_simple_xlsx(
        tmp_path / "p.xlsx",
        [["Rekap tanpa bulan"], ["Kabupaten/Kota", "Jumlah Peserta"], ["Kab. Bogor", 1]],
    )
    contract = parse_contract({**CONTRACT, "period": {"from": "cell", "cell": "A1"}}, "sentinel")
    with pytest.raises(SourceFileError) as info:
        extract_file(path, contract)
    assert (
        info.value.fault == "no period: cell A1 of sheet 'Data' 'Rekap tanpa bulan' names no month"
    )


@pytest.mark.parametrize("name", ["rekap_peserta_jkn_2025_01.xlsx", "unmatched_file.xlsx"])
def test_sources_check_cli_prints_no_contents(tmp_path, sentinel_text, capsys, name):
    link = tmp_path / name
    link.symlink_to(sentinel_text)
    assert cli.main(["check", str(link)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {link}: ")
    assert_no_content(out + err, link)
