"""The person landing on a real PostgreSQL: counts per kab/kota partition, each kind of bad NIK
kept unkeyed with its reason, reruns and other sources, and no personal data or key anywhere it
must not be (output, logs, raw tables, `bi_reader`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from cakupan.pipeline import load_file
from person_files import REGISTER_HEADER, nik_for, register_rows, write_csv
from psycopg import errors

pytestmark = pytest.mark.integration

KEY = "test-person-key-0123456789abcdefghijklmnop"
DTSEN_HEADER = ["NIK", "NO_KK", "NAMA", "TGL_LAHIR", "JENIS_KELAMIN", "KODE_DESA", "DESIL"]


@pytest.fixture()
def pdb(warehouse, tmp_path, monkeypatch):
    """A psycopg 3 connection to the session's database without raw, restricted or reference
    schemas; the key in the environment and the sources folder in `tmp_path`."""
    monkeypatch.setenv("CAKUPAN_PERSON_KEY", KEY)
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    conn = psycopg.connect(**warehouse.dsn_kwargs())
    with conn.cursor() as cur:
        cur.execute("drop schema if exists raw, restricted, reference cascade")
    conn.commit()
    yield conn
    conn.close()


def _register(tmp_path: Path, rows: list[dict], district: str = "6402") -> Path:
    name = f"persons/dukcapil_register_{district}_2025-06.csv"
    return write_csv(tmp_path / name, REGISTER_HEADER, rows)


def _one(conn, query: str, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()


def _keyed(value: str) -> str:
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_a_register_lands_its_rows_in_the_partition_of_each_kab_kota(pdb, tmp_path):
    rows = register_rows(30, districts=("64.02", "64.72"))
    result = load_file(_register(tmp_path, rows), "dukcapil_register", conn=pdb)
    assert (result["rows_read"], result["rows_landed"], result["rows_rejected"]) == (30, 30, 0)
    assert result["districts"] == {"64.02": 20, "64.72": 10}
    parts = _one(
        pdb,
        "select tableoid::regclass::text, count(*), count(nik_key), count(kk_key)"
        " from restricted.person_records group by 1 order by 1",
    )
    assert parts == [
        ("restricted.person_records_64_02", 20, 20, 20),
        ("restricted.person_records_64_72", 10, 10, 10),
    ]
    # the keys are HMAC-SHA256 of the 16 digits under the key, as Python computes it
    expected = sorted(_keyed(r["NIK"]) for r in rows)
    assert sorted(k for (k,) in _one(pdb, "select nik_key from restricted.person_records")) == (
        expected
    )
    dead = _one(pdb, "select count(*) from restricted.person_records where not alive")
    assert dead == [(sum(r["STATUS_HIDUP"] == "MATI" for r in rows),)]
    scope = _one(pdb, "select period::text, region_code, rows from raw.load_scopes")
    assert scope == [("2025-06-01", "64.02", 30)]


def _spoil(rows: list[dict]) -> dict[int, str]:
    """One bad NIK of each kind (row number -> the status it must get)."""
    nik = [r["NIK"] for r in rows]
    rows[0]["NIK"] = nik[0][:15]
    rows[1]["NIK"] = "99" + nik[1][2:]
    rows[2]["NIK"] = "6499" + nik[2][4:]
    rows[3]["NIK"] = "640299" + nik[3][6:]
    rows[4]["NIK"] = nik[4][:6] + "32" + nik[4][8:]  # day 32: not a date
    female = rows[5]["JENIS_KLMIN"] == "PEREMPUAN"
    rows[5]["JENIS_KLMIN"] = "LAKI-LAKI" if female else "PEREMPUAN"
    day, month, year = rows[6]["TGL_LHR"].split("-")
    rows[6]["TGL_LHR"] = f"{day}-{month}-{int(year) + 1}"
    rows[7]["NIK"] = ""
    return {
        1: "invalid: not 16 digits",
        2: "invalid: unknown province code",
        3: "invalid: unknown kab/kota code",
        4: "invalid: unknown kecamatan code",
        5: "invalid: birth date digits are not a date",
        6: "invalid: disagrees with sex",
        7: "invalid: disagrees with birth date",
        8: "missing",
    }


def test_each_kind_of_bad_nik_is_kept_unkeyed_and_listed_with_its_reason(pdb, tmp_path):
    rows = register_rows(20)
    expected = _spoil(rows)
    rows[8]["TGL_LHR"] = "31-02-1990"  # unusable: a date that is not one
    rows[9]["KODE_DESA"] = "64.02.01.2999"  # unusable: an unknown desa
    result = load_file(_register(tmp_path, rows), "dukcapil_register", conn=pdb)
    assert (result["rows_landed"], result["rows_rejected"]) == (18, 2)
    assert (result["nik_invalid"], result["nik_missing"]) == (7, 1)
    status = dict(
        _one(
            pdb,
            "select row_number, nik_status from restricted.person_records"
            " where nik_key is null order by row_number",
        )
    )
    assert status == expected
    valid = _one(pdb, "select count(*) from restricted.person_records where nik_status = 'valid'")
    assert valid == [(10,)]
    rejects = _one(
        pdb,
        "select row_number, reason, nik_key is not null from raw.person_rejects order by 1",
    )
    assert rejects == [
        *[(n, f"NIK (nik): {s}", False) for n, s in expected.items() if s != "missing"],
        (9, "TGL_LHR (birth_date): not a date (DD-MM-YYYY, 1900 to 2099)", True),
        (10, "KODE_DESA (desa_code): unknown desa/kelurahan code", True),
    ]


def test_a_rerun_replaces_its_own_load_and_no_other(pdb, tmp_path):
    kukar = _register(tmp_path, register_rows(12))
    samarinda = _register(tmp_path, register_rows(8, districts=("64.72",)), district="6472")
    first = load_file(kukar, "dukcapil_register", conn=pdb)["load_id"]
    other = load_file(samarinda, "dukcapil_register", conn=pdb)["load_id"]
    rerun = load_file(kukar, "dukcapil_register", conn=pdb)
    assert rerun["replaced_loads"] == [first]
    loads = dict(_one(pdb, "select load_id, superseded_by from raw.loads order by 1"))
    assert loads == {first: rerun["load_id"], other: None, rerun["load_id"]: None}
    current = _one(
        pdb,
        "select load_id, district_code, count(*) from restricted.current_person_records"
        " group by 1, 2 order by 1",
    )
    assert current == [(other, "64.72", 8), (rerun["load_id"], "64.02", 12)]


def test_a_second_source_of_the_same_period_does_not_erase_the_first(pdb, tmp_path):
    rows = register_rows(10)
    load_file(_register(tmp_path, rows), "dukcapil_register", conn=pdb)
    dtsen = [
        {"NIK": r["NIK"], "NO_KK": r["NO_KK"], "NAMA": r["NAMA_LGKP"],
         "TGL_LAHIR": "-".join(reversed(r["TGL_LHR"].split("-"))),
         "JENIS_KELAMIN": r["JENIS_KLMIN"][0], "KODE_DESA": r["KODE_DESA"],
         "DESIL": str(1 + i % 10)}
        for i, r in enumerate(rows[:4])
    ]  # fmt: skip
    path = write_csv(tmp_path / "persons/dtsen_6402_2025-06.csv", DTSEN_HEADER, dtsen)
    result = load_file(path, "dtsen_individuals", conn=pdb)
    assert (result["rows_landed"], result["rows_rejected"], result["nik_invalid"]) == (4, 0, 0)
    current = _one(
        pdb,
        "select dataset, count(*), count(desil) from restricted.current_person_records"
        " group by 1 order by 1",
    )
    assert current == [("dtsen", 4, 4), ("register", 10, 0)]
    # the same people: the same keyed NIK in both sources
    linked = _one(
        pdb,
        "select count(*) from restricted.current_person_records d"
        " join restricted.current_person_records r on r.nik_key = d.nik_key"
        " and r.dataset = 'register' where d.dataset = 'dtsen'",
    )
    assert linked == [(4,)]


def test_no_nik_name_or_key_in_the_output_logs_or_raw_tables(pdb, warehouse, tmp_path):
    rows = register_rows(12)
    _spoil(rows)
    path = _register(tmp_path, rows)
    env = dict(
        os.environ,
        AIRFLOW_CONN_WAREHOUSE=warehouse.url(mask=False),
        CAKUPAN_PERSON_KEY=KEY,
        CAKUPAN_SOURCES_DIR=str(tmp_path),
    )
    run = subprocess.run(
        [sys.executable, "-m", "cakupan.cli", "-v", "load", str(path), "--contract",
         "dukcapil_register"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "load " in run.stdout and "read 12" in run.stdout
    secrets = [KEY] + [r["NIK"] for r in rows if r["NIK"]] + [r["NO_KK"] for r in rows]
    secrets += [r["NAMA_LGKP"] for r in rows] + [r["NAMA_LGKP"].title() for r in rows]
    raw_text = _one(
        pdb,
        "select string_agg(t::text, ' ') from (select l::text as t from raw.loads l union all"
        " select r::text from raw.person_rejects r union all select s::text from"
        " raw.load_scopes s) x",
    )[0][0]
    leaks = [s for s in secrets if s[:12] in run.stdout + run.stderr or s[:12] in raw_text]
    assert not leaks, f"{len(leaks)} personal values or the key found (not shown)"
    # nor as SQL text the server saw (what pg_stat_statements or a statement log would keep)
    queries = _one(pdb, "select string_agg(query, ' ') from pg_stat_activity")[0][0] or ""
    assert KEY not in queries


def test_the_landing_logs_nothing_personal(pdb, tmp_path, caplog):
    rows = register_rows(8)
    _spoil(rows)
    with caplog.at_level(logging.DEBUG):
        load_file(_register(tmp_path, rows), "dukcapil_register", conn=pdb)
    text = caplog.text
    assert "rows read" in text
    assert not [r for r in rows if r["NIK"] and r["NIK"][:12] in text]
    assert not [r for r in rows if r["NAMA_LGKP"] in text] and KEY not in text


def test_bi_reader_cannot_read_restricted(pdb, warehouse, tmp_path, monkeypatch):
    from cakupan.warehouse.roles import ensure_bi_role

    load_file(_register(tmp_path, register_rows(4)), "dukcapil_register", conn=pdb)
    monkeypatch.setenv("CAKUPAN_BI_PASSWORD", "bi-test-password-123")
    ensure_bi_role(pdb)
    bi = psycopg.connect(**warehouse.replace(user="bi_reader", password="bi-test-password-123")
                         .dsn_kwargs())  # fmt: skip
    try:
        for table in ("restricted.person_records", "restricted.person_records_64_02",
                      "restricted.current_person_records", "raw.person_rejects"):  # fmt: skip
            with pytest.raises(errors.InsufficientPrivilege), bi.cursor() as cur:
                cur.execute(f"select count(*) from {table}")
            bi.rollback()
    finally:
        bi.close()


MEMBERSHIP_HEADER = [
    "NO_KARTU", "NIK", "NAMA", "TGL_LAHIR", "JENIS_KELAMIN", "SEGMEN", "STATUS_PESERTA",
    "KETERANGAN", "TMT", "FASKES_TK1", "KODE_DESA",
]  # fmt: skip


def test_a_membership_master_keys_cards_and_maps_its_codes(pdb, tmp_path):
    people = register_rows(6)
    segments = ["PBI APBN", "PD PEMDA", "PPU", "PBPU", "BP", "MANDIRI"]  # the last: unknown
    rows = [
        {"NO_KARTU": f"000{1234567890 + i}", "NIK": p["NIK"], "NAMA": p["NAMA_LGKP"],
         "TGL_LAHIR": "-".join(reversed(p["TGL_LHR"].split("-"))),
         "JENIS_KELAMIN": p["JENIS_KLMIN"][0], "SEGMEN": segments[i],
         "STATUS_PESERTA": "NON AKTIF" if i % 2 else "AKTIF",
         "KETERANGAN": "MENUNGGAK IURAN" if i % 2 else "", "TMT": "2014-01-01",
         "FASKES_TK1": "PUSKESMAS TENGGARONG", "KODE_DESA": p["KODE_DESA"]}
        for i, p in enumerate(people)
    ]  # fmt: skip
    rows.append(dict(rows[0], NO_KARTU=""))  # no card: unusable
    path = write_csv(tmp_path / "persons/bpjs_peserta_6402_2025-06.csv", MEMBERSHIP_HEADER, rows)
    result = load_file(path, "bpjs_membership_master", conn=pdb)
    assert (result["rows_landed"], result["rows_rejected"]) == (5, 2)
    got = _one(
        pdb,
        "select segment, active, inactive_reason is not null, card_key, registered_on::text"
        " from restricted.person_records order by row_number",
    )
    assert [g[:3] for g in got] == [
        ("PBI APBN", True, False), ("PBI APBD", False, True), ("PPU", True, False),
        ("PBPU", False, True), ("BP", True, False),
    ]  # fmt: skip
    assert [g[3] for g in got] == [_keyed(r["NO_KARTU"]) for r in rows[:5]]
    assert {g[4] for g in got} == {"2014-01-01"}
    reasons = [r for (r,) in _one(pdb, "select reason from raw.person_rejects order by 1")]
    assert reasons == [
        "NO_KARTU (card_no): required but empty",
        "SEGMEN (segment): not one of the contract's values",
    ]


def test_a_wbp_workbook_lands_its_date_cells_and_home_districts(pdb, tmp_path):
    import datetime as dt

    import xlsxwriter

    people = register_rows(3)
    path = tmp_path / "persons/wbp_6402_2025-06.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("WBP")
    header = ["NO", "NIK", "NAMA", "JENIS_KELAMIN", "TANGGAL_LAHIR", "ALAMAT_ASAL",
              "KODE_DESA_ASAL", "NAMA_UPT"]  # fmt: skip
    sheet.write_row(0, 0, header)
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    homes = [p["KODE_DESA"] for p in people[:2]] + ["31.71.01.1001"]  # Jakarta: not listed
    for i, p in enumerate(people, start=1):
        birth = dt.datetime.strptime(p["TGL_LHR"], "%d-%m-%Y")
        sheet.write_row(i, 0, [i, p["NIK"], p["NAMA_LGKP"], p["JENIS_KLMIN"][0]])
        sheet.write_datetime(i, 4, birth, dates)
        sheet.write_row(i, 5, [p["ALAMAT"], homes[i - 1], "RUTAN KELAS IIA TENGGARONG"])
    book.close()
    result = load_file(path, "wbp_list", conn=pdb)
    assert (result["rows_landed"], result["rows_rejected"], result["nik_invalid"]) == (3, 0, 0)
    assert result["districts"] == {"64.02": 2, "31.71": 1}
    got = _one(
        pdb,
        "select row_number, district_code, kecamatan_code, birth_date::text, facility"
        " from restricted.person_records order by row_number",
    )
    births = [dt.datetime.strptime(p["TGL_LHR"], "%d-%m-%Y").date().isoformat() for p in people]
    assert [g[3] for g in got] == births
    assert [g[:3] for g in got] == [
        (1, "64.02", "64.02.01"), (2, "64.02", "64.02.01"), (3, "31.71", "31.71.01"),
    ]  # fmt: skip


def test_removing_a_person_load_deletes_its_rows_and_brings_back_the_one_it_replaced(pdb, tmp_path):
    from cakupan.landing.removal import remove_loads

    rows = register_rows(10)
    rows[0]["NIK"] = rows[0]["NIK"][:10]  # listed in the rejects of each load
    path = _register(tmp_path, rows)
    first = load_file(path, "dukcapil_register", conn=pdb)["load_id"]
    second = load_file(path, "dukcapil_register", conn=pdb)["load_id"]
    with pdb.cursor() as cur:
        remove_loads(cur, [second])
    pdb.commit()
    left = _one(pdb, "select load_id, count(*) from restricted.person_records group by 1")
    assert left == [(first, 10)]
    assert _one(pdb, "select distinct load_id from restricted.current_person_records") == [(first,)]
    assert _one(pdb, "select load_id, row_number from raw.person_rejects") == [(first, 1)]


def test_a_nik_born_on_29_february_needs_a_leap_year(pdb, tmp_path):
    """The NIK's date is looked up by its DDMM; 29 February also asks its YY (2000-2099 read)."""
    rows = register_rows(6)
    for row, (born, sex) in zip(rows, [("1996-02-29", "P"), ("2000-02-29", "L")], strict=False):
        birth = dt.date.fromisoformat(born)
        row["NIK"] = nik_for(row["KODE_DESA"], birth, sex, 7)
        row["JENIS_KLMIN"] = "PEREMPUAN" if sex == "P" else "LAKI-LAKI"
        row["TGL_LHR"] = birth.strftime("%d-%m-%Y")
    rows[4]["TGL_LHR"] = "29-02-1900"  # the record's own date: 1900 was not a leap year
    rows[5]["TGL_LHR"] = "29-02-2004"  # a year apart from its day and month: still the NIK's
    for row, ddmmyy in zip(rows[2:4], ["290297", "690201"], strict=True):
        row["NIK"] = row["NIK"][:6] + ddmmyy + row["NIK"][12:]
        row["TGL_LHR"] = ""  # no birth date to disagree with: the digits alone are checked
        row["JENIS_KLMIN"] = "PEREMPUAN" if ddmmyy.startswith("69") else "LAKI-LAKI"
    load_file(_register(tmp_path, rows), "dukcapil_register", conn=pdb)
    status = _one(pdb, "select row_number, nik_status from restricted.person_records order by 1")
    assert status == [
        (1, "valid"),
        (2, "valid"),
        (3, "invalid: birth date digits are not a date"),
        (4, "invalid: birth date digits are not a date"),
        (6, "invalid: disagrees with birth date"),
    ]
    rejects = _one(pdb, "select row_number, reason from raw.person_rejects order by 1")
    assert rejects == [
        (3, "NIK (nik): invalid: birth date digits are not a date"),
        (4, "NIK (nik): invalid: birth date digits are not a date"),
        (5, "TGL_LHR (birth_date): not a date (DD-MM-YYYY, 1900 to 2099)"),
        (6, "NIK (nik): invalid: disagrees with birth date"),
    ]


