"""Onboarding help (issue #14): which contract reads a file, and, when no contract's path glob
matches it, the contracts ranked by their fields in its header. No database: `cakupan sources
check` stops before the rows when no contract is chosen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bad_inputs.build import SEGMENTS_2024, bpjs_row, write_bpjs_workbook, write_csv
from cakupan.sources import cli
from cakupan.sources.contracts import load_contracts, parse_contract
from cakupan.sources.errors import NoContractMatches, SourceFileError, UnknownContract
from cakupan.sources.fit import contract_for_file, rank_contracts

EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/bpjs_cabang/pekalongan_2023_03.xlsx"
SENTINEL = "NIK 6402015501900001 Siti Rahma"


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


def test_contract_for_file_plain_messages(tmp_path, contracts):
    path = write_csv(tmp_path / "penduduk_kabkota_2023_s1.csv", ["KODE_WILAYAH;JUMLAH_PENDUDUK"])
    assert contract_for_file(path, contracts)[0].name == "dukcapil_residents"
    assert contract_for_file(path, contracts, name="kemendagri_regions") == (
        contracts["kemendagri_regions"],
        "chosen with --contract",
    )
    with pytest.raises(UnknownContract) as info:
        contract_for_file(path, contracts, name="bpjs_membershp")
    assert str(info.value).startswith(
        "unknown contract 'bpjs_membershp' (did you mean 'bpjs_membership'?); the contracts are"
        " bpjs_branch_pekalongan, bpjs_membership, "
    )
    names = ", ".join(sorted(load_contracts()))
    assert str(info.value).endswith(f"the contracts are {names} (`cakupan sources list`)")
    with pytest.raises(UnknownContract, match=r"^unknown contract 'zzz'; the contracts are "):
        contract_for_file(path, contracts, name="zzz")
    with pytest.raises(SourceFileError) as info:
        contract_for_file(tmp_path / "penduduk_kabkota_2023_s2.csv", contracts)
    assert info.value.fault == "no such file"
    with pytest.raises(SourceFileError) as info:
        contract_for_file(tmp_path, contracts, name="dukcapil_residents")
    assert (
        info.value.fault == f"a directory, not a file: give its files (such as {tmp_path}/*.xlsx)"
    )
    with pytest.raises(NoContractMatches):
        contract_for_file(write_csv(tmp_path / "notes.csv", ["a,b"]), contracts)


def test_ranking_puts_the_contract_that_finds_every_required_field_first(tmp_path, contracts):
    path = write_csv(
        tmp_path / "penduduk.csv",
        ["KODE_WILAYAH;NAMA_WILAYAH;JUMLAH_PENDUDUK", "32.01;KAB. BOGOR;5000"],
    )
    fits = [f for f in rank_contracts(path, contracts) if f.matched]
    assert [f.contract.name for f in fits[5:]] == ["bps_population", "dtsen_desil"]
    assert [(f.contract.name, f.fits, len(f.matched)) for f in fits[:5]] == [
        ("dukcapil_residents", True, 3),
        ("kemendagri_region_history", True, 2),
        ("kemendagri_regions", True, 2),
        ("dukcapil_residents_by_age", False, 3),
        ("bpjs_participants_by_age", False, 2),
    ]
    best = fits[0]
    assert best.matched == {
        "code": "KODE_WILAYAH",
        "name": "NAMA_WILAYAH",
        "residents": "JUMLAH_PENDUDUK",
    }
    assert (best.sheet, best.header.row, best.missing_required) == (None, 1, [])
    assert fits[3].missing_required == ["age_band", "male", "female"]
    # every csv contract is ranked, workbook contracts are not
    assert {f.contract.kind for f in rank_contracts(path, contracts)} == {"csv"}


def test_ranking_a_workbook_reads_sheets_the_globs_do_not_name(tmp_path, contracts):
    path = shutil.copy(EXAMPLE, tmp_path / "cabang_batang_maret.xlsx")
    first, second, *_ = rank_contracts(path, contracts)
    assert (first.contract.name, first.fits, first.sheet, first.header.row) == (
        "bpjs_branch_pekalongan",
        True,
        "Maret 2023",
        4,
    )
    assert len(first.matched) == 7 and first.note is None
    assert (second.contract.name, second.fits) == ("bpjs_membership", False)
    assert second.note == "no sheet matching 'Rekap Kab*Kota*'; the workbook has 'Maret 2023'"
    assert second.missing_required[:2] == ["pbi_apbn_active", "pbi_apbn_inactive"]


def test_check_without_a_matching_path_prints_the_ranking(tmp_path, capsys):
    path = shutil.copy(EXAMPLE, tmp_path / "cabang_batang_maret.xlsx")
    assert cli.main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[:4] == [
        f"file:     {path}",
        "contract: none: no contract's path glob matches this file",
        "fit:      the contracts whose fields are in the file's header, best first",
        "  1. bpjs_branch_pekalongan (bpjs_cabang/pekalongan_*.xlsx): 7 of 7 fields at sheet"
        " 'Maret 2023' row 4; every required field",
    ]
    assert lines[4].startswith("       region_name <- 'Kabupaten/Kota', residents_published <- ")
    assert lines[5].startswith(
        "  2. bpjs_membership (bpjs/rekap_peserta_jkn_*.xlsx): 4 of 17 fields at sheet"
        " 'Maret 2023' rows 3-4 (flattened); required fields missing: pbi_apbn_active, "
    )
    assert (
        "header:   as read at sheet 'Maret 2023' row 4: 'Kabupaten/Kota', 'Jumlah Penduduk',"
        " 'Jumlah Peserta', 'Peserta Aktif', 'Peserta Non Aktif', '% Cakupan', '% Aktif'"
    ) in lines
    assert lines[-1] == (
        f"next:     cakupan sources check {path} --contract bpjs_branch_pekalongan; to load"
        " such files by path, put them where 'bpjs_cabang/pekalongan_*.xlsx' matches"
    )
    assert err == (
        f"error: {path}: no source contract's path glob matches this file; the contracts whose"
        " fields fit its header are listed above (check it with --contract NAME)\n"
    )


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("notes.csv", b"a,b\n1,2\n", "no contract's fields are in its header: write a contract"),
        ("notes.pdf", b"%PDF-1.7", "Cakupan reads .csv, .xlsx, .xls and .ods files"),
        ("notes.xls", b"a;b\n", "no contract reads xls files: write one (docs/CONTRACTS.md)"),
        ("notes.xlsx", b"a;b\n", "it cannot be read as xlsx: not a workbook: a .xlsx must be"),
    ],
)
def test_check_without_any_fit_says_why(tmp_path, capsys, name, content, why):
    path = tmp_path / name
    path.write_bytes(content)
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: no source contract's path glob matches this file; {why}")


def test_check_plain_messages(tmp_path, capsys):
    path = write_csv(tmp_path / "notes.csv", ["a,b", "1,2"])
    assert cli.main(["check", str(path), "--contract", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown contract 'nope'; the contracts are ")
    assert cli.main(["check", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing.csv'}: no such file\n"
    assert cli.main(["check", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path}: a directory, not a file: give its files (such as {tmp_path}/*.xlsx)\n"
    )


def test_a_two_row_header_mismatch_shows_the_flattened_header(tmp_path, capsys):
    path = write_bpjs_workbook(
        tmp_path / "rekap_peserta_jkn_2024_03.xlsx",
        [bpjs_row("Kab. Bogor", "Jawa Barat", [(100, 10)] * 6)],
        labels=SEGMENTS_2024[:3],
    )
    assert cli.main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: no header found in sheet 'Rekap Kab-Kota' (rows 1-")
    assert "closest header texts: " in err
    assert err.endswith(
        "; header as read at rows 5-6 (flattened): 'No', 'Provinsi', 'Kabupaten/Kota',"
        " 'PBI JK / Aktif', 'PBI JK / Non Aktif', 'Didaftarkan Pemda / Aktif',"
        " 'Didaftarkan Pemda / Non Aktif', 'PPU PN / Aktif', 'PPU PN / Non Aktif',"
        " 'Jumlah Peserta', 'Jumlah Penduduk', 'Cakupan (%)'\n"
    )


def test_the_ranking_quotes_no_data_row(tmp_path, capsys):
    """A two-row contract on a file with a one-row header: the second row of the best
    position is data, so only the first row is quoted."""
    folder = tmp_path / "contracts"
    folder.mkdir()
    contract = {
        "name": "two_rows",
        "kind": "csv",
        "path": "elsewhere/two_rows_*.csv",
        "raw_table": "raw.two_rows",
        "header": {"rows": 2},
        "fields": {
            "region_name": {"aliases": ["Kabupaten/Kota"], "required": True},
            "participants": {"aliases": ["Jumlah Peserta"], "type": "integer", "required": True},
        },
    }
    parse_contract(contract)
    import yaml

    (folder / "two_rows.yml").write_text(yaml.safe_dump(contract), encoding="utf-8")
    path = write_csv(tmp_path / "data.csv", ["Kabupaten/Kota;Jumlah Peserta", f"{SENTINEL};"])
    assert cli.main(["check", str(path), "--contracts-dir", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert "header:   as read at row 1: 'Kabupaten/Kota', 'Jumlah Peserta'" in out
    assert "Siti" not in out + err and "6402" not in out + err
    assert cli.main(["check", str(path), "--contract", "two_rows", "--contracts-dir", str(folder)])
    out, err = capsys.readouterr()
    assert "header as read at row 1: 'Kabupaten/Kota', 'Jumlah Peserta'" in err
    assert "Siti" not in out + err and "6402" not in out + err
