"""Row acceptance, in the warehouse: what `cakupan sources check` reports and a load writes.

Both run the same code (`cakupan.sources.accept`): the check on temporary tables it rolls back
(`check_file`), the load on `raw` tables, writing the outcome into the raw table and
`raw.rejects` (`land_file`). Every case of the bad-input corpus (tests/unit/bad_inputs) that
reaches its rows goes through both, and must give its stated rejects, values and counts.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from bad_inputs.build import (  # noqa: E402
    SEGMENTS_2024,
    bpjs_sample_rows,
    mini_resolver,
    write_bpjs_workbook,
    write_csv,
    write_ods,
    write_pekalongan_workbook,
    write_simple_xlsx,
)
from bad_inputs.corpus import CASES, Accept, Fault, Reject  # noqa: E402
from cakupan.landing.load import land_file  # noqa: E402
from cakupan.sources import cli, xlsx_stream  # noqa: E402
from cakupan.sources.accept import CheckedRow, CheckOutcome, check_file  # noqa: E402
from cakupan.sources.contracts import load_contracts, parse_contract  # noqa: E402
from cakupan.sources.extract import extract_file  # noqa: E402

pytestmark = pytest.mark.integration

ROW_CASES = [c for c in CASES if not any(isinstance(e, Fault) for e in c.expect)]
XLSX_ROW_CASES = [c for c in ROW_CASES if c.contract.get("kind") == "xlsx"]


@pytest.fixture(scope="module")
def resolver():
    return mini_resolver()


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


def checked(db, path, contract, resolver=None) -> tuple[CheckOutcome, list[CheckedRow]]:
    """`check_file` with every accepted row as a sample; the outcome and all rows in file
    order."""
    extraction = extract_file(path, contract, resolver=resolver)
    order = {r.sheet: i for i, r in enumerate(extraction.sheet_results)}
    outcome = check_file(db, extraction, samples=1_000_000)
    rows = sorted(outcome.samples + outcome.rejects, key=lambda r: (order[r.sheet], r.source_row))
    return outcome, rows


def counts(outcome) -> dict[str, int]:
    return {
        "rows_read": outcome.rows_read,
        "rows_accepted": outcome.rows_accepted,
        "rows_rejected": outcome.rows_rejected,
        "rows_skipped": outcome.rows_skipped,
    }


def test_the_corpus_reaching_rows_is_large_enough():
    assert len(ROW_CASES) >= 20


def _assert_case(case, rows: dict, outcome) -> None:
    for expected in case.expect:
        got = rows.get(expected.row)
        assert got is not None, f"row {expected.row} was not read: {sorted(rows)}"
        if isinstance(expected, Reject):
            assert (got.sheet, got.column, got.reason) == (
                expected.sheet,
                expected.column,
                expected.reason,
            )
            assert got.source_values  # the row is kept as it was
        elif isinstance(expected, Accept):
            assert got.reason is None, got
            assert got.region_code == expected.region_code
            for name, value in expected.values.items():
                assert got.values[name] == value, name
    assert outcome.rows_read == outcome.rows_accepted + outcome.rows_rejected
    if case.counts is not None:
        assert counts(outcome) == case.counts


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.id for c in ROW_CASES])
def test_check(case, tmp_path, resolver, db):
    path = case.build(tmp_path)
    outcome, rows = checked(db, path, parse_contract(case.contract, case.id), resolver)
    _assert_case(case, {r.source_row: r for r in rows}, outcome)
    # nothing is left behind: the check ran on temporary tables and was rolled back
    with db.cursor() as cur:
        cur.execute(
            "select to_regclass('raw.loads'), to_regclass(%s)", (case.contract["raw_table"],)
        )
        assert cur.fetchone() == (None, None)


@pytest.mark.parametrize("case", XLSX_ROW_CASES, ids=[c.id for c in XLSX_ROW_CASES])
def test_check_streamed_in_chunks(case, tmp_path, resolver, db, monkeypatch):
    """The same outcomes when every worksheet is read in chunks of a few rows
    (`cakupan.sources.xlsx_stream`, used for large worksheets)."""
    monkeypatch.setattr(xlsx_stream, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 600)
    streamed = []

    class Recorded(xlsx_stream.SheetStream):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            streamed.append(self)

    monkeypatch.setattr(xlsx_stream, "SheetStream", Recorded)
    path = case.build(tmp_path)
    outcome, rows = checked(db, path, parse_contract(case.contract, case.id), resolver)
    _assert_case(case, {r.source_row: r for r in rows}, outcome)
    assert streamed, "the row-level cases must take the chunked path"


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.id for c in ROW_CASES])
def test_load(case, tmp_path, resolver, db):
    """A load writes what acceptance decided: accepted rows typed in the raw table, rejects
    with their reasons in `raw.rejects`, the counts in `raw.loads`."""
    path = case.build(tmp_path)
    contract = parse_contract(case.contract, case.id)
    extraction = extract_file(path, contract, resolver=resolver)
    result = land_file(db, contract, extraction, source_file=path.name)
    names = list(contract.fields)
    rows = {}
    with db.cursor() as cur:
        cur.execute(
            sql.SQL(
                "select _sheet, _source_row, _period, _region_code, _source_values, {} from {}.{}"
            ).format(
                sql.SQL(", ").join(sql.Identifier(n) for n in names),
                *map(sql.Identifier, contract.raw_table.split(".")),
            )
        )
        for r in cur.fetchall():
            values = dict(zip(names, r[5:], strict=True))
            rows[r[1]] = CheckedRow(r[0], r[1], r[2], r[3], values, source_values=r[4])
        cur.execute(
            "select sheet, source_row, column_name, reason, source_values from raw.rejects"
            " where _load_id = %s",
            (result.load_id,),
        )
        for r in cur.fetchall():
            rows[r[1]] = CheckedRow(r[0], r[1], column=r[2], reason=r[3], source_values=r[4])
    outcome = CheckOutcome(
        result.rows_read, result.rows_landed, result.rows_rejected, result.rows_skipped, [], [], {}
    )
    _assert_case(case, rows, outcome)


# -- real-looking files with the packaged contracts -----------------------------------------------


def test_bpjs_membership_workbook(tmp_path, contracts, db):
    path = write_bpjs_workbook(tmp_path / "rekap_peserta_jkn_2022_05.xlsx", bpjs_sample_rows())
    outcome, rows = checked(db, path, contracts["bpjs_membership"])
    assert all(r.reason is None for r in rows)
    assert [r.source_row for r in rows] == [7, 8, 9, 10]
    assert [r.region_code for r in rows] == ["32.01", "32.71", "62.71", "33.26"]
    first = rows[0]
    assert first.sheet == "Rekap Kab-Kota" and first.period == dt.date(2022, 5, 1)
    assert first.values["pbi_apbn_active"] == 1000 and type(first.values["bp_inactive"]) is int
    assert first.values["participants_total"] == 2706
    assert first.values["province_name"] == "Jawa Barat"
    assert first.source_values["Kabupaten/Kota"] == "Kab. Bogor"
    assert first.source_values["PBI APBN / Aktif"] == "1000"
    palangka = rows[2]
    assert palangka.values["participants_total"] == 281230
    assert palangka.values["residents_published"] == 293010
    assert palangka.values["coverage_pct_published"] == Decimal("95.98")
    assert set(palangka.values) == set(contracts["bpjs_membership"].fields)
    # 4 title rows above the header and the JUMLAH row
    assert counts(outcome) == {
        "rows_read": 4,
        "rows_accepted": 4,
        "rows_rejected": 0,
        "rows_skipped": 5,
    }


def test_bpjs_relabelled_text_numbers(tmp_path, contracts, db):
    rows = bpjs_sample_rows()
    rows[2]["coverage"] = "95,98%"
    path = write_bpjs_workbook(
        tmp_path / "rekap_peserta_jkn_2024_03.xlsx",
        rows,
        labels=SEGMENTS_2024,
        text_numbers=True,
        period_text="Posisi : 31 Mei 2022",
        total_label="TOTAL NASIONAL",
    )
    outcome, rows_out = checked(db, path, contracts["bpjs_membership"])
    palangka = rows_out[2]
    assert palangka.source_values["Jumlah Peserta"] == "281.230"
    assert palangka.values["participants_total"] == 281230
    assert palangka.values["coverage_pct_published"] == Decimal("95.98")
    assert outcome.rows_accepted == 4 and outcome.rows_skipped == 5


def test_pekalongan_branch_table(tmp_path, contracts, db):
    path = write_pekalongan_workbook(tmp_path / "pekalongan_2023_03.xlsx")
    outcome, checked_rows = checked(db, path, contracts["bpjs_branch_pekalongan"])
    rows = {r.region_code: r for r in checked_rows}
    assert set(rows) == {"33.75", "33.25", "33.26"}
    kota = rows["33.75"].values
    assert (
        kota["residents_published"],
        kota["participants_total"],
        kota["participants_active"],
        kota["participants_inactive"],
    ) == (316933, 274974, 230665, 44309)
    assert kota["coverage_pct_published"] == Decimal("86.76")
    batang = rows["33.25"].values
    assert batang["coverage_pct_published"] == Decimal("87.86")  # published "87, 86"
    assert rows["33.25"].source_values["% Cakupan"] == "87, 86"
    kab = rows["33.26"].values
    assert (kab["residents_published"], kab["participants_total"]) == (1000810, 842070)
    assert counts(outcome) == {
        "rows_read": 3,
        "rows_accepted": 3,
        "rows_rejected": 0,
        "rows_skipped": 4,
    }


def test_dukcapil_csv(tmp_path, contracts, db):
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
    _, rows = checked(db, path, contracts["dukcapil_residents"])
    assert [(r.source_row, r.sheet, r.region_code, r.values["residents"]) for r in rows] == [
        (2, None, "33", 36000000),
        (3, None, "33.75", 316933),
        (4, None, "33.25", 828576),
    ]
    assert rows[1].values == {
        "code": "33.75",
        "name": "KOTA PEKALONGAN",
        "male": 158000,
        "female": 158933,
        "residents": 316933,
    }
    assert rows[1].source_values["JUMLAH_PENDUDUK"] == "316933"


def test_kemendagri_and_bridge_csvs(tmp_path, contracts, db):
    regions = write_csv(
        tmp_path / "kode_wilayah_kepmendagri_2025.csv",
        [
            "kode,nama",
            "64,Kalimantan Timur",
            "64.02,Kabupaten Kutai Kartanegara",
            "62.71,Kota Palangkaraya",
        ],
    )
    _, rows = checked(db, regions, contracts["kemendagri_regions"])
    assert [r.region_code for r in rows] == ["64", "64.02", "62.71"]
    assert all(r.period is None for r in rows)

    bridge = write_csv(
        tmp_path / "bridge_kode_bps_kemendagri_2020.csv",
        [
            "kode_bps,nama_bps,kode_dagri,nama_dagri",
            "6403,KUTAI KARTANEGARA,6402,KAB. KUTAI KARTANEGARA",
            "9107,SORONG,9201,KAB. SORONG",
            "9107,SORONG,9201,KAB. SORONG",
        ],
    )
    outcome, rows = checked(db, bridge, contracts["bps_region_bridge"])
    assert rows[0].region_code == "64.02"  # never 64.03
    assert rows[1].region_code == "96.01"  # the pre-2022 Papua code, mapped
    assert rows[2].reason == "duplicate of row 3"
    [(note, count)] = outcome.notes.items()
    assert "92.01" in note and "96.01" in note and count == 2


def test_offset_table_and_multiple_sheets(tmp_path, db):
    import xlsxwriter

    path = tmp_path / "multi.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, rows in [
        ("Jan", [("Kab. Bogor", 1), ("Kota Bogor", 2)]),
        ("Feb", [("Kab. Bogor", 3)]),
    ]:
        ws = book.add_worksheet(name)
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
    outcome, rows = checked(db, path, contract, mini_resolver())
    assert [(r.sheet, r.source_row, r.period, r.region_code) for r in rows] == [
        ("Jan", 5, dt.date(2024, 1, 1), "32.01"),
        ("Jan", 6, dt.date(2024, 1, 1), "32.71"),
        ("Feb", 5, dt.date(2024, 2, 1), "32.01"),
    ]
    assert outcome.rows_skipped == 6  # three rows above each header


def test_duplicates_across_sheets_name_the_sheet(tmp_path, db):
    import xlsxwriter

    path = tmp_path / "dups.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name in ("A", "B"):
        ws = book.add_worksheet(name)
        ws.write_row(0, 0, ["Wilayah", "Jumlah"])
        ws.write_row(1, 0, ["Kab. Bogor", 1])
    book.close()
    contract = parse_contract(
        {
            "name": "dups",
            "kind": "xlsx",
            "path": "*.xlsx",
            "sheets": ["*"],
            "raw_table": "raw.dups",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
            },
            "region": {"field": "region_name", "system": "name"},
        }
    )
    _, rows = checked(db, path, contract, mini_resolver())
    assert (rows[1].sheet, rows[1].source_row, rows[1].reason) == (
        "B",
        2,
        "duplicate of row 2 in sheet 'A'",
    )


def test_key_fields_make_rows_unique(tmp_path, db):
    path = write_csv(
        tmp_path / "k.csv",
        ["Wilayah;Umur;Jumlah", "Kab. Bogor;0-4;10", "Kab. Bogor;5-9;20", "Kab. Bogor;0-4;30"],
    )
    contract = parse_contract(
        {
            "name": "k",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.k",
            "key": ["age"],
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "age": {"aliases": ["Umur"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
            },
            "region": {"field": "region_name", "system": "name"},
        }
    )
    outcome, rows = checked(db, path, contract, mini_resolver())
    assert [r.reason for r in rows] == [None, None, "duplicate of row 2"]
    assert counts(outcome) == {
        "rows_read": 3,
        "rows_accepted": 2,
        "rows_rejected": 1,
        "rows_skipped": 0,
    }


def test_short_rows_and_extra_cells_are_kept(tmp_path, db):
    path = write_csv(tmp_path / "s.csv", ["Wilayah;Jumlah;", "Kab. Bogor", "Kota Bogor;5;x;y"])
    contract = parse_contract(
        {
            "name": "s",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.s",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
            },
            "region": {"field": "region_name", "system": "name"},
            "delimiter": ";",
        }
    )
    _, rows = checked(db, path, contract, mini_resolver())
    assert rows[0].values == {"region_name": "Kab. Bogor", "n": None}
    assert rows[1].source_values == {"Wilayah": "Kota Bogor", "Jumlah": "5", "C": "x", "D": "y"}


def test_numeric_cells_typed_in_a_simple_sheet(tmp_path, db):
    path = write_simple_xlsx(
        tmp_path / "t.xlsx",
        [
            ["Wilayah", "Jumlah", "Persen", "Tanggal"],
            ["Kab. Bogor", 316933.0, 0.5, dt.datetime(2022, 5, 31)],
            ["Kota Bogor", True, 1, None],
        ],
    )
    contract = parse_contract(
        {
            "name": "t",
            "kind": "xlsx",
            "path": "*.xlsx",
            "raw_table": "raw.t",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
                "pct": {"aliases": ["Persen"], "type": "percent"},
                "day": {"aliases": ["Tanggal"], "type": "date"},
            },
            "region": {"field": "region_name", "system": "name"},
        }
    )
    _, rows = checked(db, path, contract, mini_resolver())
    assert rows[0].values == {
        "region_name": "Kab. Bogor",
        "n": 316933,
        "pct": Decimal("0.5"),
        "day": dt.date(2022, 5, 31),
    }
    assert rows[1].reason == "Jumlah: not a number: True"


def test_a_large_csv(tmp_path, db):
    lines = ["Wilayah;Jumlah;Bulan"]
    months = [f"20{y:02d}-{m:02d}" for y in range(10, 30) for m in range(1, 13)]
    lines += [
        f"{'Kab. Bogor' if i % 2 else 'Kota Bogor'};{i};{months[i // 2 % len(months)]}"
        for i in range(20000)
    ]
    path = write_csv(tmp_path / "big.csv", lines)
    contract = parse_contract(
        {
            "name": "big",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.big",
            "fields": {
                "region_name": {"aliases": ["Wilayah"], "required": True},
                "n": {"aliases": ["Jumlah"], "type": "integer"},
                "month": {"aliases": ["Bulan"], "type": "month"},
            },
            "period": {"from": "column", "field": "month"},
            "region": {"field": "region_name", "system": "name"},
        }
    )
    extraction = extract_file(path, contract, resolver=mini_resolver())
    outcome = check_file(db, extraction, samples=1)
    assert outcome.samples[0].source_row == 2
    assert outcome.rows_read == 20000
    assert outcome.rows_rejected == 20000 - 2 * len(months)


def test_ods_two_row_header_without_merge_information(tmp_path, db):
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
    outcome, [row] = checked(db, path, contract, mini_resolver())
    assert (row.source_row, row.region_code, row.period) == (6, "32.71", dt.date(2023, 6, 1))
    assert row.values == {"region_name": "Kota Bogor", "active": 10, "inactive": 2, "total": 1234}
    assert outcome.rows_skipped == 4


# -- `cakupan sources check`: its output, with the rows checked in the warehouse ----------------


@pytest.fixture()
def check_env(warehouse, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    return warehouse


def test_cli_check_clean_file_exits_0(tmp_path, capsys, check_env):
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
    assert "coverage_pct_published=86.76" in out
    assert "result:   would load 3 rows without rejects" in out


def test_cli_check_with_rejects_exits_1(tmp_path, capsys, check_env):
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


def test_cli_module_entry_point(tmp_path, check_env):
    import os

    path = write_csv(tmp_path / "kode_wilayah_kepmendagri_2025.csv", ["kode,nama", "64,Kaltim"])
    done = subprocess.run(
        [sys.executable, "-m", "cakupan.sources.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert "would load 1 rows without rejects" in done.stdout


def test_every_demo_extra_file_is_accepted(tmp_path, contracts, db):
    """The demo's extra sources load without rejects, but for the one planted bad BPS code."""
    from cakupan.demo.generate import generate
    from cakupan.sources.contracts import match_contract

    paths = generate(tmp_path, extras=True)
    for path in paths[58:]:
        contract = match_contract(path, contracts, sources_dir=tmp_path)
        outcome = check_file(db, extract_file(path, contract))
        if contract.name == "bps_population":
            assert [r.source_values["bps_code"] for r in outcome.rejects] == ["9999"], path.name
        else:
            assert outcome.rejects == [], (path.name, outcome.rejects[:3])
        assert outcome.rows_read > 0