def test_a_row_wider_than_its_header_mid_file_reads_the_file_row_by_row(
    pdb, tmp_path, monkeypatch, caplog
):
    """polars refuses a row wider than the header only when it reaches it, in a file of some
    size after batches the COPY has already streamed: those are rolled back to the savepoint
    and the whole file is read again by the source reader, each row once."""
    from cakupan.landing import person_frame, persons

    monkeypatch.setattr(person_frame, "BATCH", 1000)
    rows = 20_000
    path = _register(tmp_path, register_rows(rows))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[rows - 10] += ",EXTRA"  # data row 19,990
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sent, abandoned = [], []
    send, abandon = persons._Writer._send, persons._Writer.abandon
    monkeypatch.setattr(persons._Writer, "_send", lambda w, kept: [sent.append(kept.height),
                                                                    send(w, kept)])  # fmt: skip
    monkeypatch.setattr(persons._Writer, "abandon", lambda w: [abandoned.append(sum(sent)),
                                                                abandon(w)])  # fmt: skip
    with caplog.at_level(logging.INFO, logger="cakupan.landing.persons"):
        result = load_file(path, "dukcapil_register", conn=pdb)
    assert "read row by row" in caplog.text
    assert abandoned and abandoned[0] > 0  # the COPY had rows when polars refused the file
    assert (result["rows_read"], result["rows_landed"], result["rows_rejected"]) == (
        rows,
        rows,
        0,
    )
    counts = _one(
        pdb, "select count(*), count(distinct row_number), max(row_number) from"
        " restricted.person_records"
    )  # fmt: skip
    assert counts == [(rows, rows, rows)]
    loads = _one(pdb, "select status, rows_landed, source_sha256 is not null from raw.loads")
    assert loads == [("succeeded", rows, True)]


