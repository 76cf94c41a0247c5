"""The warehouse's reading roles: the BI role and the offices' roles (docs/PERSONS.md).

The BI role (`bi_reader`) reads the BI schemas, `marts` and `dq`, and nothing else: USAGE on each
(`BI_SCHEMAS`), SELECT on its tables now and, through default privileges, on every table dbt
creates there later; no privilege on `raw`, `staging`, `intermediate`, `reference`, `persons` or
`restricted`. An office role (`cakupan roles grant ROLE --district 64.02`) reads the person-level
marts of `persons`, whose row-level security (dbt macro `person_rls`) shows it the rows of its own
scope only, and the aggregates of `marts`. Both: read-only transactions, a statement timeout, a
connection limit, no TEMP and no CREATE anywhere (`harden_database`); `cakupan roles guard` ends
their statements that outlive their timeout even when they lift it.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from cakupan import config

log = logging.getLogger(__name__)

# the schemas BI tools read: the marts (facts, dimensions, rollups) and the data-quality models
BI_SCHEMAS = ("marts", "dq")
# the group role of every office role: the macro person_rls grants it SELECT on each person-level
# mart once the mart's policy is in place (dbt var `office_group`)
OFFICE_GROUP = "cakupan_office"
# what an office reads beside its own rows of `persons`: the aggregates (counts per desa and
# district, no person in them), so that it can set its figures beside its neighbours'
OFFICE_AGGREGATE_SCHEMAS = ("marts",)
DEFAULT_BI_CONNECTION_LIMIT = 10
DEFAULT_OFFICE_CONNECTION_LIMIT = 5
DEFAULT_OFFICE_STATEMENT_TIMEOUT = "60s"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DISTRICT_CODE = re.compile(r"^\d{2}\.\d{2}$")
KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
# the scopes, as the macro person_rls creates them too (dbt_project/macros/person_rls.sql): the
# same statement in both, whichever runs first
OFFICE_SCOPES_DDL = """
create table if not exists restricted.office_scopes (
    role_name name not null,
    district_code text not null,
    kecamatan_code text,
    granted_at timestamptz not null default now(),
    constraint office_scopes_unique
        unique nulls not distinct (role_name, district_code, kecamatan_code)
)"""


@dataclass(frozen=True)
class BiRole:
    name: str
    password: str | None
    password_source: str
    statement_timeout: str


def bi_password(*, generate: bool) -> tuple[str | None, str]:
    """The BI role's password: `CAKUPAN_BI_PASSWORD`, else (embedded demo) a generated one."""
    env = os.environ.get("CAKUPAN_BI_PASSWORD")
    if env:
        return env, "env CAKUPAN_BI_PASSWORD"
    path = config.state_dir() / "bi_password"
    if not path.exists():
        if not generate:
            return None, "not set (CAKUPAN_BI_PASSWORD)"
        path.write_text(secrets.token_urlsafe(18) + "\n")
        path.chmod(0o600)
    return path.read_text().strip(), f"file {path}"


def ensure_bi_role(
    conn,
    *,
    role: str | None = None,
    password: str | None = None,
    statement_timeout: str | None = None,
    schemas: Sequence[str] = BI_SCHEMAS,
) -> BiRole:
    """Create or update the BI role and its grants; idempotent. Commits."""
    role = role or config.bi_role()
    statement_timeout = statement_timeout or os.environ.get("CAKUPAN_BI_STATEMENT_TIMEOUT", "30s")
    source = "argument"
    if password is None:
        password, source = bi_password(generate=True)
    ident = sql.Identifier(role)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.bi_role'))")
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create role {} login").format(ident))
        if password:
            set_password(cur, role, password)
        limit = int(os.environ.get("CAKUPAN_BI_CONNECTION_LIMIT", DEFAULT_BI_CONNECTION_LIMIT))
        _reading_role_settings(cur, role, statement_timeout, limit)
        harden_database(cur)
        cur.execute("select current_database(), current_user")
        database, owner = cur.fetchone()
        cur.execute(
            sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), ident)
        )
        for schema in schemas:
            name = sql.Identifier(schema)
            cur.execute(sql.SQL("create schema if not exists {}").format(name))
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(name, ident))
            cur.execute(
                sql.SQL("grant select on all tables in schema {} to {}").format(name, ident)
            )
            cur.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema {} grant select on tables to {}"
                ).format(sql.Identifier(owner), name, ident)
            )
        # nothing else: the public schema's default CREATE is gone since PostgreSQL 15,
        # and no other schema grants anything to PUBLIC
        cur.execute(sql.SQL("revoke create on schema public from {}").format(ident))
    conn.commit()
    log.info(
        "BI role %s reads schemas %s (statement_timeout %s)",
        role,
        ", ".join(schemas),
        statement_timeout,
    )
    return BiRole(role, password, source, statement_timeout)


