"""Load one source file: land its rows unchanged (one transaction), then accept them (another).

1. **Land** (`cakupan.sources.landed`): the rows as text, by COPY, in a table of the load's own,
   with the load recorded in `raw.loads` as `landed`. All or nothing: a fault rolls it back.
2. **Accept** (`cakupan.sources.accept`, the rules `cakupan sources check` runs too): typed,
   region-matched rows into the contract's raw table and every row that cannot be understood
   into `raw.rejects`; the measures the contract feeds into `raw.observations`
   (`cakupan.landing.observations`); the load's scope recorded, and what earlier loads of the
   same source (and file) it covers superseded, never deleted (`cakupan.landing.scopes`); a
   delivery far smaller than the current one refused unless allowed; `raw.loads` gets its counts
   and `succeeded`. All or nothing again: a fault marks the load `failed` with the error and
   drops its landed rows.

From its landing to its end the load's session holds the load's lock (`hold_load_lock`): a load
that a crash interrupts (its process killed, its connection lost, the server restarted) is left
`landed` with its lock free, and the next load, or `cakupan loads list`, marks it `failed` and
drops its landed copy (`recover_interrupted`). A lost connection is reported with the server's
own words (`WarehouseConnectionLost`), not with what the dead connection says when used again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from cakupan.landing.observations import ensure_observations, write_observations
from cakupan.landing.raw import (
    PROVENANCE_COLUMNS,
    LoadResult,
    drop_landed,
    ensure_landed_schema,
    ensure_landing_schema,
    ensure_raw_table,
    hold_load_lock,
    record_failure,
    recover_interrupted,
    register,
    release_load_lock,
    split_table,
)
from cakupan.landing.removal import purge_superseded
from cakupan.landing.scopes import ensure_scopes_schema, record_scope, refuse_shrink, supersede
from cakupan.sources.accept import Acceptance, plans_for
from cakupan.sources.contracts import Contract
from cakupan.sources.extract import Extraction
from cakupan.sources.landed import LandedSheet, land_sheet, landed_relname, sheets_to_land
from cakupan.warehouse.connection import WarehouseConnectionLost, server_reason

log = logging.getLogger(__name__)


@dataclass
class _Load:
    """One load under way: what the two transactions share."""

    contract: Contract
    extraction: Extraction
    source_file: str
    run_id: str | None
    started: dt.datetime
    load_id: int = 0
    sha256: str | None = None  # a streamed CSV is hashed as it lands
    landed: list[LandedSheet] | None = None
    allow_shrink: bool = False

    @property
    def rows_landed(self) -> int:
        return sum(s.rows_landed for s in self.landed or [])


def land_file(
    conn,
    contract: Contract,
    extraction: Extraction,
    *,
    source_file: str,
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    allow_shrink: bool = False,
) -> LoadResult:
    load = _Load(contract, extraction, source_file, run_id, dt.datetime.now(dt.UTC))
    load.allow_shrink = allow_shrink
    try:
        return _land_and_accept(conn, load, progress)
    except Exception as exc:
        if conn.closed:  # the server's words, not what the dead connection said afterwards
            raise _connection_lost(load, exc) from exc
        raise
    finally:
        release_load_lock(conn, load.load_id)


def _land_and_accept(conn, load: _Load, progress: Callable[[str], None] | None) -> LoadResult:
    _land(conn, load)
    landed_at = dt.datetime.now(dt.UTC)
    if progress is not None:
        progress(
            f"{load.source_file}: {load.rows_landed:,} rows landed as text"
            f" in {(landed_at - load.started).total_seconds():.1f} s; accepting"
        )
    log.info("%s: %s rows landed as text (load %s)", load.source_file, load.rows_landed,
             load.load_id)  # fmt: skip
    result = _accept(conn, load)
    result.accept_seconds = result.seconds - (landed_at - load.started).total_seconds()
    return result


def _connection_lost(load: _Load, exc: Exception) -> WarehouseConnectionLost:
    during = f" during load {load.load_id}" if load.load_id else ""
    return WarehouseConnectionLost(
        f"{load.source_file}: the warehouse connection was lost{during}: {server_reason(exc)}"
    )


def _land(conn, load: _Load) -> None:
    """Transaction 1: record the load as `landed` and COPY every sheet into its own table."""
    contract, extraction = load.contract, load.extraction
    try:
        ensure_landing_schema(conn)
        ensure_landed_schema(conn)
        recover_interrupted(conn)  # loads a crash interrupted before this one
        with conn.cursor() as cur:
            cur.execute(
                "insert into raw.loads (source, raw_table, source_file, source_sha256, status,"
                " run_id, started_at) values (%s, %s, %s, %s, 'landed', %s, %s)"
                " returning load_id",
                (contract.name, contract.raw_table, load.source_file, None, load.run_id,
                 load.started),
            )  # fmt: skip
            load.load_id = cur.fetchone()[0]
            hold_load_lock(cur, load.load_id)  # held before the row is seen, until the end
            _record_request(cur, load)
            load.landed = []
            for index, item in enumerate(sheets_to_land(extraction)):
                relname = landed_relname(contract.raw_table, load.load_id, index)
                sheet = land_sheet(cur, "raw", relname, index, item)
                if item.sha256 is not None:
                    extraction.sha256 = item.sha256
                register(cur, load.load_id, sheet)
                load.landed.append(sheet)
            load.sha256 = extraction.sha256
            cur.execute(
                "update raw.loads set rows_read = %s, source_sha256 = %s where load_id = %s",
                (load.rows_landed, load.sha256, load.load_id),
            )
        conn.commit()
    except BaseException as exc:
        extraction.close()
        if conn.closed:
            raise  # nothing was committed; the caller reports the server's words
        conn.rollback()
        record_failure(
            conn,
            contract.name,
            contract.raw_table,
            load.source_file,
            load.sha256,
            None,
            load.run_id,
            load.started,
            exc,
        )
        raise
    extraction.close()


def _record_request(cur, load: _Load) -> None:
    """An API source's provenance (`cakupan.sources.api.ApiRequest`): endpoint, parameters
    without any key, fetch time; its response hash is the load's `source_sha256`."""
    request = getattr(load.extraction, "request", None)
    if request is not None:
        cur.execute(
            "update raw.loads set source_url = %s, source_params = %s::jsonb, fetched_at = %s"
            " where load_id = %s",
            (request.endpoint, json.dumps(request.params), request.fetched_at, load.load_id),
        )