def _load_after_a_warehouse_of_before(pdb, tmp_path, before: str) -> None:
    """A register of 5 rows loaded, the warehouse turned back by the statement `before`, then a
    register of 7 rows loaded (it supersedes the first)."""
    load_file(_register(tmp_path, register_rows(5)), "dukcapil_register", conn=pdb)
    with pdb.cursor() as cur:
        cur.execute(before)
    pdb.commit()
    result = load_file(_register(tmp_path, register_rows(7)), "dukcapil_register", conn=pdb)
    assert result["rows_landed"] == 7


def test_a_person_records_table_of_before_loses_its_primary_key(pdb, tmp_path):
    """A warehouse made when `person_records` had a primary key (its index slowed every load):
    the next load drops it and lands its rows."""
    _load_after_a_warehouse_of_before(
        pdb,
        tmp_path,
        "alter table restricted.person_records"
        " add constraint person_records_pkey primary key (district_code, record_id)",
    )
    keys = _one(
        pdb,
        "select count(*) from pg_constraint"
        " where conrelid = 'restricted.person_records'::regclass and contype = 'p'",
    )
    assert keys == [(0,)]


def test_a_person_records_table_of_before_loses_the_columns_of_its_load(pdb, tmp_path):
    """A warehouse made when each record repeated its load's dataset, source and period: the
    next load drops those columns (its records take them from their load's scope) and lands."""
    _load_after_a_warehouse_of_before(
        pdb,
        tmp_path,
        "drop view restricted.current_person_records;"
        " alter table restricted.person_records add column dataset text not null"
        " default 'register', add column source text not null default 'dukcapil_register',"
        " add column period date not null default '2025-06-01';"
        " create view restricted.current_person_records as select records.*"
        " from restricted.person_records as records"
        " join raw.loads as loads on loads.load_id = records.load_id"
        " where loads.status = 'succeeded' and loads.superseded_by is null",
    )
    left = _one(
        pdb,
        "select attname from pg_attribute where attrelid = 'restricted.person_records'::regclass"
        " and attname in ('dataset', 'source', 'period') and not attisdropped",
    )
    assert left == []
    current = _one(
        pdb,
        "select dataset, source, period, count(*) from restricted.current_person_records"
        " group by 1, 2, 3",
    )
    assert current == [("register", "dukcapil_register", dt.date(2025, 6, 1), 7)]
