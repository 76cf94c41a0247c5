"""Take loads out of the warehouse (`cakupan loads remove`): one transaction, one function.

`remove_loads` deletes what the loads put in the warehouse (their rows in their raw tables,
their observations, their rejected rows, their landed copies), keeps each in `raw.loads` as
`removed` with when and by whom, and recomputes what the other loads of their sources
supersede (`cakupan.landing.scopes.supersede`): an earlier load that a removed one superseded is
current again. The next transform rebuilds the months the loads fed from what remains.

`purge_superseded` applies the retention setting: the rows of a load superseded as a whole
longer ago than `CAKUPAN_SUPERSEDED_RETENTION_DAYS` (default 90; `never` keeps them) are deleted
the same way, and `raw.loads` keeps the load with `purged_at`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from psycopg import sql

from cakupan.landing.observations import delete_observations
from cakupan.landing.raw import drop_landed, split_table
from cakupan.landing.scopes import supersede
from cakupan.sources.contracts import PERSON_TABLE


class LoadRemovalError(ValueError):
    """Loads that cannot be removed (unknown, or still under way); nothing was changed."""


@dataclass
class RemovedLoad:
    load_id: int
    source: str
    raw_table: str
    source_file: str | None
    status: str  # before the removal
    rows_deleted: int = 0
    rejects_deleted: int = 0
    landed_tables_dropped: int = 0


@dataclass
class Removal:
    """What `remove_loads` did: the loads removed, those removed before, the observations
    deleted and the earlier loads of the same sources that are current again."""

    removed: list[RemovedLoad] = field(default_factory=list)
    already_removed: list[int] = field(default_factory=list)
    observations_deleted: int = 0
    current_again: list[int] = field(default_factory=list)

    @property
    def rows_deleted(self) -> int:
        return sum(load.rows_deleted for load in self.removed)


def remove_loads(cur, load_ids: list[int], *, removed_by: str | None = None) -> Removal:
    """Take loads out of the warehouse: their rows in their raw tables, their observations,
    their rejects and their landed copies are deleted, and `raw.loads` keeps each with status
    `removed`, when and by whom (the database user, after `removed_by` when given); what the
    other loads of their sources supersede is recomputed, so the loads a removed one had
    superseded come back. In the caller's transaction: the caller commits, and an error leaves
    everything as it was.

    A load still under way (`landed`, `running`) cannot be removed; run `recover_interrupted`
    first so that an interrupted one is `failed`. Loads already removed are reported, not
    changed. The next transform rebuilds the months of the removed loads from what remains."""
    removal = Removal()
    loads = _loads_to_remove(cur, sorted(set(load_ids)), removal)
    if not loads:
        return removal
    ids = [load.load_id for load in loads]
    for raw_table in sorted({load.raw_table for load in loads}):
        _delete_rows(cur, raw_table, [load for load in loads if load.raw_table == raw_table])
    removal.observations_deleted = delete_observations(cur, ids)
    # a removed load covers nothing: its scope goes (the facts' month fingerprints read scopes)
    cur.execute("select to_regclass('raw.load_scopes') is not null")
    if cur.fetchone()[0]:
        cur.execute("delete from raw.load_scopes where load_id = any(%s::bigint[])", (ids,))
    cur.execute(
        "with gone as (delete from raw.rejects where _load_id = any(%s::bigint[])"
        " returning _load_id) select _load_id, count(*) from gone group by _load_id",
        (ids,),
    )
    rejects = dict(cur.fetchall())
    cur.execute(
        "select load_id, count(*) from raw.landed_sheets where load_id = any(%s::bigint[])"
        " group by load_id",
        (ids,),
    )
    landed = dict(cur.fetchall())
    drop_landed(cur, ids)
    cur.execute(
        "update raw.loads set status = 'removed', removed_at = now(), removed_by ="
        " concat_ws(' as ', %s::text, session_user) where load_id = any(%s::bigint[])",
        (removed_by, ids),
    )
    removal.current_again = _supersede_again(cur, sorted({load.source for load in loads}))
    for load in loads:
        load.rejects_deleted = rejects.get(load.load_id, 0)
        load.landed_tables_dropped = landed.get(load.load_id, 0)
    removal.removed = loads
    return removal


def _loads_to_remove(cur, load_ids: list[int], removal: Removal) -> list[RemovedLoad]:
    """The loads to remove, locked; a LoadRemovalError for unknown loads and loads under way.

    The lock every acceptor of a raw table takes first (`pg_advisory_xact_lock` on its name) is
    taken here before the load log's rows, in the acceptors' order: an acceptor superseding one
    of these loads updates its row while holding that lock, so the other order could deadlock."""
    cur.execute(
        "select distinct raw_table from raw.loads where load_id = any(%s::bigint[])"
        " order by raw_table",
        (load_ids,),
    )
    for (raw_table,) in cur.fetchall():
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (raw_table,))
    cur.execute(
        "select load_id, source, raw_table, source_file, status from raw.loads"
        " where load_id = any(%s::bigint[]) order by load_id for update",
        (load_ids,),
    )
    found = {row[0]: RemovedLoad(*row) for row in cur.fetchall()}
    unknown = [str(i) for i in load_ids if i not in found]
    if unknown:
        raise LoadRemovalError(
            f"no load {', '.join(unknown)} in the load log (see `cakupan loads list`)"
        )
    running = [str(i) for i, load in found.items() if load.status in ("landed", "running")]
    if running:
        raise LoadRemovalError(
            f"load {', '.join(running)} is still under way; remove it once it has ended"
        )
    removal.already_removed = [i for i, load in found.items() if load.status == "removed"]
    return [load for load in found.values() if load.status != "removed"]


def _delete_rows(cur, raw_table: str, loads: list[RemovedLoad]) -> None:
    """Delete the loads' rows from their raw table (its acceptors' lock is held already)."""
    schema, table = split_table(raw_table)
    cur.execute("select to_regclass(%s) is not null", (f'"{schema}"."{table}"',))
    if not cur.fetchone()[0]:
        return  # loads that failed before their raw table was created
    ids = [load.load_id for load in loads]
    column = "_load_id"
    if raw_table == PERSON_TABLE:  # person-level loads (cakupan.landing.persons)
        column = "load_id"
        cur.execute("delete from raw.person_rejects where load_id = any(%s::bigint[])", (ids,))
    cur.execute(
        sql.SQL(
            "with gone as (delete from {}.{} where {c} = any(%s::bigint[])"
            " returning {c}) select {c}, count(*) from gone group by {c}"
        ).format(sql.Identifier(schema), sql.Identifier(table), c=sql.Identifier(column)),
        (ids,),
    )
    deleted = dict(cur.fetchall())
    for load in loads:
        load.rows_deleted = deleted.get(load.load_id, 0)


def _supersede_again(cur, sources: list[str]) -> list[int]:
    """Recompute what the sources' succeeded loads supersede (a removed load supersedes
    nothing); return the loads that were superseded whole and are current again."""
    cur.execute("select to_regclass('raw.superseded') is not null")
    if not cur.fetchone()[0]:
        return []  # a load log older than scopes: nothing supersedes anything
    cur.execute(
        "select load_id from raw.loads where source = any(%s::text[]) and status = 'succeeded'"
        " and superseded_by is not null",
        (sources,),
    )
    before = {row[0] for row in cur.fetchall()}
    still = set()
    for source in sources:
        still |= set(supersede(cur, source))
    return sorted(before - still)


def current_loads_of_files(cur, source_files: list[str]) -> list[int]:
    """The loads whose rows stand for these files now: succeeded, not superseded, not removed."""
    cur.execute(
        "select load_id from raw.loads where source_file = any(%s::text[])"
        " and status = 'succeeded' and superseded_by is null order by load_id",
        (source_files,),
    )
    return [row[0] for row in cur.fetchall()]


__all__ = ["LoadRemovalError", "Removal", "current_loads_of_files", "remove_loads"]


RETENTION_DAYS_DEFAULT = 90


def retention_days() -> int | None:
    """`CAKUPAN_SUPERSEDED_RETENTION_DAYS`: days a superseded load's rows are kept (None:
    `never` purge)."""
    value = os.environ.get("CAKUPAN_SUPERSEDED_RETENTION_DAYS", str(RETENTION_DAYS_DEFAULT))
    if value.strip().lower() in ("never", "none", ""):
        return None
    return max(0, int(value))


def purge_superseded(cur, source: str, raw_table: str) -> list[int]:
    """Delete the rows of the source's loads superseded as a whole before the retention period
    (their observations, rejects and landed copies too); return them. In the caller's
    transaction, under the raw table's acceptor lock."""
    days = retention_days()
    if days is None:
        return []
    cur.execute(
        "select old.load_id from raw.loads old join raw.loads new on new.load_id ="
        " old.superseded_by where old.source = %s and old.status = 'succeeded'"
        " and old.purged_at is null"
        " and new.finished_at <= clock_timestamp() - make_interval(days => %s)",
        (source, days),
    )
    ids = sorted(r[0] for r in cur.fetchall())
    if not ids:
        return []
    loads = [RemovedLoad(i, source, raw_table, None, "succeeded") for i in ids]
    _delete_rows(cur, raw_table, loads)
    delete_observations(cur, ids)
    cur.execute("delete from raw.rejects where _load_id = any(%s::bigint[])", (ids,))
    drop_landed(cur, ids)
    cur.execute("update raw.loads set purged_at = now() where load_id = any(%s::bigint[])", (ids,))
    return ids
