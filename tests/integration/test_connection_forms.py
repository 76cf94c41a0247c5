"""Every connection form libpq accepts runs the warehouse, and a broken one fails first, clearly.

A PostgreSQL of this module's own, with the authentication methods users' servers have: `trust`
for one role over TCP, `peer` for the operating-system user over the Unix socket, and
`scram-sha-256` (a password) for everyone else. Each form runs `cakupan demo` (the ingest DAGs and
the transform DAG through Airflow, the BI role set-up), then `cakupan transform` and `cakupan dbt`,
on a database of its own; no output, log or error shows the password.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest
from cakupan.warehouse import embedded
from cakupan.warehouse.connection import WarehouseParams, parse_url
from psycopg2 import sql

pytestmark = pytest.mark.integration

CAKUPAN = [sys.executable, "-m", "cakupan.cli"]
TRUSTED = "cakupan_trust"  # a role the server trusts over TCP: no password at all
OS_USER = getpass.getuser()  # `peer` over the Unix socket: the operating-system user's role
LIBPQ_VARS = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGDATABASE", "PGOPTIONS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """An embedded PostgreSQL whose pg_hba.conf has trust, peer and scram-sha-256 rules."""
    root = Path(tempfile.mkdtemp(prefix="cakupan-forms-"))
    root.chmod(0o755)
    srv = embedded.Embedded(root / "pgdata", _free_port(), root / "pg_password")
    embedded.start(srv)
    admin = WarehouseParams.of(
        host="127.0.0.1",
        port=srv.port,
        user=embedded.SUPERUSER,
        password=srv.password(),
        dbname="postgres",
    )
    conn = psycopg2.connect(**admin.dsn_kwargs())
    conn.autocommit = True
    with conn.cursor() as cur:
        for role in {TRUSTED, OS_USER} - {embedded.SUPERUSER}:
            cur.execute(sql.SQL("create role {} superuser login").format(sql.Identifier(role)))
        cur.execute("show hba_file")
        hba = Path(cur.fetchone()[0])
        hba.write_text(
            f"local all {OS_USER} peer\n"
            "local all all scram-sha-256\n"
            f"host all {TRUSTED} 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        cur.execute("select pg_reload_conf()")
    conn.close()
    yield {"admin": admin, "port": srv.port, "password": srv.password(), "socket": srv.data_dir}
    embedded.stop(srv)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def base_env(server, tmp_path_factory):
    """Subprocess environment: one Airflow home and one set of demo sources for every form."""
    base = tmp_path_factory.mktemp("forms")
    env = {k: v for k, v in os.environ.items() if k not in LIBPQ_VARS}
    env.pop("AIRFLOW_CONN_WAREHOUSE", None)
    env["AIRFLOW_HOME"] = str(base / "airflow")
    env["CAKUPAN_SOURCES_DIR"] = str(base / "sources")
    env["CAKUPAN_BI_PASSWORD"] = "forms-bi-password"
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    out = subprocess.run(
        [*CAKUPAN, "demo", "generate"], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return env


def _database(server, name: str) -> str:
    conn = psycopg2.connect(**server["admin"].dsn_kwargs())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    conn.close()
    return name


def _form(name: str, server, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """The connection value (`AIRFLOW_CONN_WAREHOUSE`) of a form and the variables beside it."""
    port, password, db = server["port"], server["password"], f"forms_{name}"
    tcp = f"postgresql://{embedded.SUPERUSER}@127.0.0.1:{port}/{db}"
    if name == "trust":
        return f"postgresql://{TRUSTED}@127.0.0.1:{port}/{db}", {}
    if name == "pgpassword":
        return tcp, {"PGPASSWORD": password}
    if name in ("pgpassfile", "home_pgpass"):
        passfile = tmp_path / ".pgpass"
        passfile.write_text(f"127.0.0.1:{port}:*:{embedded.SUPERUSER}:{password}\n")
        passfile.chmod(0o600)
        if name == "pgpassfile":
            return tcp, {"PGPASSFILE": str(passfile)}
        return tcp, {"HOME": str(tmp_path)}
    if name == "socket_peer":
        return f"postgresql://{OS_USER}@/{db}?host={server['socket']}&port={port}", {}
    if name == "options":
        return (
            f"postgresql://{embedded.SUPERUSER}:{password}@127.0.0.1:{port}/{db}"
            "?sslmode=prefer&connect_timeout=10&target_session_attrs=read-write"
            "&options=-cwork_mem%3D7MB",
            {},
        )
    if name == "json":
        value = {
            "conn_type": "postgres",
            "host": "127.0.0.1",
            "port": port,
            "login": embedded.SUPERUSER,
            "password": password,
            "schema": db,
            "extra": {"sslmode": "prefer", "options": "-cwork_mem=7MB"},
        }
        return json.dumps(value), {}
    raise AssertionError(name)


def _cakupan(env, *args, timeout=1800) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CAKUPAN, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


FORMS = ["trust", "pgpassword", "pgpassfile", "home_pgpass", "socket_peer", "options", "json"]


@pytest.mark.parametrize("form", FORMS)
def test_each_connection_form_runs_the_warehouse(form, server, base_env, tmp_path):
    db = _database(server, f"forms_{form}")
    value, extra = _form(form, server, tmp_path)
    env = {**base_env, **extra, "AIRFLOW_CONN_WAREHOUSE": value}
    params = parse_url(value)
    assert "password" not in params.keywords or form in ("options", "json")
    outputs = []

    check = _cakupan(env, "warehouse", "check", timeout=120)
    outputs.append(check.stdout + check.stderr)
    assert check.returncode == 0, check.stderr
    assert f"database {db}" in check.stdout and "PostgreSQL 18" in check.stdout

    demo = _cakupan(env, "demo", "--keep-sources", "--from-month", "2025-11")
    outputs.append(demo.stdout + demo.stderr)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Latest month: 2025-12" in demo.stdout

    transform = _cakupan(env, "transform", "--new-loads")
    outputs.append(transform.stdout + transform.stderr)
    assert transform.returncode == 0, transform.stdout[-3000:]

    shown = _cakupan(
        env,
        "dbt",
        "show",
        "--inline",
        "select current_user as who, current_database() as db, current_setting('work_mem') as mem",
        timeout=300,
    )
    outputs.append(shown.stdout + shown.stderr)
    assert shown.returncode == 0, shown.stdout[-2000:]
    user = {"trust": TRUSTED, "socket_peer": OS_USER}.get(form, embedded.SUPERUSER)
    assert user in shown.stdout and db in shown.stdout
    # the libpq option reaches dbt as it reaches the loaders
    expected_mem = "7MB" if form in ("options", "json") else "32MB"
    assert expected_mem in shown.stdout
    with psycopg2.connect(**params.dsn_kwargs(), **_libpq_extra(extra)) as conn:
        with conn.cursor() as cur:
            cur.execute("select current_user, current_setting('work_mem')")
            assert cur.fetchone() == (user, expected_mem)
            cur.execute(
                "select count(distinct district_code) from marts.fct_coverage_district_month"
                " where month = date '2025-12-01' and participants > 0"
            )
            assert cur.fetchone()[0] == 514
            cur.execute(
                "select has_table_privilege('bi_reader', 'marts.fct_coverage_district_month',"
                " 'select'), has_schema_privilege('bi_reader', 'raw', 'usage')"
            )
            assert cur.fetchone() == (True, False)
    conn.close()

    logs = Path(env["AIRFLOW_HOME"], "logs")
    texts = outputs + [p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file()]
    assert not [t for t in texts if server["password"] in t]


def _libpq_extra(extra: dict[str, str]) -> dict[str, str]:
    """The in-process connection gets the form's password source as the subprocesses do."""
    if "PGPASSWORD" in extra:
        return {"password": extra["PGPASSWORD"]}
    if "PGPASSFILE" in extra:
        return {"passfile": extra["PGPASSFILE"]}
    if "HOME" in extra:
        return {"passfile": str(Path(extra["HOME"]) / ".pgpass")}
    return {}


