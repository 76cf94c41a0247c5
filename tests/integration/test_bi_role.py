"""The read-only role BI tools use, after the pipeline: it reads `marts` and `dq` and nothing else.

Connects as `bi_reader` (`CAKUPAN_BI_ROLE`) with the password `cakupan.warehouse.roles.bi_password`
gives, to the warehouse `cakupan demo` built (run once with test_coverage_model.py).
"""

from __future__ import annotations

import psycopg2
import pytest
from cakupan import config
from cakupan.warehouse.roles import BI_SCHEMAS, bi_password
from psycopg2 import errorcodes, sql
from test_coverage_model import run_demo_once

pytestmark = pytest.mark.integration

DENIED_SCHEMAS = ("raw", "staging", "intermediate", "reference")


@pytest.fixture(scope="module")
def demo(warehouse, clean_env):
    return run_demo_once(warehouse, clean_env)


@pytest.fixture(scope="module")
def tables(demo, warehouse) -> dict[str, list[str]]:
    """Every table and view of the warehouse by schema, as its owner sees them."""
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(%s) order by 1, 2",
            ([*BI_SCHEMAS, *DENIED_SCHEMAS],),
        )
        found: dict[str, list[str]] = {}
        for schema, table in cur.fetchall():
            found.setdefault(schema, []).append(table)
    return found


@pytest.fixture()
def bi(demo, warehouse):
    password, source = bi_password(generate=False)
    assert password, f"no BI password ({source})"
    # the session's connection (host, port, database, TLS, ...) as the BI role
    conn = psycopg2.connect(
        **warehouse.replace(user=config.bi_role(), password=password).dsn_kwargs()
    )
    yield conn
    conn.close()


def _fails(conn, statement: sql.Composable | str, *, read_write: bool = False) -> str:
    """Run one statement in its own transaction; the SQLSTATE it fails with."""
    try:
        with conn.cursor() as cur:
            if read_write:  # a client can ask for a read-write transaction: grants must hold
                cur.execute("set transaction read write")
            cur.execute(statement)
    except psycopg2.Error as exc:
        conn.rollback()
        return exc.pgcode
    conn.rollback()
    pytest.fail(f"{statement!r} succeeded as the BI role")


def test_reads_every_table_of_the_bi_schemas(bi, tables):
    assert BI_SCHEMAS == ("marts", "dq")
    assert {"dim_districts", "fct_coverage_district_month", "fct_coverage_group_month"} <= set(
        tables["marts"]
    )
    assert not any(table.startswith("dq_") for table in tables["marts"])
    assert {
        "dq_loads",
        "dq_rejected_rows",
        "dq_published_mismatches",
        "dq_source_completeness",
        "dq_outliers",
    } <= set(tables["dq"])
    with bi.cursor() as cur:
        for schema in BI_SCHEMAS:
            for table in tables[schema]:
                cur.execute(
                    sql.SQL("select count(*) from {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    )
                )
                assert cur.fetchone()[0] >= 0
        cur.execute("select count(*) from marts.fct_coverage_district_month")
        assert cur.fetchone()[0] == 514 * 48
    bi.rollback()


@pytest.mark.parametrize("schema", DENIED_SCHEMAS)
def test_cannot_read_other_schemas(bi, tables, schema):
    assert tables.get(schema), f"the pipeline created no table in {schema}"
    for table in tables[schema]:
        statement = sql.SQL("select * from {}.{} limit 1").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        assert _fails(bi, statement) == errorcodes.INSUFFICIENT_PRIVILEGE, (schema, table)


@pytest.mark.parametrize("read_write", [False, True])
def test_cannot_write(bi, read_write):
    insufficient = errorcodes.INSUFFICIENT_PRIVILEGE
    read_only = errorcodes.READ_ONLY_SQL_TRANSACTION
    expected = {insufficient} if read_write else {insufficient, read_only}
    statements = [
        "insert into marts.dim_uhc_rules (uhc_rule_code) values ('bi_test')",
        "update marts.fct_coverage_district_month set participants = 0",
        "delete from marts.dim_districts",
        "truncate marts.fct_coverage_group_month",
        "create table marts.bi_test (i integer)",
        "create table public.bi_test (i integer)",
        "create schema bi_test",
        "drop table marts.dim_districts",
        "alter table marts.dim_districts add column bi_test integer",
        "create view marts.bi_test as select 1 as i",
        "delete from dq.dq_loads",
        "create table dq.bi_test (i integer)",
        # no TEMP (revoked from PUBLIC): no temporary table, view or function, even read-write
        "create temp table bi_test (i integer)",
        "create temp view bi_test as select 1 as i",
        "create function pg_temp.bi_test() returns integer language sql as 'select 1'",
    ]
    for statement in statements:
        assert _fails(bi, statement, read_write=read_write) in expected, statement


def test_no_temp_no_create_and_a_connection_limit(bi, warehouse):
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
        cur.execute(
            "select has_database_privilege(r.rolname, current_database(), 'temp'),"
            " has_database_privilege(r.rolname, current_database(), 'create'),"
            " (select array_agg(n.nspname order by 1) from pg_namespace as n"
            "  where has_schema_privilege(r.rolname, n.oid, 'create')), r.rolconnlimit"
            " from pg_roles as r where r.rolname = %s",
            (config.bi_role(),),
        )
        assert cur.fetchone() == (False, False, None, 10)


def test_transactions_are_read_only_and_statements_time_out(bi):
    with bi.cursor() as cur:
        cur.execute("show default_transaction_read_only")
        assert cur.fetchone()[0] == "on"
        cur.execute("show statement_timeout")
        timeout = cur.fetchone()[0]
        cur.execute(
            "select setconfig from pg_db_role_setting"
            " where setrole = (select oid from pg_roles where rolname = current_user)"
        )
        settings = [s for row in cur.fetchall() for s in row[0]]
    bi.rollback()
    assert timeout not in ("0", "0ms")
    assert f"statement_timeout={timeout}" in settings  # the role's own default, not the server's
