"""The statement guard: ends the reading roles' statements that run past their timeout.

A role's `statement_timeout` is only a default: any session can `set statement_timeout = 0` and
run without limit, and PostgreSQL has no setting a role cannot lift. So the guard looks, every few
seconds, at the active statements of the BI role and the office roles (`pg_stat_activity`) and
cancels (`pg_cancel_backend`) those running longer than their role's own timeout; a statement
still running at the next look after its cancel (a cancel waits for the backend to check for
interrupts) is ended with its session (`pg_terminate_backend`).

Seeing other roles' statements and signalling their backends needs a superuser, or membership of
`pg_read_all_stats` and `pg_signal_backend` (docs/OPERATIONS.md, "Roles").
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from cakupan import config
from cakupan.warehouse.roles import OFFICE_GROUP

log = logging.getLogger(__name__)

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$")
UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, None: 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400}
DEFAULT_LIMIT_S = 300.0  # a guarded role without a timeout of its own


class GuardPrivilegeError(RuntimeError):
    """The guard's role cannot see or signal other roles' statements."""


@dataclass(frozen=True)
class Ended:
    pid: int
    role: str
    running_s: float
    limit_s: float
    how: str  # 'cancelled' | 'terminated'


def timeout_seconds(value: str | None) -> float | None:
    """A `statement_timeout` setting in seconds (`30s`, `5min`, `30000` = ms); None for none."""
    if not value:
        return None
    match = DURATION.match(value)
    if not match:
        raise ValueError(f"statement_timeout {value!r} is not a duration")
    seconds = float(match.group(1)) * UNIT_SECONDS[match.group(2)]
    return seconds or None


def check_privileges(cur) -> None:
    cur.execute(
        "select current_user, rolsuper,"
        " pg_has_role(current_user, 'pg_signal_backend', 'usage'),"
        " pg_has_role(current_user, 'pg_read_all_stats', 'usage')"
        " from pg_roles where rolname = current_user"
    )
    role, superuser, signal, stats = cur.fetchone()
    if not superuser and not (signal and stats):
        raise GuardPrivilegeError(
            f"the guard connects as {role}, which cannot see or cancel other roles' statements:"
            f" as a superuser, run `grant pg_read_all_stats, pg_signal_backend to {role}`"
        )


def guarded_limits(cur, default_s: float = DEFAULT_LIMIT_S) -> dict[str, float]:
    """The guarded roles (the BI role, the office roles) and their timeouts in seconds."""
    cur.execute(
        "select r.rolname,"
        " (select substr(s, length('statement_timeout=') + 1)"
        "  from pg_db_role_setting as d, unnest(d.setconfig) as s"
        "  where d.setrole = r.oid and d.setdatabase in (0, (select oid from pg_database"
        "  where datname = current_database())) and s like 'statement_timeout=%%'"
        "  order by d.setdatabase desc limit 1)"
        " from pg_roles as r where not r.rolsuper and r.rolname <> %s and (r.rolname = %s"
        " or exists (select from pg_roles as g where g.rolname = %s"
        " and pg_has_role(r.oid, g.oid, 'member')))",
        (OFFICE_GROUP, config.bi_role(), OFFICE_GROUP),
    )
    return {role: timeout_seconds(value) or default_s for role, value in cur.fetchall()}


def guard_once(conn, *, already: set[tuple[int, object]] | None = None) -> list[Ended]:
    """One look: cancel the guarded roles' statements past their limit (terminate those cancelled
    at an earlier look and still running: `already`, updated). Commits."""
    already = already if already is not None else set()
    ended: list[Ended] = []
    with conn.cursor() as cur:
        check_privileges(cur)
        limits = guarded_limits(cur)
        cur.execute(
            "select pid, usename, query_start,"
            " extract(epoch from clock_timestamp() - query_start)::float8"
            " from pg_stat_activity where usename = any(%s) and state = 'active'"
            " and backend_type = 'client backend' and pid <> pg_backend_pid()",
            (list(limits),),
        )
        for pid, role, started, running in cur.fetchall():
            if running <= limits[role]:
                continue
            terminate = (pid, started) in already
            how = "terminated" if terminate else "cancelled"
            if terminate:
                cur.execute("select pg_terminate_backend(%s)", (pid,))
            else:
                cur.execute("select pg_cancel_backend(%s)", (pid,))
            if cur.fetchone()[0]:
                already.add((pid, started))
                ended.append(Ended(pid, role, running, limits[role], how))
                log.warning(
                    "%s statement of %s (pid %s): running %.0f s, its limit %.0f s",
                    how,
                    role,
                    pid,
                    running,
                    limits[role],
                )
    conn.commit()
    return ended


def run_guard(
    conn,
    *,
    duration_s: float,
    interval_s: float = 5.0,
    on_end: Callable[[Ended], None] | None = None,
) -> list[Ended]:
    """Look every `interval_s` seconds for `duration_s` seconds (0: one look)."""
    check_privileges(conn.cursor())
    conn.commit()
    already: set[tuple[int, object]] = set()
    ended: list[Ended] = []
    stop = time.monotonic() + duration_s
    while True:
        for item in guard_once(conn, already=already):
            ended.append(item)
            if on_end:
                on_end(item)
        if time.monotonic() + interval_s > stop:
            return ended
        time.sleep(interval_s)
