"""What a failed dbt build found: the first rows of each failing data test, in plain words.

dbt reports a failing test by name and count ("Got 3 results, configured to fail if != 0"); the
operator needs the rows: which month lost its districts, which sources and loads collide. A data
test of this project selects the rows at fault with the columns that explain them (months,
sources, loads, files), so running a failing test's compiled SQL again, with a limit, says what
dbt does not. No library does this; dbt's `--store-failures` writes tables, but prints nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from psycopg import sql

ROWS_SHOWN = 5


def failing_tests(run_results: Path) -> list[dict]:
    """The tests of a dbt run that failed or errored, from its `run_results.json`."""
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [
        r
        for r in results
        if r.get("unique_id", "").startswith("test.")
        and r.get("status") in ("fail", "error")
        and r.get("compiled_code")
    ]


def _rows(conn, compiled: str) -> tuple[list[str], list[tuple]]:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("select * from ({}) as failing limit {}").format(
                sql.SQL(compiled), sql.Literal(ROWS_SHOWN)
            )
        )
        columns = [c.name for c in cur.description]
        return columns, cur.fetchall()


def explain(conn, run_results: Path) -> list[str]:
    """One block of lines per failing test: its name, then its first rows as `column=value`."""
    lines: list[str] = []
    for result in failing_tests(run_results):
        name = result["unique_id"].split(".")[2]
        lines.append(f"failed: {name} ({result.get('failures') or 0} row(s)); first rows:")
        try:
            columns, rows = _rows(conn, result["compiled_code"])
        except Exception as exc:  # a test that errored may not run again: say so, go on
            conn.rollback()
            lines.append(f"  (could not run it again: {str(exc).splitlines()[0]})")
            continue
        for row in rows:
            pairs = (f"{c}={v}" for c, v in zip(columns, row, strict=True) if v is not None)
            lines.append("  " + ", ".join(pairs))
    conn.rollback()
    return lines


__all__ = ["explain", "failing_tests"]