# -- values that cannot be: `cakupan sources check` and `cakupan load` reject them alike ---------


def test_values_that_cannot_be_through_check_and_load(tmp_path, capsys, check_env, db):
    """A required field empty or `-`, a negative count, a count over the bound: rejected with
    the column and the rule (no cell quoted), by the check and by a real load."""
    from cakupan import cli as main_cli

    path = write_csv(
        tmp_path / "penduduk_kabkota_2023_s2.csv",
        [
            "KODE_WILAYAH;NAMA_WILAYAH;LAKI_LAKI;PEREMPUAN;JUMLAH_PENDUDUK",
            "32.01;KAB. BOGOR;100;100;200",
            "32.71;KOTA BOGOR;1;1;",
            "33.25;KAB. BATANG;1;1;-",
            "33.26;KAB. PEKALONGAN;1;1;-5",
            "33.75;KOTA PEKALONGAN;1;1;1000000000000000",
            "62.71;KOTA PALANGKA RAYA;-3;1;4",
            "14.08;KAB. SIAK;;;300",
            "64.02;;1;1;1.000.000.000",
        ],
    )
    empty = "JUMLAH_PENDUDUK: required but empty"
    above = "JUMLAH_PENDUDUK: a count cannot be above 500,000,000 (the field's max)"
    expected = [
        (3, "JUMLAH_PENDUDUK", empty),
        (4, "JUMLAH_PENDUDUK", empty),
        (5, "JUMLAH_PENDUDUK", "JUMLAH_PENDUDUK: a count cannot be negative"),
        (6, "JUMLAH_PENDUDUK", above),
        (7, "LAKI_LAKI", "LAKI_LAKI: a count cannot be negative"),
        (9, "JUMLAH_PENDUDUK", above),
    ]
    assert cli.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "rows:     8 read, 2 accepted, 6 rejected, 0 skipped" in out
    for row, column, reason in expected:
        assert f"  row {row} column {column!r}: {reason}\n" in out

    assert main_cli.main(["load", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(": read 8, accepted 2, rejected 6, skipped 0\n")
    with db.cursor() as cur:
        cur.execute("select source_row, column_name, reason from raw.rejects order by source_row")
        assert cur.fetchall() == expected
        cur.execute(
            "select _source_row, _region_code, male, residents from raw.dukcapil_residents"
            " order by _source_row"
        )
        assert cur.fetchall() == [(2, "32.01", 100, 200), (8, "14.08", None, 300)]
        cur.execute("select rows_read, rows_landed, rows_rejected, status from raw.loads")
        assert cur.fetchall() == [(8, 2, 6, "succeeded")]


def test_a_line_over_the_limit_is_refused_by_check_and_load(tmp_path, capsys, check_env, db):
    from cakupan import cli as main_cli

    path = write_csv(
        tmp_path / "penduduk_kabkota_2024_s1.csv",
        ["KODE_WILAYAH;JUMLAH_PENDUDUK", "32.01;200", "32.71;" + "9" * 200_000, "33.25;4"],
    )
    fault = (
        f"error: {path}: line 3 is longer than 131,072 bytes (the contract's"
        " limits.max_line_bytes); refused before reading the rest\n"
    )
    assert cli.main(["check", str(path)]) == 2
    assert capsys.readouterr().err == fault
    assert main_cli.main(["load", str(path)]) == 1
    assert capsys.readouterr().err.endswith(fault)
    with db.cursor() as cur:
        cur.execute("select to_regclass('raw.dukcapil_residents')")
        assert cur.fetchone() == (None,)  # the warehouse is unchanged
