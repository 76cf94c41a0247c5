"""Loads are manageable, on a real PostgreSQL: a load a crash interrupts (its process killed,
its session ended by the server, the server restarted) is marked failed by the next load or
`cakupan loads list`, with its landed copy dropped; a lost connection is reported with the
server's words; `cakupan loads list` filters; `cakupan loads remove` takes a load's rows,
rejects and landed copy out in one transaction and records it in the load log.

A load is paused deterministically in its acceptance: the test holds the advisory lock on the
raw table's name that every acceptor takes first (`landing/load.py`, `_accept`), so the
`cakupan load` subprocess waits on it with its load `landed` and its landed copy in `raw`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from cakupan.cli import main
from cakupan.landing.raw import record_failure
from cakupan.pipeline import load_file
from psycopg import sql

pytestmark = pytest.mark.integration

CAKUPAN = [sys.executable, "-m", "cakupan.cli"]
HEADER = "KODE_WILAYAH;NAMA_WILAYAH;LAKI_LAKI;PEREMPUAN;JUMLAH_PENDUDUK\n"
ROWS = "33.75;Kota Pekalongan;160000;156933;316933\n33.25;Kabupaten Batang;415000;413576;828576\n"
RAW_TABLE = "raw.dukcapil_residents"


def _write(sources: Path, name: str, body: str = ROWS) -> Path:
    path = sources / "dukcapil" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\ufeff" + HEADER + body, encoding="utf-8")
    return path


def _one(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        row = cur.fetchone()
    conn.commit()
    return row[0] if row is not None and len(row) == 1 else row


def _env(params, sources: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["AIRFLOW_CONN_WAREHOUSE"] = params.url(mask=False)
    env["CAKUPAN_SOURCES_DIR"] = str(sources)
    return env


def _cakupan(env, *args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CAKUPAN, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _landed_tables(conn) -> int:
    return _one(
        conn,
        "select count(*) from pg_tables where schemaname = 'raw'"
        " and tablename like 'dukcapil_residents\\_\\_l%%'",
    )


def _wait(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class PausedLoad:
    """`cakupan load FILE` in a subprocess, held in its acceptance by the raw table's lock."""

    def __init__(self, params, sources: Path, path: Path):
        self.params = params
        self.blocker = psycopg.connect(**params.dsn_kwargs())
        self.blocker.autocommit = True
        with self.blocker.cursor() as cur:  # held until release(): the acceptor waits on it
            cur.execute("select pg_advisory_lock(hashtext(%s))", (RAW_TABLE,))
        self.held = True
        self.process = subprocess.Popen(
            [*CAKUPAN, "load", str(path)],
            env=_env(params, sources),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.pid = _wait(self._waiting_backend, "the load to wait in its acceptance")

    def _waiting_backend(self):
        assert self.process.poll() is None, self.process.communicate()
        return _one(
            self.blocker,
            "select pid from pg_stat_activity where application_name = 'cakupan-load'"
            " and datname = current_database() and wait_event_type = 'Lock'",
        )

    def release(self) -> None:
        if self.held and not self.blocker.closed:
            with self.blocker.cursor() as cur:
                cur.execute("select pg_advisory_unlock(hashtext(%s))", (RAW_TABLE,))
        self.held = False

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.release()
        self.blocker.close()


# what the server says to a session it ends (pg_terminate_backend, a fast shutdown), which the
# CLI must pass on instead of what the dead connection says when used again
SERVER_WORDS = "terminating connection due to administrator command"


@pytest.fixture()
def sources(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    return tmp_path


def test_a_load_killed_during_acceptance_is_marked_failed_by_the_next_listing(
    db, warehouse, sources
):
    path = _write(sources, "penduduk_kabkota_2023_s1.csv")
    paused = PausedLoad(warehouse, sources, path)
    try:
        load_id, status = _one(db, "select load_id, status from raw.loads")
        assert status == "landed" and _landed_tables(db) == 1
        # alive, though waiting: the listing leaves it alone
        listing = _cakupan(_env(warehouse, sources), "loads", "list")
        assert listing.returncode == 0, listing.stderr
        assert re.search(rf"^\s*{load_id}\s.*\slanded\s", listing.stdout, re.MULTILINE)
        assert _one(db, "select status from raw.loads") == "landed"

        paused.process.kill()  # SIGKILL: no except, no finally runs in the loader
        paused.process.wait()
        # its backend, still waiting for the lock, checks every 10 s that its client is there
        # (client_connection_check_interval, PostgreSQL 14+) and ends; on an older server it
        # ends once it gets the lock and finds its client gone
        if _one(db, "select current_setting('server_version_num')::int") < 140000:
            paused.release()
        _wait(lambda: _one(db, "select count(*) from pg_stat_activity"
                                " where pid = %s", paused.pid) == 0,
              "the killed load's backend to end", timeout=60)  # fmt: skip
        assert _one(db, "select status from raw.loads") == "landed"  # nobody noticed yet
    finally:
        paused.close()

    listing = _cakupan(_env(warehouse, sources), "loads", "list")
    assert listing.returncode == 0, listing.stderr
    assert f"load {load_id} was interrupted" in listing.stdout
    assert re.search(rf"^\s*{load_id}\s.*\sfailed\s", listing.stdout, re.MULTILINE)
    status, error, finished = _one(
        db, "select status, error, finished_at is not null from raw.loads where load_id = %s",
        load_id,
    )  # fmt: skip
    assert (status, finished) == ("failed", True)
    assert error.startswith("interrupted: the loading process or its warehouse connection ended")
    assert _landed_tables(db) == 0
    assert _one(db, "select count(*) from raw.landed_sheets") == 0
    assert _one(db, "select to_regclass('raw.dukcapil_residents')") is None  # nothing accepted

    again = load_file(path, conn=db)  # the file loads as if nothing had happened
    assert again["rows_landed"] == 2
    assert _one(db, "select count(*) from raw.loads where status = 'landed'") == 0


def test_the_next_load_recovers_an_interrupted_one(db, sources):
    """Without `cakupan loads list`: the next load of any file finds it."""
    with db.cursor() as cur:  # a load whose session is gone: `landed`, its lock free
        first = load_file(_write(sources, "penduduk_kabkota_2022_s1.csv"), conn=db)
        cur.execute(
            "insert into raw.loads (source, raw_table, source_file, status, started_at)"
            " values ('dukcapil_residents', %s, 'dukcapil/x.csv', 'landed', now())"
            " returning load_id",
            (RAW_TABLE,),
        )
        orphan = cur.fetchone()[0]
        cur.execute(sql.SQL("create table raw.{} (x int)").format(
            sql.Identifier(f"dukcapil_residents__l{orphan}_0")))  # fmt: skip
        cur.execute(
            "insert into raw.landed_sheets values (%s, 0, null, %s, 1, false, '[]', 0)",
            (orphan, f"dukcapil_residents__l{orphan}_0"),
        )
    db.commit()
    second = load_file(_write(sources, "penduduk_kabkota_2022_s2.csv"), conn=db)
    assert second["rows_landed"] == 2
    assert _one(db, "select status from raw.loads where load_id = %s", orphan) == "failed"
    assert _one(db, "select to_regclass(%s)", f"raw.dukcapil_residents__l{orphan}_0") is None
    # the earlier, finished loads keep their landed copies (acceptance reads them)
    assert _one(db, "select count(*) from raw.landed_sheets where load_id = any(%s)",
                [first["load_id"], second["load_id"]]) == 2  # fmt: skip


def test_a_terminated_session_is_reported_with_the_servers_words(db, warehouse, sources):
    path = _write(sources, "penduduk_kabkota_2023_s2.csv")
    paused = PausedLoad(warehouse, sources, path)
    try:
        assert _one(db, "select pg_terminate_backend(%s)", paused.pid) is True
        _, stderr = paused.process.communicate(timeout=60)
    finally:
        paused.close()
    assert paused.process.returncode == 1
    assert SERVER_WORDS in stderr, stderr
    assert "dukcapil/penduduk_kabkota_2023_s2.csv" in stderr
    assert "the warehouse connection was lost during load" in stderr
    assert "connection already closed" not in stderr
    listing = _cakupan(_env(warehouse, sources), "loads", "list", "--status", "failed")
    assert "was interrupted" in listing.stdout and _landed_tables(db) == 0


@pytest.fixture()
def own_server():
    """An embedded PostgreSQL of this test's own, to restart under a load."""
    import shutil
    import tempfile

    from cakupan.warehouse import embedded
    from cakupan.warehouse.connection import WarehouseParams

    root = Path(tempfile.mkdtemp(prefix="cakupan-pgrestart-"))
    root.chmod(0o755)  # the server runs as its own system user when the tests run as root
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = embedded.start(embedded.Embedded(root / "pgdata", port, root / "pg_password"))
    params = WarehouseParams.of(
        host="127.0.0.1",
        port=port,
        user=embedded.SUPERUSER,
        password=server.password(),
        dbname=embedded.DATABASE,
    )
    yield server, params
    embedded.stop(server)
    shutil.rmtree(root, ignore_errors=True)


def test_a_server_restart_under_a_load_is_reported_and_recovered(own_server, sources):
    from cakupan.warehouse import embedded

    server, params = own_server
    path = _write(sources, "penduduk_kabkota_2025_s2.csv")
    paused = PausedLoad(params, sources, path)
    try:
        load_id = _one(paused.blocker, "select load_id from raw.loads where status = 'landed'")
        embedded.stop(server)  # a fast shutdown: every session is ended
        paused.held = False  # the blocker's session went with it
        _, stderr = paused.process.communicate(timeout=60)
    finally:
        paused.close()
    assert paused.process.returncode == 1
    assert "the warehouse connection was lost during load" in stderr, stderr
    assert SERVER_WORDS in stderr and "connection already closed" not in stderr

    embedded.start(server)
    listing = _cakupan(_env(params, sources), "loads", "list")
    assert listing.returncode == 0, listing.stderr
    assert f"load {load_id} was interrupted" in listing.stdout
    conn = psycopg.connect(**params.dsn_kwargs())
    try:
        assert _one(conn, "select status from raw.loads where load_id = %s", load_id) == "failed"
        assert _landed_tables(conn) == 0
    finally:
        conn.close()


def test_list_filters_by_source_period_file_and_status(db, warehouse, sources, capsys,
                                                      monkeypatch):  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    a = load_file(_write(sources, "penduduk_kabkota_2021_s1.csv"), conn=db)["load_id"]
    b = load_file(_write(sources, "penduduk_kabkota_2021_s2.csv"), conn=db)["load_id"]
    c = load_file(_write(sources, "penduduk_kabkota_2022_s2.csv"), conn=db)["load_id"]
    now = dt.datetime.now(dt.UTC)
    broken = "dukcapil/penduduk_kabkota_2020_s1.csv"
    record_failure(db, "dukcapil_residents", RAW_TABLE, broken, None, None, None, now,
                   OSError("disk went away"))  # fmt: skip
    failed = _one(db, "select max(load_id) from raw.loads where status = 'failed'")

    def listed(*args) -> list[int]:
        capsys.readouterr()
        assert main(["loads", "list", *args]) == 0
        out = capsys.readouterr().out
        return [int(m[1]) for m in re.finditer(r"^\s*(\d+)\s", out, re.MULTILINE)]

    assert listed() == [failed, c, b, a]  # newest first
    assert listed("--limit", "2") == [failed, c]
    assert listed("--period", "2021") == [b, a]
    assert listed("--period", "2021-07") == [b]
    assert listed("--period", "2021-s1") == [a]
    assert listed("--file", "dukcapil/penduduk_kabkota_2022_s2.csv") == [c]
    assert listed("--file", str(sources / "dukcapil" / "penduduk_kabkota_2021_s1.csv")) == [a]
    assert listed("--file", "2021_s") == [b, a]  # part of a path
    assert listed("--status", "failed") == [failed]
    assert listed("--source", "dukcapil_residents", "--status", "succeeded") == [c, b, a]
    assert listed("--source", "bps_population") == []
    assert main(["loads"]) == 0  # `cakupan loads` alone lists too
    assert main(["loads", "list", "--period", "2021-13"]) == 2


def test_remove_by_id_and_by_file(db, warehouse, sources, capsys, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    keep = load_file(_write(sources, "penduduk_kabkota_2024_s1.csv"), conn=db)["load_id"]
    bad_rows = ROWS + "99.99;Negeri Antah;1;1;2\n"
    by_id = load_file(_write(sources, "penduduk_kabkota_2024_s2.csv", bad_rows), conn=db)
    by_file = load_file(_write(sources, "penduduk_kabkota_2025_s1.csv", bad_rows), conn=db)
    assert by_id["rows_rejected"] == 1 and _landed_tables(db) == 3
    rows = "select count(*) from raw.dukcapil_residents where _load_id = %s"
    rejects = "select count(*) from raw.rejects where _load_id = %s"

    # a dry run and an unknown load change nothing
    assert main(["loads", "remove", str(by_id["load_id"]), "--dry-run"]) == 0
    assert "would remove load" in capsys.readouterr().out
    assert main(["loads", "remove", str(by_id["load_id"]), "999999"]) == 1
    assert "no load 999999" in capsys.readouterr().err
    assert _one(db, rows, by_id["load_id"]) == 2 and _one(db, rejects, by_id["load_id"]) == 1

    assert main(["loads", "remove", str(by_id["load_id"])]) == 0
    out = capsys.readouterr().out
    assert (
        f"removed load {by_id['load_id']} (dukcapil_residents,"
        " dukcapil/penduduk_kabkota_2024_s2.csv, was succeeded): 2 rows from"
        " raw.dukcapil_residents, 1 rejects, 1 landed table(s)"
    ) in out
    assert "cakupan transform" in out
    assert main(["loads", "remove", "--file", "dukcapil/penduduk_kabkota_2025_s1.csv"]) == 0
    assert f"removed load {by_file['load_id']} " in capsys.readouterr().out

    for load in (by_id, by_file):
        assert _one(db, rows, load["load_id"]) == 0 and _one(db, rejects, load["load_id"]) == 0
        status, when, who = _one(
            db, "select status, removed_at is not null, removed_by from raw.loads"
            " where load_id = %s", load["load_id"],
        )  # fmt: skip
        assert (status, when) == ("removed", True)
        assert who.endswith(f" as {warehouse.user}") or who == warehouse.user
    assert _one(db, rows, keep) == 2 and _landed_tables(db) == 1  # the other load stays whole

    assert main(["loads", "remove", str(by_id["load_id"])]) == 0
    assert f"load {by_id['load_id']} was removed before" in capsys.readouterr().out
    assert main(["loads", "remove", "--file", "dukcapil/penduduk_kabkota_2025_s1.csv"]) == 1
    assert "no current load of this file" in capsys.readouterr().err
    assert main(["loads", "list", "--status", "removed"]) == 0
    assert re.search(r"removed \d{4}-\d\d-\d\d .* by ", capsys.readouterr().out)


def test_removing_the_newer_load_of_a_file_brings_the_earlier_one_back(
    db, warehouse, sources, capsys, monkeypatch
):
    """A rerun of a file supersedes the earlier load; removing the rerun makes the earlier
    load current again (its rows never left `raw`), and the command says so."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    first = load_file(_write(sources, "penduduk_kabkota_2023_s1.csv"), conn=db)["load_id"]
    changed = ROWS.replace("316933", "317000").replace("156933", "157000")
    second = load_file(_write(sources, "penduduk_kabkota_2023_s1.csv", changed), conn=db)
    current = "select superseded_by from raw.loads where load_id = %s"
    assert _one(db, current, first) == second["load_id"]

    assert main(["loads", "remove", str(second["load_id"])]) == 0
    assert f"load {first}, which they had superseded, is current again" in capsys.readouterr().out
    assert _one(db, current, first) is None
    assert _one(db, "select status from raw.loads where load_id = %s", second["load_id"]) == (
        "removed"
    )
    residents = (
        "select residents from raw.dukcapil_residents where _load_id = %s"
        " and _region_code = '33.75'"
    )
    assert _one(db, residents, first) == 316933
    assert _one(db, "select count(*) from raw.dukcapil_residents where _load_id = %s",
                second["load_id"]) == 0  # fmt: skip
    observations = "select count(*) from raw.observations where load_id = %s"  # it feeds them
    assert _one(db, observations, second["load_id"]) == 0
    assert _one(db, observations, first) == 6  # 2 districts x men, women, all


# ---------------------------------------------------------------- the facts after a removal

FACTS = {
    "marts.fct_coverage_district_month": "district_code, month",
    "marts.fct_coverage_province_month": "province_code, month",
    "marts.fct_coverage_national_month": "month",
    "marts.fct_coverage_group_month": "district_code, month, population_group_code",
}
SEGMENTS = ("pbi_apbn", "pbi_apbd", "ppu_pn", "ppu_bu", "pbpu", "bp")


@pytest.fixture(scope="module")
def two_months(pg_server, clean_env, tmp_path_factory):
    """A warehouse of its own with the demo's last two months (2025-11, 2025-12) built: the
    session's warehouse is shared with modules that expect every load they made."""
    name = f"cakupan_test_loads_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(**pg_server.dsn_kwargs())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    params = pg_server.replace(dbname=name)
    tmp = tmp_path_factory.mktemp("loads")
    env = {
        **clean_env,
        "AIRFLOW_CONN_WAREHOUSE": params.url(mask=False),
        "CAKUPAN_SOURCES_DIR": str(tmp / "sources"),
        "DBT_TARGET_PATH": str(tmp / "target"),  # the project's target/ is what Cosmos reads
    }
    demo = _cakupan(env, "demo", "--from-month", "2025-11", timeout=1200)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    conn = psycopg.connect(**params.dsn_kwargs())
    yield {"env": env, "conn": conn, "sources": tmp / "sources"}
    conn.close()
    with admin.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
        )
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
    admin.close()


def _checksums(conn, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """Per fact, a digest of its rows in key order, without the columns naming loads."""
    sums = {}
    for table, order in FACTS.items():
        schema, name = table.split(".")
        with conn.cursor() as cur:
            cur.execute(
                "select string_agg(quote_ident(column_name), ', ' order by ordinal_position)"
                " from information_schema.columns where table_schema = %s and table_name = %s"
                " and column_name not like '%%load_id%%' and column_name <> 'inputs_fingerprint'",
                (schema, name),
            )
            columns = cur.fetchone()[0]
            cur.execute(
                f"select md5(string_agg(r::text, '|' order by {order}))"  # noqa: S608 - constants
                f" from (select {columns} from {table}) as r"
            )
            sums[table] = cur.fetchone()[0]
    conn.commit()
    return sums


def test_removing_a_month_and_transforming_leaves_the_facts_as_the_remaining_sources_say(
    two_months,
):
    """The month's membership load removed, `cakupan transform` (incremental) drops the month
    from the district, province and national facts and its JKN segments from the group fact
    (the groups other sources report for it stay), exactly as a full refresh would; loading the
    file again brings back the facts as they were."""
    env, conn = two_months["env"], two_months["conn"]
    december = "select count(*) from {} where month = date '2025-12-01'"
    before = _checksums(conn)
    november = _one(conn, december.replace("12-01", "11-01").format(
        "marts.fct_coverage_district_month"))  # fmt: skip
    assert november == 514 and _one(conn, december.format("marts.fct_coverage_district_month"))

    removed = _cakupan(env, "loads", "remove", "--file", "bpjs/rekap_peserta_jkn_2025_12.xlsx")
    assert removed.returncode == 0, removed.stderr
    assert "514 rows from raw.bpjs_membership" in removed.stdout
    transform = _cakupan(env, "transform", timeout=900)
    assert transform.returncode == 0, transform.stdout[-3000:]

    for table in list(FACTS)[:3]:
        assert _one(conn, december.format(table)) == 0, table
    groups = "select count(*) from marts.fct_coverage_group_month where month = '2025-12-01'"
    assert _one(conn, groups + " and population_group_code = any(%s)", list(SEGMENTS)) == 0
    assert _one(conn, groups + " and population_group_code = 'sex_female'") == 514
    november_rows = "select count(*) from marts.fct_coverage_district_month where month = %s"
    assert _one(conn, november_rows, "2025-11-01") == 514
    status, current, removed_at = _one(
        conn, "select status, is_current, removed_at is not null from dq.dq_loads"
        " where source_location = 'bpjs/rekap_peserta_jkn_2025_12.xlsx'",
    )  # fmt: skip
    assert (status, current, removed_at) == ("removed", False, True)

    incremental = _checksums(conn)
    full = _cakupan(env, "transform", "--full-refresh", timeout=900)
    assert full.returncode == 0, full.stdout[-3000:]
    assert _checksums(conn) == incremental

    again = _cakupan(
        env, "load", str(two_months["sources"] / "bpjs/rekap_peserta_jkn_2025_12.xlsx")
    )
    assert again.returncode == 0, again.stderr
    transform = _cakupan(env, "transform", timeout=900)
    assert transform.returncode == 0, transform.stdout[-3000:]
    assert _checksums(conn) == before


# ---------------------------------------------------------------- the DAGs: fail fast or retry


@pytest.fixture()
def load_task(db, warehouse, monkeypatch):
    """The ingest DAGs' `load` task (cakupan_membership's), whose python callable is what
    Airflow runs, connected through the Airflow connection `warehouse` to the test database.
    What Airflow does with the outcome is its own documented rule: AirflowFailException fails
    the task without its retries; any other exception is retried (`retries` of DEFAULT_ARGS).
    """
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    import cakupan_membership

    task = cakupan_membership.dag.get_task("load")
    assert task.retries == 3
    return task


def _zip_bomb(path: Path) -> Path:
    """A small workbook whose zip directory declares 4 GB uncompressed per entry."""
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>" + " " * 5000)
        archive.writestr("xl/workbook.xml", "<workbook/>" + " " * 5000)
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        data[pos + 24 : pos + 28] = (0xFFFF0000).to_bytes(4, "little")
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))
    return path


def test_a_file_fault_fails_the_dag_task_at_once(load_task, sources):
    from airflow.sdk.exceptions import AirflowFailException

    bomb = _zip_bomb(sources / "bpjs" / "rekap_peserta_jkn_2024_01.xlsx")
    with pytest.raises(AirflowFailException, match=r"zip bomb refused.*not retried") as info:
        load_task.python_callable({"contract": "bpjs_membership", "path": str(bomb)})
    assert "rekap_peserta_jkn_2024_01.xlsx" in str(info.value)

    missing = sources / "dukcapil" / "penduduk_kabkota_2024_s1.csv"
    missing.parent.mkdir(parents=True, exist_ok=True)
    missing.write_text("KODE_WILAYAH;NAMA_WILAYAH;LAKI_LAKI\n33.75;Kota Pekalongan;160000\n")
    with pytest.raises(AirflowFailException, match="penduduk_kabkota_2024_s1.csv") as info:
        load_task.python_callable({"contract": "dukcapil_residents", "path": str(missing)})
    assert "residents" in str(info.value) and "not retried" in str(info.value)


def test_a_lost_connection_is_left_to_the_dag_tasks_retries(load_task, db, warehouse, sources):
    import threading

    from airflow.sdk.exceptions import AirflowFailException
    from cakupan.warehouse import WarehouseConnectionLost

    path = _write(sources, "penduduk_kabkota_2024_s2.csv")
    blocker = psycopg.connect(**warehouse.dsn_kwargs())
    blocker.autocommit = True
    watcher = psycopg.connect(**warehouse.dsn_kwargs())
    watcher.autocommit = True

    def terminate_when_waiting() -> None:
        waiting = (
            "select pg_terminate_backend(pid) from pg_stat_activity where wait_event_type ="
            " 'Lock' and application_name = 'cakupan_membership.load'"
        )
        _wait(lambda: _one(watcher, waiting), "the task's load to wait in its acceptance")

    with blocker.cursor() as cur:
        cur.execute("select pg_advisory_lock(hashtext(%s))", (RAW_TABLE,))
    thread = threading.Thread(target=terminate_when_waiting)
    thread.start()
    try:
        with pytest.raises(WarehouseConnectionLost) as info:
            load_task.python_callable({"contract": "dukcapil_residents", "path": str(path)})
    finally:
        thread.join()
        blocker.close()
        watcher.close()
    assert not isinstance(info.value, AirflowFailException)
    assert SERVER_WORDS in str(info.value)
    # the retry finds the interrupted try, marks it failed, and loads the file
    result = load_task.python_callable({"contract": "dukcapil_residents", "path": str(path)})
    assert result["rows_landed"] == 2
    assert _one(db, "select count(*) from raw.loads where error like 'interrupted:%%'") == 1


def test_in_a_real_airflow_run_a_file_fault_fails_at_once_and_a_lost_warehouse_is_retried(
    warehouse, clean_env, sources, monkeypatch, tmp_path
):
    """`airflow dags test cakupan_membership` (Airflow's own task runner, as the scheduler's
    workers run it): the month's file a zip bomb, its `load` task goes from running to `failed`
    on its first try; the warehouse unreachable instead, it goes to `up_for_retry` (the run is
    stopped there: the retry waits for its delay)."""
    import signal

    from cakupan import airflow_local

    _zip_bomb(sources / "bpjs" / "rekap_peserta_jkn_2024_01.xlsx")
    monkeypatch.setenv("AIRFLOW_HOME", clean_env["AIRFLOW_HOME"])
    monkeypatch.setenv("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")  # the state changes
    env = airflow_local.airflow_env(warehouse.airflow_value())
    airflow_local.ensure_db(env)
    cmd = [airflow_local.airflow_bin(), "dags", "test", "cakupan_membership", "2024-01-01", "-c",
           '{"from_month": "2024-01", "to_month": "2024-01"}']  # fmt: skip

    fault = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    log = fault.stdout + fault.stderr
    assert fault.returncode != 0
    assert "zip bomb refused" in log and "(a fault of the file: not retried)" in log
    assert "new_state=failed" in log and "up_for_retry" not in log, log[-3000:]

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env["AIRFLOW_CONN_WAREHOUSE"] = warehouse.replace(port=str(port)).airflow_value()
    out = tmp_path / "transient.log"
    with open(out, "w") as sink:
        run = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip
    try:
        retrying = lambda: "new_state=up_for_retry" in out.read_text(errors="replace")  # noqa: E731
        _wait(lambda: retrying() or run.poll() is not None, "the retry", timeout=300)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    log = out.read_text(errors="replace")
    assert "new_state=up_for_retry" in log, log[-3000:]
    assert "cannot connect to the warehouse" in log and "not retried" not in log
