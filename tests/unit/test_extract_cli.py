"""`cakupan sources list|check`: output and exit codes, without a database (a file the check
refuses before its rows are read). The output of a check that reads the rows, which needs the
warehouse: tests/integration/test_acceptance.py."""

from __future__ import annotations

import argparse

from bad_inputs.build import write_csv
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
    assert capsys.readouterr().err.startswith(
        f"error: {path}: no source contract's path glob matches this file; "
    )
    assert cli.main(["check", str(path), "--contract", "nope"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown contract 'nope'; ")
    assert cli.main(["check", str(path), "--contract", "kemendagri_regions"]) == 2
    assert "no header found" in capsys.readouterr().err


def test_register_adds_sources_to_a_main_parser(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="cakupan")
    sub = parser.add_subparsers(dest="command")
    cli.register(sub)
    args = parser.parse_args(["sources", "list"])
    assert args.func(args) == 0
    assert "bpjs_membership" in capsys.readouterr().out