def set_password(cur, role: str, password: str) -> None:
    """A role's password as its SCRAM verifier, computed here by libpq (PQencryptPasswordConn):
    the clear password never reaches the server, its log or pg_stat_activity. A literal: DDL
    takes no bound parameters (psycopg 3 binds them on the server)."""
    verifier = cur.connection.pgconn.encrypt_password(
        password.encode(), role.encode(), b"scram-sha-256"
    )
    cur.execute(
        sql.SQL("alter role {} login password {}").format(
            sql.Identifier(role), sql.Literal(verifier.decode())
        )
    )


def _reading_role_settings(cur, role: str, statement_timeout: str, connection_limit: int) -> None:
    """A reading role's limits: read-only transactions, its statement timeout, its connections."""
    ident = sql.Identifier(role)
    cur.execute(
        sql.SQL("alter role {} set statement_timeout = {}").format(
            ident, sql.Literal(statement_timeout)
        )
    )
    cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
    cur.execute(
        sql.SQL("alter role {} set idle_in_transaction_session_timeout = '10min'").format(ident)
    )
    cur.execute(
        sql.SQL("alter role {} connection limit {}").format(ident, sql.Literal(connection_limit))
    )


def harden_database(cur) -> bool:
    """No TEMP for PUBLIC (so none for the BI and office roles, which `begin read write` would
    otherwise let create temporary tables and functions); the warehouse owner (this connection's
    role: the landing and `sources check` use temporary tables) keeps it. Needs the database's
    owner or a superuser: otherwise a warning says who must run what, and False."""
    cur.execute(
        "select current_database(), current_user,"
        " pg_has_role(current_user, d.datdba, 'member') or r.rolsuper"
        " from pg_database as d, pg_roles as r"
        " where d.datname = current_database() and r.rolname = current_user"
    )
    database, owner, can = cur.fetchone()
    db = sql.Identifier(database)
    if not can:
        log.warning(
            "TEMP on database %s stays granted to PUBLIC: %s owns neither the database nor is "
            "a superuser; as its owner run: grant temporary on database %s to %s; "
            "revoke temporary on database %s from public",
            database,
            owner,
            database,
            owner,
            database,
        )
        return False
    cur.execute(sql.SQL("grant temporary on database {} to {}").format(db, sql.Identifier(owner)))
    cur.execute(sql.SQL("revoke temporary on database {} from public").format(db))
    return True


# -- office roles: each office reads its own rows of `persons` ----------------------------------


@dataclass(frozen=True)
class OfficeRole:
    name: str
    scopes: tuple[tuple[str, str | None], ...]
    password_source: str
    created: bool


def _reference_codes(name: str, level: str) -> set[str] | None:
    """The codes of one level in a reference CSV of the package; None when it is not there."""
    path = config.PACKAGE_DIR / "reference" / name
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as f:
        return {row["code"] for row in csv.DictReader(f) if row["level"] == level}


def check_scope(district: str, kecamatan: str | None) -> None:
    """A kab/kota code of regions.csv (`64.02`), and a kecamatan of that kab/kota (`64.02.01`)."""
    if not DISTRICT_CODE.match(district):
        raise ValueError(f"--district {district!r}: a kab/kota code such as 64.02")
    districts = _reference_codes("regions.csv", "district")
    if districts is not None and district not in districts:
        raise ValueError(f"--district {district}: no such kab/kota in regions.csv")
    if kecamatan is None:
        return
    if not KECAMATAN_CODE.match(kecamatan) or not kecamatan.startswith(district + "."):
        raise ValueError(
            f"--kecamatan {kecamatan!r}: a kecamatan code of kab/kota {district}, "
            f"such as {district}.01"
        )
    kecamatans = _reference_codes("wilayah_2025.csv", "kecamatan")
    if kecamatans is not None and kecamatan not in kecamatans:
        raise ValueError(f"--kecamatan {kecamatan}: no such kecamatan in wilayah_2025.csv")