@pytest.mark.parametrize(
    "fault, reason",
    [
        ("password", 'password authentication failed for user "cakupan"'),
        ("database", 'database "forms_missing" does not exist'),
        ("refused", "Connection refused"),
    ],
)
def test_a_broken_connection_fails_first_with_one_line(fault, reason, server, base_env):
    db = _database(server, "forms_broken")
    port = server["port"]
    url = {
        "password": f"postgresql://cakupan:not-the-password@127.0.0.1:{port}/{db}",
        "database": f"postgresql://cakupan:{server['password']}@127.0.0.1:{port}/forms_missing",
        "refused": f"postgresql://cakupan:{server['password']}@127.0.0.1:{_free_port()}/{db}",
    }[fault]
    env = {**base_env, "AIRFLOW_CONN_WAREHOUSE": url}
    region_file = next(Path(env["CAKUPAN_SOURCES_DIR"]).rglob("*.csv"))
    host_port = url.split("@")[1].split("/")[0].split(":")
    database = url.rsplit("/", 1)[1]
    head = (
        f"error: cannot connect to the warehouse (host {host_port[0]}, port {host_port[1]},"
        f" database {database}, user cakupan): "
    )
    for args in (["load", str(region_file)], ["load", "/no/such/file.csv"], ["transform"]):
        result = _cakupan(env, *args, timeout=120)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(head), (args, result.stderr)
        assert reason in lines[0]
        assert "Traceback" not in result.stderr and result.stdout == ""
        for secret in (server["password"], "not-the-password"):
            assert secret not in result.stderr
    demo = _cakupan(env, "demo", "--keep-sources", timeout=120)
    assert demo.returncode == 1 and reason in demo.stderr and "[2/5]" not in demo.stdout
    # nothing loaded: the database the broken URLs name has no raw schema
    conn = psycopg2.connect(**server["admin"].replace(dbname=db).dsn_kwargs())
    with conn.cursor() as cur:
        cur.execute("select count(*) from pg_namespace where nspname = 'raw'")
        assert cur.fetchone()[0] == 0
    conn.close()
