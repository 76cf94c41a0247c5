"""Large worksheets read in chunks (`cakupan.sources.xlsx_stream`) give exactly what reading the
whole sheet with python-calamine gives: the same row numbers, cells, types and merged ranges."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from bad_inputs.build import bpjs_row, rewrite_zip, write_bpjs_workbook
from cakupan.sources import xlsx_stream
from cakupan.sources.errors import SourceFileError
from cakupan.sources.readers import open_source

WHOLE = 1 << 62


def _read(path: Path, *, stream_above: int, chunk: int = 700):
    reader = open_source(path, "xlsx", stream_above_bytes=stream_above, chunk_bytes=chunk)
    try:
        sheet = reader.sheet(reader.select()[0])
        numbers, cells = [], {}
        for number, row in sheet.rows:
            numbers.append(number)
            for j, value in enumerate(row):
                if value != "":
                    cells[(number, sheet.col_offset + j)] = (type(value), value)
        merged = sorted(
            ((r0, c0 + sheet.col_offset), (r1, c1 + sheet.col_offset))
            for (r0, c0), (r1, c1) in sheet.merged_ranges() or []
        )
        return numbers, cells, merged, isinstance(sheet.merged_ranges(), list)
    finally:
        reader.close()


SHEET_PART = "xl/worksheets/sheet1.xml"


def _with_sheet_xml(source: Path, path: Path, edit) -> Path:
    """A copy of `source` whose worksheet XML is `edit(xml)`."""
    path.write_bytes(source.read_bytes())
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read(SHEET_PART)
    return rewrite_zip(path, {SHEET_PART: edit(sheet)})


def _no_stream_started(monkeypatch) -> list:
    started: list = []
    monkeypatch.setattr(
        xlsx_stream.SheetStream, "__init__", lambda *a, **k: started.append(a) or None
    )
    return started


def _mixed_workbook(path: Path, rows: int = 400) -> Path:
    """Data from column C, a merged two-row header, dates, floats, booleans, shared strings,
    blank rows in the middle and a row with a single cell far right in the table."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Data")
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    ws.merge_range(1, 2, 1, 3, "Wilayah")
    ws.write_row(2, 2, ["Kode", "Nama", "Tanggal", "Nilai", "Aktif", "Catatan"])
    for i in range(rows):
        r = 3 + i + (10 if i >= rows // 2 else 0)  # ten blank rows in the middle
        ws.write_string(r, 2, f"33.{i % 35 + 1:02d}")
        ws.write_string(r, 3, ["Kota Pekalongan", "Kab. Batang", "S I A K"][i % 3])
        ws.write_datetime(r, 4, dt.datetime(2024, 1 + i % 12, 1 + i % 28), date)
        ws.write_number(r, 5, i * 1.25 if i % 4 else 86.761)
        ws.write_boolean(r, 6, i % 2 == 0)
        if i % 7 == 0:
            ws.write_string(r, 7, "catatan " * (i % 5))
    book.close()
    return path


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("xlsx_stream")
    bpjs = write_bpjs_workbook(
        folder / "rekap_peserta_jkn_2022_05.xlsx",
        [
            bpjs_row(f"Kabupaten {i}", "Jawa Tengah", [(1000 + i, 2000), (30, 40), (5, 6), (7, 8)])
            for i in range(300)
        ],
    )
    return [bpjs, _mixed_workbook(folder / "mixed.xlsx")]


@pytest.mark.parametrize("chunk", [300, 4096, 1 << 20])
def test_streamed_rows_equal_the_whole_sheet(workbooks, chunk):
    for path in workbooks:
        whole = _read(path, stream_above=WHOLE)
        streamed = _read(path, stream_above=0, chunk=chunk)
        assert streamed[3] is True  # the streamed path really ran (its merged ranges resolved)
        assert streamed[0] == whole[0], path.name
        assert streamed[1] == whole[1], path.name
        assert streamed[2] == whole[2], path.name
        assert whole[2], "the test workbooks have merged header cells"


def test_streamed_cells_keep_their_types(workbooks):
    _numbers, cells, _merged, _ = _read(workbooks[1], stream_above=0, chunk=300)
    assert cells[(4, 2)] == (str, "33.01")
    assert cells[(4, 4)] == (dt.date, dt.date(2024, 1, 1))
    assert cells[(400, 4)] == (dt.date, dt.date(2024, 1 + 386 % 12, 1 + 386 % 28))
    assert cells[(4, 5)] == (float, 86.761)
    assert cells[(5, 6)] == (bool, False)


def test_small_sheets_are_read_whole_by_default(workbooks, monkeypatch):
    started = _no_stream_started(monkeypatch)
    _read(workbooks[0], stream_above=xlsx_stream.STREAM_ABOVE_BYTES)
    assert started == []


def test_a_value_outside_the_declared_dimension_is_a_clear_fault(workbooks, tmp_path):
    path = _with_sheet_xml(
        workbooks[1],
        tmp_path / "narrow.xlsx",
        lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="C2:F413"/>', xml),
    )
    with pytest.raises(SourceFileError) as info:
        _read(path, stream_above=0)
    assert info.value.fault == (
        "sheet 'Data': row 3 has a value in column G, outside the sheet's declared dimension"
        " (columns C-F); open and save the workbook again to correct it"
    )


def test_a_worksheet_without_plain_sheet_data_is_read_whole(workbooks, tmp_path):
    def prefixed(xml: bytes) -> bytes:
        # the same rows under a namespace prefix: valid for python-calamine, not cut into chunks
        xml = re.sub(
            rb"<(/?)(sheetData|row|c|v|worksheet|dimension|sheetViews|sheetView|"
            rb"sheetFormatPr|cols|col|pageMargins|mergeCells|mergeCell|selection)\b",
            rb"<\1x:\2",
            xml,
        )
        return xml.replace(b"<x:worksheet xmlns=", b"<x:worksheet xmlns:x=", 1)

    path = _with_sheet_xml(workbooks[1], tmp_path / "prefixed.xlsx", prefixed)
    with zipfile.ZipFile(path) as zf, pytest.raises(xlsx_stream.NotStreamable):
        xlsx_stream._Chunks(zf, SHEET_PART, 300)
    assert _read(path, stream_above=0)[1] == _read(workbooks[1], stream_above=WHOLE)[1]


def test_an_abandoned_stream_stops_its_threads(workbooks):
    reader = open_source(workbooks[1], "xlsx", stream_above_bytes=0, chunk_bytes=300)
    sheet = reader.sheet("Data")
    first = [next(sheet.rows) for _ in range(3)]
    assert [n for n, _ in first] == [1, 2, 3]
    stream = reader._streams[0]
    reader.close()
    for thread in stream._threads:
        thread.join(timeout=5)
        assert not thread.is_alive(), thread.name


def test_a_dimension_too_small_for_the_sheet_is_not_trusted(workbooks, tmp_path, monkeypatch):
    """Some writers declare `A1` whatever the data: such a sheet is read whole, not refused."""
    path = _with_sheet_xml(
        workbooks[1],
        tmp_path / "a1.xlsx",
        lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', xml),
    )
    started = _no_stream_started(monkeypatch)
    assert _read(path, stream_above=0)[1] == _read(workbooks[1], stream_above=WHOLE)[1]
    assert started == []


def test_rows_without_numbers_midway_stop_the_read_with_a_clear_fault(workbooks, tmp_path):
    """calamine would number a chunk's unnumbered rows from 1: refuse rather than misnumber."""

    def unnumbered_from_row_300(xml: bytes) -> bytes:
        cut = xml.index(b'<row r="300"')
        return xml[:cut] + re.sub(rb'<row r="\d+"', b"<row", xml[cut:])

    path = _with_sheet_xml(workbooks[1], tmp_path / "unnumbered.xlsx", unnumbered_from_row_300)
    with pytest.raises(SourceFileError) as info:
        _read(path, stream_above=0, chunk=300)
    assert info.value.fault == "sheet 'Data' cannot be read: rows without their r= number"
