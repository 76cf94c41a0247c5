"""The worklists' words and names: result labels and codes, sheet and file names."""

from __future__ import annotations

import datetime as dt

import pytest
from cakupan.parsing.worklist import LIST_LABELS, RESULT_LABELS, parse_result, result_label
from cakupan.worklists import WorklistError, file_name, parse_period, sheet_name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Terverifikasi", "verified"),
        ("  sudah   terdaftar JKN ", "enrolled_now"),
        ("TIDAK DITEMUKAN", "not_found"),
        ("enrolled_now", "enrolled_now"),
        ("Enrolled now", "enrolled_now"),
        ("Meninggal", "dead"),
        ("pindah", "moved"),
        ("Pindah ke Samarinda", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_result(text, code):
    assert parse_result(text) == code


def test_labels_round_trip_and_lists_named():
    assert {parse_result(result_label(code)) for code in RESULT_LABELS} == set(RESULT_LABELS)
    assert result_label(None) == "" and result_label("nonsense") == ""
    assert LIST_LABELS["pbi_apbd_candidate"] == "Calon PBI APBD (DTSEN desil 1-4)"
    # Excel's limit for a list validation written inline: 255 characters
    assert len(",".join(RESULT_LABELS.values())) < 255


def test_sheet_names_valid_and_unique():
    used: set[str] = set()
    names = [
        sheet_name("64.02.01.2001", "Bukit [Biru]: Timur/Barat*?", used),
        sheet_name("64.02.01.2002", "Desa dengan nama yang sangat panjang sekali sampai", used),
        sheet_name("64.02.01.2002", "Desa dengan nama yang sangat panjang sekali sampai", used),
        sheet_name("", "", used),
    ]
    assert names[0] == "2001 Bukit  Biru   Timur Barat"
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert len({n.casefold() for n in names}) == 4
    assert names[2].endswith(" (2)") and names[3] == "Tanpa desa"


def test_file_names_and_periods():
    june = dt.date(2025, 6, 1)
    assert (
        file_name("64.02.01", "Muara Muntai", "64.02", june) == "64.02.01 Muara Muntai 2025-06.xlsx"
    )
    assert file_name("", "", "64.02", june) == "64.02 Tanpa kecamatan 2025-06.xlsx"
    assert file_name("64.02.03", 'A/B:"C"', "64.02", june) == "64.02.03 A B  C  2025-06.xlsx"
    assert parse_period("2025-06") == june and parse_period(None) is None
    assert parse_period(dt.date(2025, 6, 17)) == june
    with pytest.raises(WorklistError, match="expected YYYY-MM"):
        parse_period("Juni 2025")
