"""`cakupan roles ...`: the offices' roles (grant, revoke, list) and the statement guard."""

from __future__ import annotations

import argparse
import contextlib


def _connect(name: str):
    from cakupan.warehouse import connect, resolve_params

    return connect(resolve_params(), application_name=f"cakupan-roles-{name}")


def cmd_grant(args) -> int:
    from cakupan.warehouse.roles import grant_office

    with contextlib.closing(_connect("grant")) as conn:
        office = grant_office(
            conn,
            args.role,
            district=args.district,
            kecamatan=args.kecamatan,
            password_env=args.password_env,
            statement_timeout=args.statement_timeout,
            connection_limit=args.connection_limit,
        )
    state = "created" if office.created else "updated"
    scopes = ", ".join(k or f"{d} (whole kab/kota)" for d, k in office.scopes)
    print(f"{office.name}: {state}; reads the rows of {scopes}")
    print(f"  password: {office.password_source}")  # where it is, never the password itself
    return 0


def cmd_revoke(args) -> int:
    from cakupan.warehouse.roles import revoke_office

    with contextlib.closing(_connect("revoke")) as conn:
        removed, left = revoke_office(
            conn, args.role, district=args.district, kecamatan=args.kecamatan
        )
    if not removed:
        print(f"{args.role}: no such scope; nothing revoked")
        return 1
    if left:
        print(
            f"{args.role}: {removed} scope(s) revoked; still reads "
            + ", ".join(k or d for d, k in left)
        )
    else:
        print(f"{args.role}: {removed} scope(s) revoked; it reads nothing and can no longer log in")
    return 0


def cmd_list(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from cakupan.warehouse.roles import list_roles

    with contextlib.closing(_connect("list")) as conn:
        roles = list_roles(conn)
    table = Table(title="reading roles (passwords are never shown)")
    for column in ("role", "kind", "reads", "login", "connections", "statement timeout"):
        table.add_column(column, no_wrap=column == "role")
    for role in roles:
        reads = "marts, dq" if role.kind == "bi" else ", ".join(k or d for d, k in role.scopes)
        limit = "no limit" if role.connection_limit < 0 else str(role.connection_limit)
        table.add_row(
            role.name,
            role.kind,
            reads or "-",
            "yes" if role.can_login else "no",
            f"{role.connections} of {limit}",
            role.statement_timeout or "server default",
        )
    Console().print(table)
    return 0


def cmd_check(args) -> int:
    from cakupan.warehouse.roles import audit

    with contextlib.closing(_connect("check")) as conn:
        problems = audit(conn)
    for problem in problems:
        print(f"problem: {problem}")
    print(
        f"{len(problems)} problem(s)" if problems else "no reading role can read around its limits"
    )
    return 1 if problems else 0


def cmd_guard(args) -> int:
    from cakupan.warehouse.guard import run_guard

    def say(ended) -> None:
        print(
            f"{ended.how} a statement of {ended.role} (pid {ended.pid}): running"
            f" {ended.running_s:.0f} s, its limit {ended.limit_s:.0f} s",
            flush=True,
        )

    with contextlib.closing(_connect("guard")) as conn:
        duration = 0.0 if args.once else args.duration
        ended = run_guard(conn, duration_s=duration, interval_s=args.interval, on_end=say)
    print(f"guard: {len(ended)} statement(s) ended")
    return 0


def register(subparsers) -> None:
    """Add `cakupan roles grant|revoke|list|guard` to the `cakupan` command line."""
    roles = subparsers.add_parser(
        "roles",
        help="office roles (each reads its own rows of `persons`) and the statement guard",
        description=__doc__ + " See docs/PERSONS.md, 'Who sees what'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = roles.add_subparsers(dest="roles_command", required=True)
    grant = sub.add_parser("grant", help="create an office role, or add a scope to it")
    grant.add_argument("role", help="the office's login role, such as dinkes_kukar")
    grant.add_argument("--district", required=True, help="kab/kota code, such as 64.02")
    grant.add_argument("--kecamatan", help="only this kecamatan, such as 64.02.01")
    grant.add_argument(
        "--password-env",
        metavar="VAR",
        help="the password from this environment variable (default: a new role gets a "
        "generated one in .cakupan/roles/ROLE.password, mode 0600)",
    )
    grant.add_argument("--statement-timeout", help="default 60s (CAKUPAN_OFFICE_STATEMENT_TIMEOUT)")
    grant.add_argument(
        "--connection-limit", type=int, help="default 5 (CAKUPAN_OFFICE_CONNECTION_LIMIT)"
    )
    grant.set_defaults(func=cmd_grant)

    revoke = sub.add_parser("revoke", help="remove an office's scopes (all, or one)")
    revoke.add_argument("role")
    revoke.add_argument("--district", help="only the scopes of this kab/kota")
    revoke.add_argument("--kecamatan", help="only this kecamatan's scope")
    revoke.set_defaults(func=cmd_revoke)

    listing = sub.add_parser("list", help="the BI role and the office roles, with their scopes")
    listing.set_defaults(func=cmd_list)

    check = sub.add_parser(
        "check",
        help="list what would let the BI or an office role read around its limits (exit 1)",
    )
    check.set_defaults(func=cmd_check)

    guard = sub.add_parser(
        "guard", help="cancel the reading roles' statements that outlive their statement timeout"
    )
    guard.add_argument("--once", action="store_true", help="look once and stop")
    guard.add_argument(
        "--duration", type=float, default=270.0, help="seconds to keep looking (default 270)"
    )
    guard.add_argument("--interval", type=float, default=5.0, help="seconds between looks")
    guard.set_defaults(func=cmd_guard)
