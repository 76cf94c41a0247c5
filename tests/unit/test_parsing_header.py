"""Header detection: title rows skipped, aliases matched loosely, two-row headers flattened."""

from __future__ import annotations

import pytest
from cakupan.parsing.header import (
    HeaderNotFound,
    best_header,
    find_header,
    flatten_two_rows,
    header_text,
    match_fields,
    normalize_header,
)

ALIASES = {
    "region_name": ["Kabupaten/Kota"],
    "participants": ["Jumlah Peserta"],
    "coverage": ["Cakupan (%)", "% Cakupan"],
}


def test_normalize_header():
    assert normalize_header("Kabupaten / Kota") == normalize_header("KABUPATEN/KOTA")
    assert normalize_header("kabupaten kota") == "kabupatenkota"
    assert normalize_header("Cakupan (%)") == normalize_header("% Cakupan") == "cakupan"
    assert normalize_header("Jumlah\nPeserta") == "jumlahpeserta"
    assert normalize_header(2022.0) == "2022"


def test_title_rows_are_skipped():
    rows = [
        (1, ["REKAPITULASI PESERTA", "", ""]),
        (2, ["Posisi: Mei 2022", "", ""]),
        (3, ["", "", ""]),
        (4, ["KABUPATEN / KOTA", "jumlah  peserta", "% cakupan"]),
        (5, ["Kab. Bogor", 1000, 95.5]),
    ]
    match = find_header(rows, ALIASES, ["region_name", "participants"])
    assert (match.row, match.rows, match.index) == (4, 1, 3)
    assert match.columns == {
        "region_name": (0, "KABUPATEN / KOTA"),
        "participants": (1, "jumlah peserta"),
        "coverage": (2, "% cakupan"),
    }
    assert match.unmatched == []


def test_two_row_header_with_merges():
    top = ["No", "Kabupaten/Kota", "PBI APBN", "", "Jumlah Peserta"]
    bottom = ["", "", "Aktif", "Non Aktif", ""]
    merged = [((4, 2), (4, 3)), ((4, 0), (5, 0)), ((4, 1), (5, 1)), ((4, 4), (5, 4))]
    texts = flatten_two_rows(top, bottom, top_row=4, merged=merged)
    assert texts == [
        "No",
        "Kabupaten/Kota",
        "PBI APBN / Aktif",
        "PBI APBN / Non Aktif",
        "Jumlah Peserta",
    ]
    # without merge information (ODS, CSV) the group is carried right the same way
    assert flatten_two_rows(top, bottom) == texts
    rows = [(5, top), (6, bottom), (7, [1, "Kab. Bogor", 10, 2, 12])]
    aliases = {
        "region_name": ["Kabupaten/Kota"],
        "active": ["PBI APBN / Aktif"],
        "inactive": ["PBI APBN / Non Aktif"],
        "participants": ["Jumlah Peserta"],
    }
    match = find_header(rows, aliases, list(aliases), header_rows=2, merged=merged)
    assert (match.row, match.last_row) == (5, 6)
    assert match.columns["inactive"] == (3, "PBI APBN / Non Aktif")
    assert match.unmatched == ["No"]


def test_a_column_is_mapped_once():
    columns, unmatched = match_fields(
        ["Peserta Aktif", "% Aktif", "Aktif"],
        {"active": ["Peserta Aktif", "Aktif"], "active_pct": ["% Aktif"]},
    )
    assert columns == {"active": (0, "Peserta Aktif"), "active_pct": (1, "% Aktif")}
    assert unmatched == ["Aktif"]


def test_best_scoring_row_wins():
    rows = [
        (1, ["Kabupaten/Kota", "Catatan"]),
        (2, ["Kabupaten/Kota", "Jumlah Peserta", "Cakupan (%)"]),
    ]
    assert find_header(rows, ALIASES, ["region_name"]).row == 2


