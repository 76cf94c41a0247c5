"""A real PostgreSQL for integration tests: a fresh database on AIRFLOW_CONN_WAREHOUSE's server
when it is set, else on an embedded PostgreSQL of the test session's own."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import psycopg
import psycopg2
import pytest
from cakupan.warehouse import embedded
from cakupan.warehouse.connection import WarehouseParams, parse_url
from psycopg2 import sql


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> WarehouseParams:
    """Admin parameters of the server the tests create their databases on."""
    user_server = os.environ.get("CAKUPAN_TEST_SERVER")  # set from AIRFLOW_CONN_WAREHOUSE
    external = parse_url(user_server) if user_server else None
    if external is not None:
        yield external
        return
    # not under pytest's basetemp: pytest keeps that folder private to root (0700), and the
    # server runs as its own system user when the tests run as root
    root = Path(tempfile.mkdtemp(prefix="cakupan-pgtest-"))
    root.chmod(0o755)
    server = embedded.Embedded(root / "pgdata", _free_port(), root / "pg_password")
    embedded.start(server)
    params = WarehouseParams.of(
        host="127.0.0.1",
        port=server.port,
        user=embedded.SUPERUSER,
        password=server.password(),
        dbname="postgres",
    )
    yield params
    embedded.stop(server)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def warehouse(pg_server) -> WarehouseParams:
    """A new, empty database for this test session; dropped at the end."""
    name = f"cakupan_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**pg_server.dsn_kwargs())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    params = pg_server.replace(dbname=name)
    yield params
    with admin.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
        )
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture()
def conn(warehouse):
    connection = psycopg2.connect(**warehouse.dsn_kwargs())
    yield connection
    connection.close()


@pytest.fixture()
def db(warehouse):
    """A connection to the session's database, with an empty `raw` schema: psycopg 3, as the
    product's own (`cakupan.warehouse.connect`), for tests that hand it to the product. `conn`
    is psycopg2's, for tests that only read what the product wrote."""
    conn = psycopg.connect(**warehouse.dsn_kwargs())
    with conn.cursor() as cur:
        cur.execute("drop schema if exists raw cascade")
    conn.commit()
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def shared_data() -> Path | None:
    path = Path(__file__).resolve().parents[3] / "shared" / "data"
    return path if path.exists() else None


@pytest.fixture(scope="session")
def clean_env(tmp_path_factory) -> dict[str, str]:
    """Environment for subprocesses: private AIRFLOW_HOME and sources folder."""
    base = tmp_path_factory.mktemp("run")
    env = dict(os.environ)
    env["AIRFLOW_HOME"] = str(base / "airflow")
    env["CAKUPAN_SOURCES_DIR"] = str(base / "sources")
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    return env
