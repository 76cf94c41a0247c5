"""Each office sees its own rows (issue 15.6), with real roles on a real PostgreSQL.

A database of its own, owned by a non-superuser warehouse owner (as a deployment should have it:
RLS is forced on the owner too, and a superuser would bypass it). As that owner, `cakupan load`
lands a register and a BPJS master of two kab/kota (synthetic, `person_files.py`) and dbt builds
the project's person marts (`person_status`, `worklist_items`), and, from a copy of the project,
two test-only models under `models/persons/marts/` (a table of keyed rows and a view of it), all
with the project's own `person_rls` post-hook; office roles made by `cakupan roles grant` then try
to read around it. Keyed values and counts are compared, never a NIK or a name.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from cakupan.warehouse.guard import GuardPrivilegeError, check_privileges, guard_once
from cakupan.warehouse.roles import (
    OFFICE_GROUP,
    audit,
    ensure_bi_role,
    grant_office,
    list_roles,
    revoke_office,
)
from psycopg import errors, sql

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CAKUPAN = [sys.executable, "-m", "cakupan.cli"]
SUFFIX = uuid.uuid4().hex[:6]
OWNER = f"rls_owner_{SUFFIX}"
KUKAR = f"dinkes_6402_{SUFFIX}"  # the whole of Kutai Kartanegara
TENGGARONG = f"camat_640201_{SUFFIX}"  # one kecamatan of it
SAMARINDA = f"dinkes_6472_{SUFFIX}"  # Kota Samarinda
PASSWORD_ENV = "CAKUPAN_TEST_OFFICE_PASSWORD"

TABLE_MODEL = """
{{ config(materialized='table') }}
with
rows as (
    select * from (values
        ('64.02', '64.02.01', '64.02.01.2001', 1),
        ('64.02', '64.02.01', '64.02.01.2002', 2),
        ('64.02', '64.02.02', '64.02.02.2001', 3),
        ('64.02', '64.02.02', '64.02.02.2002', 4),
        ('64.02', '64.02.03', '64.02.03.2001', 5),
        ('64.72', '64.72.01', '64.72.01.2001', 6),
        ('64.72', '64.72.02', '64.72.02.2001', 7)
    ) as v (district_code, kecamatan_code, desa_code, record_id)
),
final as (
    select
        md5('test person ' || record_id) || md5('key ' || record_id) as person_key,
        record_id,
        district_code,
        kecamatan_code,
        desa_code
    from rows
)
select * from final
"""
VIEW_MODEL = """
{{ config(materialized='view') }}
with
person_rows as (select * from {{ ref('rls_test_person_rows') }}),
final as (select district_code, kecamatan_code, count(*) as persons from person_rows group by 1, 2)
select * from final
"""
EXPECTED = {"64.02": 5, "64.72": 2}


def _connect(params, user: str, password: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(**params.replace(user=user, password=password).dsn_kwargs(), **kwargs)


@pytest.fixture(scope="module")
def rls(pg_server, tmp_path_factory):
    """The database, its owner, the built test marts and three office roles."""
    base = tmp_path_factory.mktemp("rls")
    dbname = f"cakupan_rls_{SUFFIX}"
    owner_password = secrets.token_urlsafe(16)
    office_password = secrets.token_urlsafe(16)
    admin = psycopg.connect(**pg_server.dsn_kwargs(), autocommit=True)
    admin.execute(
        sql.SQL("create role {} login createrole password {}").format(
            sql.Identifier(OWNER), sql.Literal(owner_password)
        )
    )
    admin.execute(
        sql.SQL("create database {} owner {}").format(*map(sql.Identifier, (dbname, OWNER)))
    )
    params = pg_server.replace(dbname=dbname)
    owner_params = params.replace(user=OWNER, password=owner_password)
    project = base / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    marts = project / "models" / "persons" / "marts"
    marts.mkdir(parents=True, exist_ok=True)
    (marts / "rls_test_person_rows.sql").write_text(TABLE_MODEL)
    (marts / "rls_test_person_counts.sql").write_text(VIEW_MODEL)
    env = {
        **os.environ,
        "AIRFLOW_CONN_WAREHOUSE": owner_params.url(mask=False),
        "CAKUPAN_DBT_PROJECT_DIR": str(project),
        "CAKUPAN_HOME": str(base),
        PASSWORD_ENV: office_password,
        "CAKUPAN_PERSON_KEY": "test-person-key-" + "r" * 32,
    }

    def cakupan(*args: str) -> str:
        result = subprocess.run(
            [*CAKUPAN, *args], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return result.stdout

    def dbt_run(*real: str) -> str:
        return cakupan(
            "dbt", "run", "--select", "rls_test_person_rows", "rls_test_person_counts", *real
        )

    # the project's own person marts, from a register and a BPJS master of two kab/kota landed
    # by `cakupan load`, and the test models: before any office role exists (no group yet)
    for path, contract in _person_files(base):
        cakupan("load", str(path), "--contract", contract)
    cakupan("dbt", "seed")
    dbt_run("+person_status", "+worklist_items")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, office_password)
        owner = psycopg.connect(**owner_params.dsn_kwargs())
        grant_office(owner, KUKAR, district="64.02", password_env=PASSWORD_ENV)
        grant_office(
            owner, TENGGARONG, district="64.02", kecamatan="64.02.01", password_env=PASSWORD_ENV
        )
        grant_office(
            owner, SAMARINDA, district="64.72", password_env=PASSWORD_ENV, connection_limit=3
        )
    # the landing still works as the owner once TEMP is the owner's only (a rerun supersedes)
    path, contract = _person_files(base)[0]
    assert "accepted 30, rejected 0" in cakupan("load", str(path), "--contract", contract)
    # the test models rebuilt (new tables) once the group exists: their post-hook grants it; the
    # person marts were granted by `roles grant` (they carried their policy already)
    dbt_run()
    # the BI role, as the transform DAG makes it (a superuser here: another test module may
    # have made it already); it hardens the database too
    admin_db = psycopg.connect(**params.dsn_kwargs())
    ensure_bi_role(admin_db)
    yield {
        "params": params,
        "owner": owner,
        "owner_password": owner_password,
        "office_password": office_password,
        "admin": admin,
        "admin_db": admin_db,
        "env": env,
        "project": project,
    }
    owner.close()
    admin_db.close()
    admin.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (dbname,)
    )
    admin.execute(sql.SQL("drop database {}").format(sql.Identifier(dbname)))
    for role in (KUKAR, TENGGARONG, SAMARINDA, OFFICE_GROUP, OWNER):
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
    admin.close()


def _person_files(base: Path) -> list[tuple[Path, str]]:
    """A register of 30 residents (20 in Kutai Kartanegara, 10 in Samarinda) and a BPJS master
    of the first 20 of them (person_files.py: synthetic NIKs, no real people)."""
    import datetime as dt

    from person_files import REGISTER_HEADER, register_rows, write_csv

    register = register_rows(30, districts=("64.02", "64.72"))
    members = [
        {
            "NO_KARTU": f"{i + 1:013d}",
            "NIK": row["NIK"],
            "NAMA": row["NAMA_LGKP"],
            "TGL_LAHIR": dt.datetime.strptime(row["TGL_LHR"], "%d-%m-%Y").date().isoformat(),
            "JENIS_KELAMIN": "P" if row["JENIS_KLMIN"] == "PEREMPUAN" else "L",
            "SEGMEN": "PBPU",
            "STATUS_PESERTA": "AKTIF" if i % 4 else "NON AKTIF",
            "KETERANGAN": "" if i % 4 else "MENUNGGAK IURAN",
            "TMT": "2020-01-01",
            "FASKES_TK1": "PUSKESMAS",
            "KODE_DESA": row["KODE_DESA"],
        }
        for i, row in enumerate(register[:20])
    ]
    return [
        (
            write_csv(base / "dukcapil_register_6402_2025-06.csv", REGISTER_HEADER, register),
            "dukcapil_register",
        ),
        (
            write_csv(base / "bpjs_peserta_6402_2025-06.csv", list(members[0]), members),
            "bpjs_membership_master",
        ),
    ]


@pytest.fixture()
def office(rls):
    opened = []

    def open_as(role: str) -> psycopg.Connection:
        conn = _connect(rls["params"], role, rls["office_password"])
        opened.append(conn)
        return conn

    yield open_as
    for conn in opened:
        conn.close()


def _count(conn, query: str, params=()) -> int:
    with conn.cursor() as cur:
        cur.execute(query, params)
        value = cur.fetchone()[0]
    conn.rollback()
    return value


def _refused(conn, statement: str, *, read_write: bool = False) -> type[Exception]:
    """The error class one statement fails with, in its own transaction."""
    try:
        with conn.cursor() as cur:
            if read_write:  # a client may ask for a read-write transaction: grants must hold
                cur.execute("begin read write")
            cur.execute(statement)
    except psycopg.Error as exc:
        conn.rollback()
        return type(exc)
    conn.rollback()
    pytest.fail(f"{statement!r} succeeded")


def _key_of(rls, record_id: int) -> str:
    return _count(
        rls["owner"],
        "select person_key from persons.rls_test_person_rows where record_id = %s",
        (record_id,),
    )


def test_the_post_hook_forces_rls_with_its_policies_in_the_models_transaction(rls):
    owner = rls["owner"]
    with owner.cursor() as cur:
        cur.execute(
            "select relrowsecurity, relforcerowsecurity from pg_class"
            " where oid = 'persons.rls_test_person_rows'::regclass"
        )
        assert cur.fetchone() == (True, True)
        cur.execute(
            "select polname, polcmd from pg_policy"
            " where polrelid = 'persons.rls_test_person_rows'::regclass order by 1"
        )
        assert cur.fetchall() == [("office_scope", "r"), ("warehouse_owner", "*")]
        cur.execute(
            "select reloptions from pg_class where oid = 'persons.rls_test_person_counts'::regclass"
        )
        assert "security_invoker=true" in cur.fetchone()[0]
        cur.execute(
            "select count(*) from persons.rls_test_person_rows"  # the owner: every row
        )
        assert cur.fetchone()[0] == sum(EXPECTED.values())
    owner.rollback()
    # dbt's own log: the table is created, renamed, secured and granted, then committed
    log = (rls["project"] / "logs" / "dbt.log").read_text()
    last_build = log[log.rindex('create  table "') :]
    order = [
        last_build.index("__dbt_tmp"),
        last_build.index("force row level security"),
        last_build.index("create policy office_scope"),
        last_build.index("grant select on %s"),
        last_build.index("COMMIT"),
    ]
    assert order == sorted(order)


def test_a_district_office_reads_its_district_only(rls, office):
    kukar = office(KUKAR)
    with kukar.cursor() as cur:
        cur.execute("select district_code, count(*) from persons.rls_test_person_rows group by 1")
        assert dict(cur.fetchall()) == {"64.02": EXPECTED["64.02"]}
        cur.execute(
            "select district_code, sum(persons) from persons.rls_test_person_counts group by 1"
        )
        assert {d: int(n) for d, n in cur.fetchall()} == {"64.02": EXPECTED["64.02"]}
    kukar.rollback()
    samarinda = office(SAMARINDA)
    assert (
        _count(samarinda, "select count(*) from persons.rls_test_person_rows") == EXPECTED["64.72"]
    )


@pytest.mark.parametrize("mart", ["person_status", "worklist_items"])
def test_the_person_marts_show_each_office_its_own_rows(rls, office, mart):
    """The project's own marts, built by dbt as the owner (every Kukar desa of the files is in
    kecamatan 64.02.01: the kecamatan office sees them all)."""
    by_district = f"select district_code, count(*) from persons.{mart} group by 1"
    owner = rls["owner"]
    everyone = dict(owner.execute(by_district).fetchall())
    owner.rollback()
    assert set(everyone) == {"64.02", "64.72"}
    if mart == "person_status":
        assert everyone == {"64.02": 20, "64.72": 10}
    for role, district in ((KUKAR, "64.02"), (SAMARINDA, "64.72"), (TENGGARONG, "64.02")):
        conn = office(role)
        assert dict(conn.execute(by_district).fetchall()) == {district: everyone[district]}
        conn.rollback()
    # a keyed NIK of Samarinda, guessed by Kukar: no row
    key = owner.execute(
        f"select person_key from persons.{mart} where district_code = '64.72' limit 1"
    ).fetchone()[0]
    owner.rollback()
    query = f"select count(*) from persons.{mart} where person_key = %s"
    assert _count(office(KUKAR), query, (key,)) == 0
    assert _count(office(SAMARINDA), query, (key,)) >= 1


def test_a_kecamatan_office_reads_its_kecamatan_only(rls, office):
    tenggarong = office(TENGGARONG)
    with tenggarong.cursor() as cur:
        cur.execute("select kecamatan_code, count(*) from persons.rls_test_person_rows group by 1")
        assert dict(cur.fetchall()) == {"64.02.01": 2}
    tenggarong.rollback()


def test_other_districts_rows_are_refused_every_way(rls, office):
    kukar = office(KUKAR)
    table = "persons.rls_test_person_rows"
    # directly, and by guessing another district's keyed NIK: no rows
    assert _count(kukar, f"select count(*) from {table} where district_code = '64.72'") == 0
    assert (
        _count(kukar, f"select count(*) from {table} where person_key = %s", (_key_of(rls, 6),))
        == 0
    )
    assert (
        _count(kukar, f"select count(*) from {table} where person_key = %s", (_key_of(rls, 1),))
        == 1
    )
    # an error as a side channel: the policy is applied before the caller's own expressions
    side_channel = (
        f"select count(*) from {table}"
        " where 1 / (case when district_code = '64.72' then 0 else 1 end) = 1"
    )
    assert _count(kukar, side_channel) == EXPECTED["64.02"]
    # through the view (security_invoker): its own district's rows only
    assert (
        _count(
            kukar,
            "select sum(persons) from persons.rls_test_person_counts where district_code = '64.72'",
        )
        is None
    )
    # through a view or a function of its own: it can create neither, even read-write
    for statement in (
        "create view persons.around as select * from persons.rls_test_person_rows",
        "create function persons.around() returns bigint language sql"
        " as 'select count(*) from persons.rls_test_person_rows'",
        "create function pg_temp.around() returns int language sql as 'select 1'",
        "create temp view around as select * from persons.rls_test_person_rows",
    ):
        assert _refused(kukar, statement, read_write=True) is errors.InsufficientPrivilege, (
            statement
        )
    # through the scopes' own function, or the scopes themselves: no access to `restricted`
    for statement in (
        f"select * from restricted.office_scopes_of('{SAMARINDA}')",
        "select * from restricted.office_scopes",
        f"insert into restricted.office_scopes values ('{KUKAR}', '64.72', null)",
        f"update restricted.office_scopes set district_code = '64.72' where role_name = '{KUKAR}'",
    ):
        assert _refused(kukar, statement, read_write=True) is errors.InsufficientPrivilege, (
            statement
        )
    # with set role: not to another office, the owner or the BI role
    for role in (SAMARINDA, OWNER, "bi_reader", OFFICE_GROUP):
        statement = f"set role {role}"
        assert _refused(kukar, statement) is errors.InsufficientPrivilege, statement
    assert _refused(kukar, f"set session authorization {SAMARINDA}") is errors.InsufficientPrivilege


def test_a_function_of_the_owner_does_not_read_around_the_policy(rls, office):
    """RLS is forced on the owner: its security definer function, called by an office, runs as
    the owner but in the office's session, and sees no row."""
    owner = rls["owner"]
    with owner.cursor() as cur:
        cur.execute(
            "create or replace function persons.rls_test_count() returns bigint"
            " language sql security definer set search_path = pg_catalog"
            " as 'select count(*) from persons.rls_test_person_rows'"
        )
        cur.execute(
            sql.SQL("grant execute on function persons.rls_test_count() to {}").format(
                sql.Identifier(KUKAR)
            )
        )
        cur.execute("select persons.rls_test_count()")
        assert cur.fetchone()[0] == sum(EXPECTED.values())
    owner.commit()
    try:
        assert _count(office(KUKAR), "select persons.rls_test_count()") == 0
        # `cakupan roles check` names it (with a superuser owner it would read every row)
        assert audit(owner) == [
            f"persons.rls_test_count(): security definer, executable by {OFFICE_GROUP}"
        ]
    finally:
        owner.execute("drop function persons.rls_test_count()")
        owner.commit()


