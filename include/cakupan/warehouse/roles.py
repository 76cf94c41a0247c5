"""The read-only role BI tools use: it reads the BI schemas, `marts` and `dq`, and nothing else.

The role gets USAGE on each BI schema (`BI_SCHEMAS`), SELECT on its tables now and, through
default privileges, on every table dbt creates there later; it has no privilege on `raw`,
`staging`, `intermediate` or `reference`, its transactions are read-only and its statements time
out.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from cakupan import config

log = logging.getLogger(__name__)

# the schemas BI tools read: the marts (facts, dimensions, rollups) and the data-quality models
BI_SCHEMAS = ("marts", "dq")


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
            # a literal: DDL takes no bound parameters (psycopg 3 binds them on the server)
            cur.execute(
                sql.SQL("alter role {} login password {}").format(ident, sql.Literal(password))
            )
        cur.execute(
            sql.SQL("alter role {} set statement_timeout = {}").format(
                ident, sql.Literal(statement_timeout)
            )
        )
        cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(ident))
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