def _accept(conn, load: _Load) -> LoadResult:
    """Transaction 2: decide every landed row, write accepted rows and rejects, replace what
    earlier loads of the file or its periods landed, and mark the load `succeeded`."""
    contract, raw_table = load.contract, load.contract.raw_table
    try:
        with conn.cursor() as cur:
            # one acceptor per raw table at a time, taken before the table is created: parallel
            # first loads of one source would otherwise race on `create table if not exists`
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (raw_table,))
        ensure_raw_table(conn, raw_table, contract.field_types())
        ensure_scopes_schema(conn)
        if contract.feeds is not None:
            ensure_observations(conn, contract.feeds.dataset)
        with conn.cursor() as cur:
            acceptance = Acceptance(
                cur, contract, load.extraction, plans_for(load.extraction, load.landed or [])
            )
            acceptance.decide()
            accepted = _write_accepted(cur, acceptance, load)
            rejected = _write_rejects(cur, acceptance, load)
            observations = write_observations(cur, contract, load.load_id)
            record_scope(cur, contract, load.load_id)
            if not load.allow_shrink:
                refuse_shrink(cur, load.source_file, contract, load.load_id)
            result = LoadResult(
                load_id=load.load_id,
                source=contract.name,
                raw_table=raw_table,
                source_file=load.source_file,
                rows_read=accepted + rejected,
                rows_landed=accepted,
                rows_rejected=rejected,
                rows_skipped=acceptance.skipped(),
                periods=acceptance.periods(),
                observations=observations,
            )
            cur.execute("drop table _acc")
            _finish(cur, load, result)
        conn.commit()
    except BaseException as exc:
        _record_accept_failure(conn, load, exc)
        raise
    return result