def test_not_found_names_missing_fields_and_closest_texts():
    rows = [(1, ["Laporan"]), (2, ["Kab/Kota", "Peserta JKN", "Cakupan (%)"]), (3, ["Kota Bogor"])]
    with pytest.raises(HeaderNotFound) as info:
        find_header(rows, ALIASES, ["region_name", "participants"], sheet="Data")
    assert info.value.missing == ["region_name", "participants"]
    message = str(info.value)
    assert message.startswith(
        "no header found in sheet 'Data' (rows 1-3): required fields not"
        " found: region_name ('Kabupaten/Kota'); participants"
        " ('Jumlah Peserta'); closest header texts: "
    )
    assert "'Kab/Kota' (row 2)" in message
    assert "'Peserta JKN' (row 2)" in message
    assert "Bogor" not in message  # only rows that map some field are quoted


def test_not_found_quotes_no_cell_when_no_row_maps_a_field():
    """A row that maps no field may be a data row: its cells are never echoed."""
    rows = [(1, ["Kab/Kota", "Peserta"]), (2, ["Siti Rahma", "6402015501900001"])]
    with pytest.raises(HeaderNotFound) as info:
        find_header(rows, ALIASES, ["region_name", "participants"])
    message = str(info.value)
    assert message.endswith("; no row has any of the expected header texts (cells are not shown)")
    assert info.value.closest == []
    for text in ("Kab/Kota", "Peserta", "Siti", "Rahma", "6402"):
        assert text not in message.replace("'Jumlah Peserta'", "")


def test_not_found_shows_the_header_as_read_flattened():
    top = ["No", "Kabupaten/Kota", "PBI JK", "", "Jumlah Peserta"]
    bottom = ["", "", "Aktif", "Non Aktif", ""]
    rows = [(4, ["Rekap"]), (5, top), (6, bottom), (7, [1, "Kab. Bogor", 10, 2, 12])]
    aliases = {"region_name": ["Kabupaten/Kota"], "active": ["PBI APBN / Aktif"]}
    with pytest.raises(HeaderNotFound) as info:
        find_header(rows, aliases, list(aliases), header_rows=2, sheet="Rekap")
    message = str(info.value)
    assert message.endswith(
        "; closest header texts: 'PBI JK / Aktif' (rows 5-6), 'PBI JK / Non Aktif' (rows 5-6),"
        " 'Non Aktif' (row 6)"
        "; header as read at rows 5-6 (flattened): 'No', 'Kabupaten/Kota', 'PBI JK / Aktif',"
        " 'PBI JK / Non Aktif', 'Jumlah Peserta'"
    )
    assert (info.value.best.row, info.value.best.rows) == (5, 2)
    assert "Bogor" not in message


def test_the_header_as_read_quotes_no_data_row_and_no_long_number():
    """A two-row search over a one-row header: the second row is data (no header text in
    it), so only the first row is quoted; a text with 6 digits in a row is not shown."""
    rows = [
        (1, ["Kabupaten/Kota", "Kode 6402015501", "Jumlah Peserta"]),
        (2, ["Siti Rahma", "", ""]),
    ]
    aliases = {"region_name": ["Kabupaten/Kota"], "participants": ["Jumlah Peserta"]}
    match = best_header(rows, aliases, header_rows=2)
    assert match.columns == {"participants": (2, "Jumlah Peserta")}
    assert header_text(match) == "'Kabupaten/Kota', <text not shown>, 'Jumlah Peserta'"
    assert match.span == "row 1"
    with pytest.raises(HeaderNotFound) as info:
        find_header(rows, aliases, list(aliases), header_rows=2)
    assert "Siti" not in str(info.value) and "6402" not in str(info.value)
    assert str(info.value).endswith(
        "; header as read at row 1: 'Kabupaten/Kota', <text not shown>, 'Jumlah Peserta'"
    )
    assert best_header([(1, ["Nama", "NIK"])], aliases) is None