def test_reading_roles_create_nothing_and_have_no_temp(rls, office):
    bi_password = _bi_password()
    bi = _connect(rls["params"], "bi_reader", bi_password)
    try:
        for conn in (bi, office(KUKAR)):
            for statement in (
                "create temp table around (i integer)",
                "create function pg_temp.around() returns int language sql as 'select 1'",
                "create table persons.around (i integer)",
                "create table public.around (i integer)",
                "create schema around",
            ):
                assert _refused(conn, statement, read_write=True) is errors.InsufficientPrivilege
        for statement in (
            "select count(*) from persons.rls_test_person_rows",
            "select count(*) from persons.rls_test_person_counts",
            "select count(*) from restricted.office_scopes",
        ):
            assert _refused(bi, statement) is errors.InsufficientPrivilege, statement
    finally:
        bi.close()
    assert audit(rls["owner"]) == []
    # the owner (a plain role here) still makes the temporary tables the landing and dbt's
    # incremental models use
    owner = rls["owner"]
    owner.execute("create temp table landing_like (i integer) on commit drop")
    owner.rollback()
    with psycopg.connect(**rls["params"].dsn_kwargs()) as check:
        roles = ["bi_reader", KUKAR, TENGGARONG, SAMARINDA]
        rows = check.execute(
            "select r.rolname, has_database_privilege(r.rolname, current_database(), 'temp'),"
            " has_database_privilege(r.rolname, current_database(), 'create'),"
            " (select count(*) from pg_namespace as n"
            "  where has_schema_privilege(r.rolname, n.oid, 'create')),"
            " has_schema_privilege(r.rolname, 'restricted', 'usage'), r.rolconnlimit"
            " from pg_roles as r where r.rolname = any(%s) order by 1",
            (roles,),
        ).fetchall()
        limits = {"bi_reader": 10, KUKAR: 5, TENGGARONG: 5, SAMARINDA: 3}
        assert rows == sorted((r, False, False, 0, False, limits[r]) for r in roles)
        # the owner keeps TEMP (the landing's temporary tables)
        owner_temp = check.execute(
            "select has_database_privilege(%s, current_database(), 'temp')", (OWNER,)
        ).fetchone()[0]
        assert owner_temp is True