def _record_accept_failure(conn, load: _Load, exc: BaseException) -> None:
    """Mark the load `failed` with its error and drop its landed copy. With the connection
    gone, the next load or listing does it (`recover_interrupted`): the original error is what
    the caller must see, not the dead connection's."""
    if conn.closed:
        return
    try:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(
                "update raw.loads set status = 'failed', error = %s, finished_at = now()"
                " where load_id = %s",
                (str(exc)[:2000], load.load_id),
            )
            drop_landed(cur, [load.load_id])
        conn.commit()
    except Exception:  # the load's own error matters more than its bookkeeping
        log.warning("could not record the failure of load %s", load.load_id, exc_info=True)


def _finish(cur, load: _Load, result: LoadResult) -> None:
    """Record the counts and `succeeded`; supersede what earlier loads of the source said of
    the load's scope (their landed copies go when nothing of them is current)."""
    finished = dt.datetime.now(dt.UTC)
    cur.execute(
        "update raw.loads set status = 'succeeded', periods = %s, rows_read = %s,"
        " rows_landed = %s, rows_rejected = %s, rows_skipped = %s, finished_at = %s"
        " where load_id = %s",
        (
            result.periods,
            result.rows_read,
            result.rows_landed,
            result.rows_rejected,
            result.rows_skipped,
            finished,
            load.load_id,
        ),
    )
    wholly = supersede(cur, result.source)
    cur.execute(
        "select load_id from raw.loads where load_id = any(%s::bigint[]) and superseded_by = %s",
        (wholly, load.load_id),
    )
    result.replaced_loads = sorted(r[0] for r in cur.fetchall())
    drop_landed(cur, wholly)
    result.purged_loads = purge_superseded(cur, result.source, result.raw_table)
    result.seconds = (finished - load.started).total_seconds()


def _write_accepted(cur, acceptance: Acceptance, load: _Load) -> int:
    """The accepted rows of each sheet into the raw table, typed, with their provenance."""
    schema, table = split_table(load.contract.raw_table)
    columns = sql.SQL(", ").join(
        [sql.Identifier(name) for name, _ in PROVENANCE_COLUMNS]
        + [sql.Identifier(n) for n in acceptance.names]
        + [sql.Identifier("_source_values")]
    )
    accepted = 0
    for plan in acceptance.plans:
        # header texts may hold `%`: values as literals, no parameters in this statement
        cur.execute(
            sql.SQL(
                "insert into {s}.{t} ({cols}) select {load}, {at}, {file}, {sha}, a.sheet,"
                " a._row, a.period, a.region_code, {vals}, a.sv from _acc a"
                " where a.sheet_index = {sheet} and not a.skipped and a.reason is null"
            ).format(
                s=sql.Identifier(schema),
                t=sql.Identifier(table),
                cols=columns,
                vals=sql.SQL(", ").join(acceptance.typed_values()),
                load=sql.Literal(load.load_id),
                at=sql.Literal(load.started),
                file=sql.Literal(load.source_file),
                sha=sql.Literal(load.sha256),
                sheet=sql.Literal(plan.landed.sheet_index),
            )
        )
        accepted += cur.rowcount
    return accepted


def _write_rejects(cur, acceptance: Acceptance, load: _Load) -> int:
    """The rejected rows into `raw.rejects`, with the cells as read (accepted rows keep them
    in the landed table, found by load, sheet and row)."""
    rejected = 0
    for plan in acceptance.plans:
        # header texts may hold `%`: values as literals, no parameters in this statement
        cur.execute(
            sql.SQL(
                "insert into raw.rejects (_load_id, _loaded_at, source, source_file, sheet,"
                " source_row, column_name, reason, source_values)"
                " select {load}, {at}, {source}, {file}, a.sheet, a._row, a.column_name,"
                " a.reason, a.sv from _acc a"
                " where a.sheet_index = {sheet} and not a.skipped and a.reason is not null"
                " order by a._row"
            ).format(
                load=sql.Literal(load.load_id),
                at=sql.Literal(load.started),
                source=sql.Literal(load.contract.name),
                file=sql.Literal(load.source_file),
                sheet=sql.Literal(plan.landed.sheet_index),
            )
        )
        rejected += cur.rowcount
    return rejected


__all__ = ["land_file"]
