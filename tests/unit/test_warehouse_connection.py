"""The warehouse connection as libpq reads it: URIs by libpq's own parser, Airflow's fields as the
postgres provider's hook maps them, and both agree with what Airflow itself makes of the value."""

from __future__ import annotations

import json

import pytest
from cakupan.warehouse.connection import (
    WarehouseParams,
    from_airflow_fields,
    parse_url,
    server_reason,
)

SECRET = "s3cr3t/&?@pw"

URIS = {
    "password": "postgresql://cakupan:s3cr3t%2F%26%3F%40pw@db.example.go.id:5433/cakupan",
    "no_password": "postgresql://postgres@127.0.0.1:5432/warehouse",
    "socket": "postgresql://postgres@/warehouse?host=/var/run/postgresql",
    "options": "postgresql://cakupan@db:5432/cakupan?sslmode=verify-full"
    "&sslrootcert=/etc/ssl/ca.pem&target_session_attrs=read-write&connect_timeout=10"
    "&options=-csearch_path%3Dcakupan",
    "airflow_scheme": "postgres://cakupan@db/cakupan",
}


def test_uris_are_parsed_by_libpq_into_its_keywords():
    assert parse_url(URIS["password"]).keywords == {
        "user": "cakupan",
        "password": SECRET,
        "host": "db.example.go.id",
        "port": "5433",
        "dbname": "cakupan",
    }
    assert parse_url(URIS["no_password"]).keywords == {
        "user": "postgres",
        "host": "127.0.0.1",
        "port": "5432",
        "dbname": "warehouse",
    }
    assert parse_url(URIS["socket"]).keywords == {
        "user": "postgres",
        "dbname": "warehouse",
        "host": "/var/run/postgresql",
    }
    options = parse_url(URIS["options"]).keywords
    assert options["sslrootcert"] == "/etc/ssl/ca.pem"
    assert options["target_session_attrs"] == "read-write"
    assert options["options"] == "-csearch_path=cakupan"
    assert options["connect_timeout"] == "10" and options["sslmode"] == "verify-full"
    assert parse_url("postgresql+psycopg2://u@h/d").keywords == {
        "user": "u",
        "host": "h",
        "dbname": "d",
    }


def test_a_uri_libpq_refuses_names_libpq_reason_and_never_the_password():
    with pytest.raises(ValueError) as err:
        parse_url(f"postgresql://u:{SECRET}@h/d?no_such_option=1")
    assert "no_such_option" in str(err.value) and "s3cr3t" not in str(err.value)
    with pytest.raises(ValueError, match="not scheme 'mysql'"):
        parse_url("mysql://u@h/d")


def test_airflow_json_fields_map_as_the_postgres_hook_maps_them():
    value = json.dumps(
        {
            "conn_type": "postgres",
            "host": "db",
            "port": 5432,
            "login": "cakupan",
            "password": SECRET,
            "schema": "cakupan",
            "extra": {"sslmode": "require", "cursor": "dictcursor", "keepalives": True},
        }
    )
    assert parse_url(value).keywords == {
        "host": "db",
        "port": "5432",
        "user": "cakupan",
        "password": SECRET,
        "dbname": "cakupan",
        "sslmode": "require",  # a libpq option; `cursor` is the hook's own and left out
        "keepalives": "1",
    }
    # `extra` as Airflow stores it: a JSON string
    stored = json.dumps({"host": "db", "extra": json.dumps({"sslmode": "disable"})})
    assert parse_url(stored).keywords == {"host": "db", "sslmode": "disable"}


@pytest.mark.parametrize("form", sorted(URIS))
def test_cakupan_and_airflow_read_a_uri_alike(form):
    """The CLI reads the URI with libpq; Airflow's tasks read Airflow's parse of it."""
    from airflow.models.connection import Connection

    conn = Connection(conn_id="warehouse", uri=URIS[form])
    by_airflow = from_airflow_fields(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=conn.extra_dejson,
    )
    assert by_airflow.keywords == parse_url(URIS[form]).keywords


@pytest.mark.parametrize("form", sorted(URIS))
def test_url_and_airflow_value_give_back_the_same_connection(form):
    from airflow.models.connection import Connection

    params = parse_url(URIS[form])
    assert parse_url(params.url(mask=False)) == params
    assert parse_url(params.airflow_value()) == params
    conn = Connection.from_json(params.airflow_value(), conn_id="warehouse")
    assert (conn.host, conn.login, conn.schema) == (
        params.keywords.get("host"),
        params.keywords.get("user"),
        params.keywords.get("dbname"),
    )


def test_descriptions_never_show_the_password():
    params = parse_url(URIS["password"])
    for text in (params.describe(), params.url(), repr(params.url(mask=True))):
        assert "s3cr3t" not in text
    assert params.describe() == "host db.example.go.id, port 5433, database cakupan, user cakupan"
    assert params.url() == "postgresql://cakupan:***@db.example.go.id:5433/cakupan"
    assert parse_url(URIS["socket"]).url() == (
        "postgresql://postgres@/warehouse?host=%2Fvar%2Frun%2Fpostgresql"
    )


def test_libpq_variables_for_dbt(monkeypatch):
    params = parse_url(URIS["options"])
    assert params.libpq_env() == {
        "PGUSER": "cakupan",
        "PGHOST": "db",
        "PGPORT": "5432",
        "PGDATABASE": "cakupan",
        "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/etc/ssl/ca.pem",
        "PGTARGETSESSIONATTRS": "read-write",
        "PGCONNECT_TIMEOUT": "10",
        "PGOPTIONS": "-csearch_path=cakupan",
    }
    with pytest.raises(ValueError, match="keepalives"):
        WarehouseParams.of(host="db", keepalives=1).libpq_env()
    # what the connection leaves out, libpq takes from its variables: so does the description
    monkeypatch.setenv("PGDATABASE", "from_env")
    assert parse_url("postgresql://u@h").dbname == "from_env"


def test_replace_changes_and_removes_keywords():
    params = parse_url(URIS["password"])
    bench = params.replace(dbname="cakupan_bench", password=None)
    assert bench.keywords["dbname"] == "cakupan_bench" and "password" not in bench.keywords
    assert params.keywords["dbname"] == "cakupan"


def test_server_reason_keeps_the_servers_words_on_one_line():
    message = (
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  password '
        'authentication failed for user "cakupan"\n'
    )
    assert server_reason(Exception(message)) == 'password authentication failed for user "cakupan"'
    refused = (
        'connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?\n"
    )
    assert server_reason(Exception(refused)) == (
        "Connection refused Is the server running on that host and accepting TCP/IP connections?"
    )


def test_server_reason_drops_psycopg3s_frame_and_its_list_of_attempts():
    """psycopg 3 puts `connection failed: ` first and, after several addresses, lists each
    attempt: the reason is the last attempt's, once, on one line."""
    several = (
        'connection failed: connection to server at "127.0.0.1", port 1 failed: '
        "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
        "connections?\nMultiple connection attempts failed. All failures were:\n"
        "- host: 'localhost', port: '1', hostaddr: '::1': connection failed: connection to "
        'server at "::1", port 1 failed: Connection refused\n'
    )
    assert server_reason(Exception(several)) == (
        "Connection refused Is the server running on that host and accepting TCP/IP connections?"
    )
    bad = 'connection is bad: connection to server on socket "/x/.s.PGSQL.5432" failed: Gone'
    assert server_reason(Exception(bad)) == "Gone"