def _bi_password() -> str:
    from cakupan.warehouse.roles import bi_password

    password, source = bi_password(generate=False)
    assert password, source
    return password


def test_the_guard_cancels_a_statement_that_lifted_its_timeout(rls):
    owner = rls["owner"]
    admin = rls["admin"]
    # the guard's role needs these (docs/OPERATIONS.md); without them, a clear message
    kukar = _connect(rls["params"], KUKAR, rls["office_password"])
    with pytest.raises(
        GuardPrivilegeError, match=f"grant pg_read_all_stats, pg_signal_backend to {KUKAR}"
    ):
        check_privileges(kukar.cursor())
    kukar.close()
    admin.execute(
        sql.SQL("grant pg_read_all_stats, pg_signal_backend to {}").format(sql.Identifier(OWNER))
    )
    ensure_bi_role(rls["admin_db"], statement_timeout="1s")
    bi = _connect(rls["params"], "bi_reader", _bi_password())
    outcome: dict[str, object] = {}

    def sleep() -> None:
        started = time.monotonic()
        try:
            bi.execute("set statement_timeout = 0")
            bi.execute("select pg_sleep(60)")
            outcome["error"] = None
        except psycopg.Error as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    try:
        sleeper = threading.Thread(target=sleep)
        sleeper.start()
        ended = []
        deadline = time.monotonic() + 20
        while not ended and time.monotonic() < deadline:
            time.sleep(0.5)
            ended = guard_once(owner)
        sleeper.join(30)
    finally:
        bi.close()
        ensure_bi_role(rls["admin_db"])  # the default timeout again
    assert [(e.role, e.how, e.limit_s) for e in ended] == [("bi_reader", "cancelled", 1.0)]
    assert ended[0].running_s > 1.0
    assert isinstance(outcome["error"], errors.QueryCanceled)
    assert "user request" in str(outcome["error"])  # the guard's cancel, not a timeout
    assert outcome["seconds"] < 10  # the guard looks every 0.5 s here; the limit is 1 s