def _check_office_role(cur, role: str) -> bool:
    """The role may be an office role (a plain login role); whether it exists already."""
    if not ROLE_NAME.match(role):
        raise ValueError(
            f"role {role!r}: lower-case letters, digits and _ (such as dinkes_kukar), "
            "at most 63 characters"
        )
    cur.execute("select current_user")
    if role in (config.bi_role(), OFFICE_GROUP, cur.fetchone()[0]):
        raise ValueError(f"role {role}: that role is not for an office")
    cur.execute(
        "select rolsuper or rolcreaterole or rolcreatedb or rolbypassrls or rolreplication"
        " from pg_roles where rolname = %s",
        (role,),
    )
    row = cur.fetchone()
    if row and row[0]:
        raise ValueError(f"role {role} exists and has administrative rights: not an office role")
    return row is not None


def office_password(role: str, *, env_var: str | None, create: bool) -> tuple[str | None, str]:
    """An office role's password: from the named environment variable, else (a new role) a
    generated one in `.cakupan/roles/ROLE.password` (mode 0600); never printed."""
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise ValueError(f"--password-env {env_var}: that environment variable is not set")
        return value, f"env {env_var}"
    path = config.state_dir() / "roles" / f"{role}.password"
    if path.exists():
        return (path.read_text().strip() if create else None), f"file {path}"
    if not create:
        return None, "unchanged"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(18) + "\n")
    return path.read_text().strip(), f"file {path}"


def _ensure_office_group(cur) -> None:
    """The group role, the scopes table, and the group's grants: USAGE on `persons` and SELECT on
    its tables that already carry their policy (the macro grants the next ones), the aggregates."""
    group = sql.Identifier(OFFICE_GROUP)
    cur.execute("select 1 from pg_roles where rolname = %s", (OFFICE_GROUP,))
    if cur.fetchone() is None:
        cur.execute(sql.SQL("create role {} nologin").format(group))
    cur.execute("create schema if not exists restricted")
    cur.execute(OFFICE_SCOPES_DDL)
    cur.execute("revoke all on restricted.office_scopes from public")
    cur.execute("create schema if not exists persons")
    cur.execute(sql.SQL("grant usage on schema persons to {}").format(group))
    cur.execute(
        "select n.nspname, c.relname from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = 'persons' and ((c.relkind in ('r', 'p') and c.relrowsecurity"
        " and c.relforcerowsecurity and exists (select from pg_policy as p"
        " where p.polrelid = c.oid and p.polname = 'office_scope'))"
        " or (c.relkind = 'v' and c.reloptions @> array['security_invoker=true']))"
    )
    for schema, table in cur.fetchall():
        cur.execute(
            sql.SQL("grant select on {} to {}").format(sql.Identifier(schema, table), group)
        )
    if _scope_function_exists(cur):
        cur.execute(
            sql.SQL("grant execute on function restricted.office_scopes_of(name) to {}").format(
                group
            )
        )
    cur.execute("select current_user")
    owner = sql.Identifier(cur.fetchone()[0])
    for schema in OFFICE_AGGREGATE_SCHEMAS:
        name = sql.Identifier(schema)
        cur.execute(sql.SQL("create schema if not exists {}").format(name))
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(name, group))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(name, group))
        cur.execute(
            sql.SQL(
                "alter default privileges for role {} in schema {} grant select on tables to {}"
            ).format(owner, name, group)
        )


def _scope_function_exists(cur) -> bool:
    cur.execute("select to_regprocedure('restricted.office_scopes_of(name)') is not null")
    return bool(cur.fetchone()[0])


