"""`cakupan sources list|check`: output and exit codes, without a database."""

from __future__ import annotations

import argparse
import subprocess
import sys

from bad_inputs.build import write_csv, write_pekalongan_workbook
from cakupan.sources import cli


def test_list(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["name", "kind", "path", "raw", "table"]
    line = next(x for x in out.splitlines() if x.startswith("bpjs_membership "))
    assert line.split() == [
        "bpjs_membership",
        "xlsx",
        "bpjs/rekap_peserta_jkn_*.xlsx",
        "raw.bpjs_membership",
    ]


def test_check_clean_file_exits_0(tmp_path, capsys):
    path = write_pekalongan_workbook(tmp_path / "pekalongan_2023_03.xlsx")
    assert cli.main(["check", str(path), "--sample", "2"]) == 0
    out = capsys.readouterr().out
    assert (
        "contract: bpjs_branch_pekalongan (its path glob 'bpjs_cabang/pekalongan_*.xlsx'"
        " matches)" in out
    )
    assert "period:   2023-03 (from cell A2 of sheet 'Maret 2023' 'Data per Maret 2023')" in out
    assert "sheet 'Maret 2023': header at row 4, data from row 5" in out
    assert "coverage_pct_published  <-   F  '% Cakupan'" in out
    assert "rows:     3 read, 3 accepted, 0 rejected, 4 skipped" in out
    assert "sample (2 of 3 accepted rows):" in out
    assert "row 5: period 2023-03-01 region 33.75" in out
    assert "result:   would load 3 rows without rejects" in out


def test_check_with_rejects_exits_1(tmp_path, capsys):
    path = write_csv(
        tmp_path / "kode_wilayah_kepmendagri_2025.csv",
        [
            "kode,nama",
            "32.01,Kabupaten Bogor",
            "32.01,Kabupaten Bogor",
            "99.99,Antah",
            "32.71,Kota Bogor",
        ],
    )
    assert cli.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "rows:     4 read, 2 accepted, 2 rejected, 0 skipped" in out
    assert "problems (2):" in out
    assert "  row 3 column 'kode': duplicate of row 2" in out
    assert "  row 4 column 'kode': kode: unknown Kemendagri code '99.99'" in out
    assert "result:   would load 2 rows and reject 2" in out


def test_check_file_fault_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "rekap_peserta_jkn_2022_01.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert cli.main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: {path}: encrypted workbook: an OLE2/CFB container, not an"
        " .xlsx zip (password-protected, or an old .xls renamed); save it"
        " unprotected as .xlsx\n"
    )


def test_check_unknown_or_unmatched_contract_exits_2(tmp_path, capsys):
    path = write_csv(tmp_path / "notes.csv", ["a,b", "1,2"])
    assert cli.main(["check", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: no source contract matches")
    assert cli.main(["check", str(path), "--contract", "nope"]) == 2
    assert "unknown contract 'nope'" in capsys.readouterr().err
    assert cli.main(["check", str(path), "--contract", "kemendagri_regions"]) == 2
    assert "no header found" in capsys.readouterr().err


def test_register_adds_sources_to_a_main_parser(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="cakupan")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(["sources", "list"])
    assert args.func(args) == 0
    assert "bpjs_membership" in capsys.readouterr().out


def test_module_entry_point(tmp_path):
    path = write_csv(tmp_path / "kode_wilayah_kepmendagri_2025.csv", ["kode,nama", "64,Kaltim"])
    done = subprocess.run(
        [sys.executable, "-m", "cakupan.sources.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "would load 1 rows without rejects" in done.stdout