def test_revoke_takes_effect_at_once_and_list_shows_scopes(rls, office):
    owner = rls["owner"]
    roles = {r.name: r for r in list_roles(owner)}
    assert roles[KUKAR].scopes == (("64.02", None),)
    assert roles[TENGGARONG].scopes == (("64.02", "64.02.01"),)
    assert roles[SAMARINDA].connection_limit == 3
    assert roles["bi_reader"].kind == "bi"
    tenggarong = office(TENGGARONG)
    assert _count(tenggarong, "select count(*) from persons.rls_test_person_rows") == 2
    assert revoke_office(owner, TENGGARONG, kecamatan="64.02.01") == (1, ())
    # its open session reads nothing more; it can no longer log in
    statement = "select count(*) from persons.rls_test_person_rows"
    assert _refused(tenggarong, statement) is errors.InsufficientPrivilege
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        _connect(rls["params"], TENGGARONG, rls["office_password"]).close()
    assert TENGGARONG not in {r.name for r in list_roles(owner)}
    # granted again: back
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, rls["office_password"])
        grant_office(
            owner, TENGGARONG, district="64.02", kecamatan="64.02.01", password_env=PASSWORD_ENV
        )
    assert _count(office(TENGGARONG), "select count(*) from persons.rls_test_person_rows") == 2