def grant_office(
    conn,
    role: str,
    *,
    district: str,
    kecamatan: str | None = None,
    password_env: str | None = None,
    statement_timeout: str | None = None,
    connection_limit: int | None = None,
) -> OfficeRole:
    """Create (or update) an office's login role and add a scope to it; idempotent. Commits."""
    check_scope(district, kecamatan)
    statement_timeout = statement_timeout or os.environ.get(
        "CAKUPAN_OFFICE_STATEMENT_TIMEOUT", DEFAULT_OFFICE_STATEMENT_TIMEOUT
    )
    if connection_limit is None:
        connection_limit = int(
            os.environ.get("CAKUPAN_OFFICE_CONNECTION_LIMIT", DEFAULT_OFFICE_CONNECTION_LIMIT)
        )
    ident = sql.Identifier(role)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.bi_role'))")
        exists = _check_office_role(cur, role)
        password, source = office_password(role, env_var=password_env, create=not exists)
        if not exists:
            cur.execute(sql.SQL("create role {} login").format(ident))
        if password:
            set_password(cur, role, password)
        else:
            cur.execute(sql.SQL("alter role {} login").format(ident))
        _reading_role_settings(cur, role, statement_timeout, connection_limit)
        harden_database(cur)
        _ensure_office_group(cur)
        # inherited (its grants apply), but no `set role` to it
        cur.execute(
            sql.SQL("grant {} to {} with inherit true, set false").format(
                sql.Identifier(OFFICE_GROUP), ident
            )
        )
        cur.execute(
            "insert into restricted.office_scopes (role_name, district_code, kecamatan_code)"
            " values (%s, %s, %s) on conflict do nothing",
            (role, district, kecamatan),
        )
        scopes = _scopes(cur, role)
    conn.commit()
    log.info("office role %s reads %s", role, ", ".join(k or d for d, k in scopes))
    return OfficeRole(role, scopes, source, not exists)


def _scopes(cur, role: str) -> tuple[tuple[str, str | None], ...]:
    cur.execute(
        "select district_code, kecamatan_code from restricted.office_scopes"
        " where role_name = %s order by 1, 2 nulls first",
        (role,),
    )
    return tuple((d, k) for d, k in cur.fetchall())


def revoke_office(
    conn, role: str, *, district: str | None = None, kecamatan: str | None = None
) -> tuple[int, tuple[tuple[str, str | None], ...]]:
    """Remove an office's scopes (all, or those of one kab/kota or kecamatan). A role left with
    none leaves the office group and can no longer log in. Takes effect at once: the policies
    read the scopes on every query. Returns (scopes removed, scopes left). Commits."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('cakupan.bi_role'))")
        cur.execute("select to_regclass('restricted.office_scopes') is not null")
        if not cur.fetchone()[0]:
            raise ValueError("no office role has been granted in this warehouse")
        cur.execute(
            "delete from restricted.office_scopes where role_name = %s"
            " and (%s::text is null or district_code = %s)"
            " and (%s::text is null or kecamatan_code = %s)",
            (role, district, district, kecamatan, kecamatan),
        )
        removed = cur.rowcount
        left = _scopes(cur, role)
        cur.execute("select 1 from pg_roles where rolname = %s", (role,))
        if not left and cur.fetchone() is not None:
            _check_office_role(cur, role)
            ident = sql.Identifier(role)
            cur.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(OFFICE_GROUP), ident))
            cur.execute(sql.SQL("alter role {} nologin").format(ident))
    conn.commit()
    return removed, left


@dataclass(frozen=True)
class ReadingRole:
    name: str
    kind: str  # 'bi' | 'office'
    can_login: bool
    connection_limit: int
    statement_timeout: str | None
    connections: int
    scopes: tuple[tuple[str, str | None], ...]


def list_roles(conn) -> list[ReadingRole]:
    """The BI role and every office role (the members of the office group), with their limits."""
    with conn.cursor() as cur:
        names = [config.bi_role()]
        if _group_exists(cur):
            cur.execute(
                "select rolname from pg_roles where pg_has_role(oid, %s, 'member')"
                " and not rolsuper and rolname <> %s order by rolname",
                (OFFICE_GROUP, OFFICE_GROUP),
            )
            names += [name for (name,) in cur.fetchall() if name != config.bi_role()]
        cur.execute(
            "select r.rolname, r.rolcanlogin, r.rolconnlimit,"
            " (select substr(s, length('statement_timeout=') + 1)"
            "  from pg_db_role_setting as d, unnest(d.setconfig) as s"
            "  where d.setrole = r.oid and s like 'statement_timeout=%%' limit 1),"
            " (select count(*) from pg_stat_activity as a where a.usename = r.rolname)"
            " from pg_roles as r where r.rolname = any(%s)"
            " order by array_position(%s, r.rolname::text)",
            (names, names),
        )
        rows = cur.fetchall()
        cur.execute("select to_regclass('restricted.office_scopes') is not null")
        has_scopes = cur.fetchone()[0]
        return [
            ReadingRole(
                name,
                "bi" if name == config.bi_role() else "office",
                login,
                limit,
                timeout,
                connections,
                _scopes(cur, name) if has_scopes else (),
            )
            for name, login, limit, timeout, connections in rows
        ]


def _group_exists(cur) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", (OFFICE_GROUP,))
    return cur.fetchone() is not None


# what `cakupan roles check` looks for: one query per rule, each row one problem in words;
# %(roles)s are the reading roles that exist (the BI role, the office group), %(group)s the group
AUDIT_RULES = (
    # a relation of `persons` an office can read without the policy applying
    """select format('%%I.%%I: readable by %%s without forced row-level security and its policy',
           n.nspname, c.relname, r.rolname)
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace, pg_roles as r
    where n.nspname = 'persons' and c.relkind in ('r', 'p') and r.rolname = any(%(roles)s)
      and has_table_privilege(r.oid, c.oid, 'select')
      and not (c.relrowsecurity and c.relforcerowsecurity and exists (
          select from pg_policy as p where p.polrelid = c.oid and p.polname = 'office_scope'))""",
    """select format('%%I.%%I: a view of persons without security_invoker', n.nspname, c.relname)
    from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
    where n.nspname = 'persons' and c.relkind in ('v', 'm')
      and not coalesce(c.reloptions @> array['security_invoker=true'], false)""",
    # a function running as its owner, callable by a reading role, reads around RLS when its
    # owner is a superuser (RLS never applies to one); the scopes' own function is in
    # `restricted`, which no reading role may use
    """select format('%%s: security definer, executable by %%s', p.oid::regprocedure, r.rolname)
    from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace, pg_roles as r
    where p.prosecdef and r.rolname = any(%(roles)s)
      and has_function_privilege(r.oid, p.oid, 'execute')
      and has_schema_privilege(r.oid, n.oid, 'usage')""",
    """select format('%%s may create in schema %%I', r.rolname, n.nspname)
    from pg_roles as r, pg_namespace as n
    where r.rolname = any(%(roles)s) and has_schema_privilege(r.oid, n.oid, 'create')""",
    """select format('%%s has TEMP or CREATE on database %%I', r.rolname, current_database())
    from pg_roles as r where r.rolname = any(%(roles)s) and (
        has_database_privilege(r.oid, current_database(), 'temp')
        or has_database_privilege(r.oid, current_database(), 'create'))""",
    """select format('%%s may use schema %%I', r.rolname, n.nspname)
    from pg_roles as r, pg_namespace as n
    where r.rolname = any(%(roles)s) and has_schema_privilege(r.oid, n.oid, 'usage')
      and (n.nspname in ('restricted', 'raw', 'staging', 'intermediate')
        or n.nspname = 'persons' and r.rolname <> %(group)s)""",
)


def audit(conn) -> list[str]:
    """What lets a reading role (the BI role, the office group) read or write around its limits,
    in words; empty when nothing does. `cakupan roles check`."""
    with conn.cursor() as cur:
        cur.execute(
            "select array_agg(rolname::text) from pg_roles where rolname = any(%s)",
            ([OFFICE_GROUP, config.bi_role()],),
        )
        roles = cur.fetchone()[0] or []
        problems: list[str] = []
        for rule in AUDIT_RULES if roles else ():
            cur.execute(rule, {"roles": roles, "group": OFFICE_GROUP})
            problems += [row[0] for row in cur.fetchall()]
    conn.rollback()
    return sorted(set(problems))