def test_the_cli_grants_with_a_generated_password_it_never_prints(rls):
    role = f"dinkes_6471_{SUFFIX}"
    env = rls["env"]
    try:
        grant = subprocess.run(
            [*CAKUPAN, "roles", "grant", role, "--district", "64.71"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert grant.returncode == 0, grant.stderr
        path = Path(env["CAKUPAN_HOME"]) / ".cakupan" / "roles" / f"{role}.password"
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        password = path.read_text().strip()
        assert len(password) >= 20
        assert f"{role}: created; reads the rows of 64.71 (whole kab/kota)" in grant.stdout
        listing = subprocess.run(
            [*CAKUPAN, "roles", "list"],
            env={**env, "COLUMNS": "200"},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert listing.returncode == 0, listing.stderr
        assert role in listing.stdout and "64.71" in listing.stdout
        for output in (grant.stdout, grant.stderr, listing.stdout, listing.stderr):
            assert password not in output
        with _connect(rls["params"], role, password) as conn:
            assert _count(conn, "select count(*) from persons.rls_test_person_rows") == 0
        wrong = subprocess.run(
            [*CAKUPAN, "roles", "grant", role, "--district", "64.02", "--kecamatan", "64.03.01"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert wrong.returncode == 1
        assert "--kecamatan '64.03.01': a kecamatan code of kab/kota 64.02" in wrong.stderr
        revoke = subprocess.run(
            [*CAKUPAN, "roles", "revoke", role], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert revoke.returncode == 0, revoke.stderr
        assert "1 scope(s) revoked; it reads nothing and can no longer log in" in revoke.stdout
    finally:
        rls["admin"].execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
