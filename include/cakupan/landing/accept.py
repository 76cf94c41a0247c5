"""Type, match and check landed rows in the warehouse: accepted rows and rejects, by SQL.

The rules are the ones `cakupan sources check` applies (`cakupan.parsing`), run once per
*distinct* cell text instead of once per row: the distinct texts of each column are read back,
parsed by the same Python functions, and the outcomes (value or reason) sent to the server as
small lookup tables; one `insert ... select` per sheet then joins every landed row to them.
Plain digits, which are most cells of most files, are typed by SQL directly (the same result:
`int()` of ASCII digits), so a million-row file sends only its non-trivial texts to Python.

Outcome per landed row, as in `cakupan.sources.extract`: skipped (blank, or matched by a
`skip_rows` rule, or blank apart from spaces and unreadable), rejected (every problem in one
reason, the first problem's column), or accepted; then duplicates of an accepted key are
rejected as `duplicate of row N`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg2 import sql

from cakupan.landing.copy import SQL_TYPES
from cakupan.landing.text import MARK, NULL, LandedSheet, cell_value
from cakupan.parsing.numbers import ParseError
from cakupan.sources.contracts import Contract
from cakupan.sources.extract import Extraction, value_parser

NUMERIC = ("integer", "number", "percent")
MISSING = "\x01"  # stands for NULL in lookup keys, so that lookups are equality (hash) joins


@dataclass
class SheetPlan:
    landed: LandedSheet
    columns: dict[str, tuple[int, str]]  # field -> (0-based column index, header text)
    period: dt.date | None
    skipped_above: int
    texts: list[str]  # header text per column ('' where the header cell is blank)


def _value_text(value: Any) -> str | None:
    """A parsed value as text the typed column casts back (dates ISO, numbers exact)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _copy_table(cur, name: str, columns: list[str], rows: list[tuple]) -> None:
    """A temporary lookup table, filled by COPY (CSV; `\\N` is NULL, an empty field is '')."""
    cur.execute(
        sql.SQL("create temp table {} ({}) on commit drop").format(
            sql.Identifier(name),
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns),
        )
    )
    if not rows:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([NULL if v is None else v for v in row])
    cur.copy_expert(
        sql.SQL("copy {} from stdin with (format csv, null {})")
        .format(sql.Identifier(name), sql.Literal(NULL))
        .as_string(cur.connection),
        io.BytesIO(buffer.getvalue().encode("utf-8")),
    )


def _distinct(cur, relation: sql.Composable, column: str, numeric: bool) -> list[str]:
    query = sql.SQL("select distinct {c} from {r} where {c} is not null and {c} <> ''").format(
        c=sql.Identifier(column), r=relation
    )
    if numeric:
        query += sql.SQL(" and {c} !~ '^[0-9]+$'").format(c=sql.Identifier(column))
    cur.execute(query)
    return [r[0] for r in cur.fetchall()]


class Acceptance:
    """Accept one load's landed sheets into `contract.raw_table` and `raw.rejects`."""

    def __init__(self, cur, contract: Contract, extraction: Extraction, plans: list[SheetPlan]):
        self.cur = cur
        self.contract = contract
        self.extraction = extraction
        self.plans = plans

    # -- the landed rows of one sheet, with the canonical field texts -------------------------
    def _rows_sql(self, plan: SheetPlan) -> sql.Composable:
        landed = plan.landed
        row = (
            sql.SQL("_row")
            if landed.has_row
            else sql.SQL("(row_number() over (order by ctid))::integer + {} - 1").format(
                sql.Literal(landed.first_row)
            )
        )
        return sql.SQL("select {row} as _rn, ctid, * from raw.{rel}").format(
            row=row, rel=sql.Identifier(landed.relname)
        )

    def run(self, *, load_id: int, loaded_at: dt.datetime, source_file, sha256) -> dict:
        cur = self.cur
        contract = self.contract
        fields = contract.fields
        region = contract.region
        cur.execute(
            "create temp table _acc (sheet_index integer, sheet text, _row integer,"
            " region_code text, period date, reason text, column_name text,"
            " key_header text, skipped boolean, sv jsonb, vals text[]) on commit drop"
        )
        names = list(fields)
        for plan in self.plans:
            self._sheet(plan, names)

        # duplicates: among accepted rows, in sheet then row order (as extract does)
        period_in_key = not (
            contract.period is not None
            and contract.period.source in ("filename", "cell")
            and len(self.plans) == 1
        )
        key_fields = contract.key
        check = bool(region or key_fields or (period_in_key and contract.period is not None))
        if check:
            parts = []
            if period_in_key:
                parts.append(sql.SQL("period::text"))
            if region:
                parts.append(sql.SQL("region_code"))
            for k in key_fields:
                parts.append(sql.SQL("vals[{}]").format(sql.Literal(names.index(k) + 1)))
            # one text per key (NULL as a sentinel), so that groups join by hashing
            key = sql.SQL("concat_ws(E'\\x02', {})").format(
                sql.SQL(", ").join(
                    sql.SQL("coalesce(({})::text, E'\\x01')").format(p) for p in parts
                )
            )
            names_by_index = sql.SQL("case {} end").format(
                sql.SQL(" ").join(
                    sql.SQL("when {} then {}").format(
                        sql.Literal(p.landed.sheet_index), sql.Literal(p.landed.sheet)
                    )
                    for p in self.plans
                )
            )
            multi = len(self.plans) > 1
            cur.execute(
                sql.SQL(
                    "with groups as (select {key} as k, min(array[sheet_index, _row]) as first"
                    " from _acc where not skipped and reason is null group by 1"
                    " having count(*) > 1)"
                    " update _acc a set reason = 'duplicate of row ' || g.first[2]"
                    " || case when {multi} and g.first[1] <> a.sheet_index"
                    " then ' in sheet ' || quote_literal({first_sheet}) else '' end,"
                    " column_name = a.key_header"
                    " from groups g where {a_key} = g.k and array[a.sheet_index, a._row] <> g.first"
                    " and not a.skipped and a.reason is null"
                ).format(
                    key=key,
                    a_key=sql.SQL(key.as_string(cur.connection).replace("vals[", "a.vals[")),
                    multi=sql.Literal(multi),
                    first_sheet=sql.SQL(
                        names_by_index.as_string(cur.connection).replace(
                            "case ", "case g.first[1] ", 1
                        )
                    ),
                )
            )

        columns = [
            sql.SQL("_load_id"),
            sql.SQL("_loaded_at"),
            sql.SQL("_source_file"),
            sql.SQL("_source_sha256"),
            sql.SQL("_sheet"),
            sql.SQL("_source_row"),
            sql.SQL("_period"),
            sql.SQL("_region_code"),
            *[sql.Identifier(n) for n in names],
            sql.SQL("_source_values"),
        ]
        values = [
            sql.SQL("{}::{}").format(
                sql.SQL("a.vals[{}]").format(sql.Literal(i + 1)),
                sql.SQL(SQL_TYPES[fields[n].type]),
            )
            for i, n in enumerate(names)
        ]
        schema, _, table = contract.raw_table.partition(".")
        accepted = 0
        for plan in self.plans:
            # header texts may hold `%`: values as literals, no parameters in this statement
            cur.execute(
                sql.SQL(
                    "insert into {s}.{t} ({cols}) select {load}, {at}, {file}, {sha}, a.sheet,"
                    " a._row, a.period, a.region_code, {vals}, a.sv from _acc a"
                    " where a.sheet_index = {sheet} and not a.skipped and a.reason is null"
                    ""
                ).format(
                    s=sql.Identifier(schema),
                    t=sql.Identifier(table),
                    cols=sql.SQL(", ").join(columns),
                    vals=sql.SQL(", ").join(values),
                    load=sql.Literal(load_id),
                    at=sql.Literal(loaded_at),
                    file=sql.Literal(source_file),
                    sha=sql.Literal(sha256),
                    sheet=sql.Literal(plan.landed.sheet_index),
                )
            )
            accepted += cur.rowcount
        rejected = 0
        for plan in self.plans:
            # the cells as read, for rejected rows only (accepted rows keep them in the landed
            # table, found by load, sheet and row)
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
                    load=sql.Literal(load_id),
                    at=sql.Literal(loaded_at),
                    source=sql.Literal(contract.name),
                    file=sql.Literal(source_file),
                    sheet=sql.Literal(plan.landed.sheet_index),
                )
            )
            rejected += cur.rowcount
        cur.execute("select count(*) from _acc where skipped")
        skipped = cur.fetchone()[0] + sum(p.skipped_above for p in self.plans)
        cur.execute(
            "select distinct period from _acc where not skipped and reason is null"
            " and period is not null order by 1"
        )
        periods = [r[0] for r in cur.fetchall()]
        cur.execute("drop table _acc")
        return {
            "rows_read": accepted + rejected,
            "rows_landed": accepted,
            "rows_rejected": rejected,
            "rows_skipped": skipped,
            "periods": periods,
        }

    # -- one sheet ------------------------------------------------------------------------------
    def _sheet(self, plan: SheetPlan, names: list[str]) -> None:
        cur = self.cur
        contract = self.contract
        fields = contract.fields
        cols = plan.columns
        landed = plan.landed
        index = plan.landed.sheet_index
        rows = sql.SQL("({}) as l").format(self._rows_sql(plan))
        rel = sql.SQL("raw.{}").format(sql.Identifier(landed.relname))
        width = len(landed.keys)

        def cell(field: str) -> sql.Composable:
            return sql.SQL("l.{}").format(sql.Identifier(f"c{cols[field][0] + 1}"))

        joins: list[sql.Composable] = []
        value_exprs: list[sql.Composable] = []
        problems: list[sql.Composable] = []
        first_columns: list[sql.Composable] = []

        def problem(header: str, reason: sql.Composable) -> None:
            problems.append(reason)
            first_columns.append(
                sql.SQL("case when {} is not null then {} end").format(reason, sql.Literal(header))
            )

        # region
        region = contract.region
        region_code = sql.SQL("null::text")
        if region is not None and region.field in cols:
            region_header = cols[region.field][1]
            parts = [region.field, region.province_field, region.type_field]
            present = [p if p in cols else None for p in parts]
            select = sql.SQL(", ").join(cell(p) if p else sql.SQL("null::text") for p in present)
            cur.execute(
                sql.SQL("select distinct {} from {}").format(select, sql.SQL("{} as l").format(rel))
            )
            table = []
            for text, province, rtype in cur.fetchall():
                res = self.extraction._resolve(
                    None if text is None else cell_value(text),
                    None if province is None else cell_value(province),
                    None if rtype is None else cell_value(rtype),
                )
                table.append(
                    (
                        MISSING if text is None else text,
                        MISSING if province is None else province,
                        MISSING if rtype is None else rtype,
                        res.code,
                        None if res.code else res.reason,
                    )
                )
            name = f"_reg_{index}"
            _copy_table(cur, name, ["t", "p", "y", "code", "err"], table)
            # equality on a sentinel for NULL (a cell the row does not have): a hash join
            on = sql.SQL(" and ").join(
                sql.SQL("{}.{} = coalesce({}, {})").format(
                    sql.Identifier(name),
                    sql.Identifier(k),
                    cell(p) if p else sql.SQL("null"),
                    sql.Literal(MISSING),
                )
                for k, p in zip(("t", "p", "y"), present, strict=True)
            )
            joins.append(sql.SQL("left join {} on {}").format(sql.Identifier(name), on))
            region_code = sql.SQL("{}.code").format(sql.Identifier(name))
            problem(
                region_header,
                sql.SQL("{} || {}.err").format(
                    sql.Literal(f"{region_header}: "), sql.Identifier(name)
                ),
            )

        # fields, in the contract's order
        parsed: dict[str, sql.Composable] = {}
        errors: dict[str, sql.Composable] = {}
        for name in names:
            spec = fields[name]
            if name not in cols:
                value_exprs.append(sql.SQL("null::text"))
                continue
            header = cols[name][1]
            c = cell(name)
            if spec.type == "text":
                # a number or date cell in a text field reads as the cell shown as text
                expr = sql.SQL(
                    "case when left({c}, 1) = {m} then substr({c}, 3) else"
                    " nullif(btrim({c}, E' \\t\\n\\r\\f\\v\\u00a0\\u2028\\u2029'), '') end"
                ).format(c=c, m=sql.Literal(MARK))
                value_exprs.append(expr)
                parsed[name] = expr
                continue
            numeric = spec.type in NUMERIC
            texts = _distinct(cur, sql.SQL("{} as l").format(rel), f"c{cols[name][0] + 1}", numeric)
            parse = value_parser(spec.type, decimal=contract.decimal, thousands=contract.thousands)
            table = []
            for text in texts:
                try:
                    table.append((text, _value_text(parse(cell_value(text))), None))
                except ParseError as exc:
                    table.append((text, None, exc.reason))
            dname = f"_d_{index}_{name}"
            _copy_table(cur, dname, ["t", "v", "err"], table)
            d = sql.Identifier(dname)
            # every non-empty text that is not plain digits is in the lookup: a row that finds
            # no entry holds plain digits (or nothing), which are their own value
            if not table:
                expr = sql.SQL("nullif({c}, '')").format(c=c)
            else:
                joins.append(sql.SQL("left join {d} on {d}.t = {c}").format(d=d, c=c))
                expr = sql.SQL(
                    "case when {d}.t is not null then {d}.v else nullif({c}, '') end"
                ).format(c=c, d=d)
            if numeric and name in contract.key:
                # key values compare as numbers: `0012` and `12` are the same key
                expr = sql.SQL("(({})::numeric)::text").format(expr)
            value_exprs.append(expr)
            parsed[name] = expr
            if any(row[2] is not None for row in table):
                errors[name] = sql.SQL("{}.err").format(d)
                problem(header, sql.SQL("{} || {}.err").format(sql.Literal(f"{header}: "), d))

        # period
        period = sql.SQL("{}::date").format(sql.Literal(plan.period))
        spec = contract.period
        if spec is not None and spec.source == "column" and spec.field in cols:
            pfield = spec.field
            pheader = cols[pfield][1]
            regex = spec.regex()
            ptype = fields[pfield].type
            if ptype == "text":
                cur.execute(
                    sql.SQL(
                        "select distinct v from (select {} as v from {}) s where v is not null"
                    ).format(parsed[pfield], sql.SQL("{} as l").format(rel))
                )
            elif ptype in ("date", "month"):
                cur.execute(
                    sql.SQL("select distinct v from {} where v is not null").format(
                        sql.Identifier(f"_d_{index}_{pfield}")
                    )
                )
            else:
                raise ValueError(f"{contract.name}: a period column must be text, date or month")
            table = []
            for (text,) in cur.fetchall():
                raw = dt.date.fromisoformat(text) if ptype in ("date", "month") else text
                if ptype in NUMERIC:
                    raw = Decimal(text) if "." in text or "E" in text else int(text)
                found = Extraction._row_period(raw, regex)
                table.append(
                    (
                        text,
                        found.isoformat() if found else None,
                        None if found else f"{pheader}: not a period: {raw!r}",
                    )
                )
            pname = f"_p_{index}"
            _copy_table(cur, pname, ["t", "period", "err"], table)
            pt = sql.Identifier(pname)
            joins.append(sql.SQL("left join {p} on {p}.t = {v}").format(p=pt, v=parsed[pfield]))
            period = sql.SQL("{}.period::date").format(pt)
            field_error = errors.get(pfield, sql.SQL("null"))
            problem(
                pheader,
                sql.SQL(
                    "case when {v} is null then case when {fe} is null then {no} end"
                    " else {p}.err end"
                ).format(
                    v=parsed[pfield], fe=field_error, no=sql.Literal(f"{pheader}: no period"), p=pt
                ),
            )

        # skip rules: a text cell the rule's pattern finds
        skip_exprs: list[sql.Composable] = []
        for k, rule in enumerate(contract.skip_rows):
            if rule.field not in cols:
                continue
            rx = rule.regex()
            texts = _distinct(
                cur, sql.SQL("{} as l").format(rel), f"c{cols[rule.field][0] + 1}", False
            )
            sname = f"_s_{index}_{k}"
            # a rule reads text cells only (a number or a date is never a title or total row)
            matched = [(t,) for t in texts if not t.startswith(MARK) and rx.search(t)]
            _copy_table(cur, sname, ["t"], matched)
            skip_exprs.append(
                sql.SQL("{c} in (select t from {s})").format(
                    c=cell(rule.field), s=sql.Identifier(sname)
                )
            )

        all_cells = [sql.SQL("l.{}").format(sql.Identifier(f"c{i}")) for i in range(1, width + 1)]
        blank = sql.SQL(" and ").join(sql.SQL("coalesce({}, '') = ''").format(c) for c in all_cells)
        spaces = sql.SQL(" and ").join(
            sql.SQL("btrim(coalesce({}, ''), E' \\t\\r\\n') = ''").format(c) for c in all_cells
        )
        skip_rule = sql.SQL(" or ").join(skip_exprs) if skip_exprs else sql.SQL("false")
        reason = (
            sql.SQL("nullif(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(problems))
            if problems
            else sql.SQL("null::text")
        )
        first_column = (
            sql.SQL("coalesce({})").format(sql.SQL(", ").join(first_columns))
            if first_columns
            else sql.SQL("null::text")
        )
        if landed.has_row:  # workbook cells may carry a type mark: show the cell as read
            all_cells = [
                sql.SQL("case when left({c}, 1) = {m} then substr({c}, 3) else {c} end").format(
                    c=c, m=sql.Literal(MARK)
                )
                for c in all_cells
            ]
        headed = [
            sql.SQL("{}, {}").format(sql.Literal(k), c)
            for k, t, c in zip(landed.keys, plan.texts, all_cells, strict=False)
            if t
        ]
        unheaded = [
            sql.SQL("{}, nullif({}, '')").format(sql.Literal(k), c)
            for k, t, c in zip(landed.keys, plan.texts + [""] * width, all_cells, strict=False)
            if not t
        ]
        source_values = sql.SQL("jsonb_strip_nulls(jsonb_build_object({}))").format(
            sql.SQL(", ").join(headed + unheaded)
        )
        if region is not None:
            key_header = cols[region.field][1] if region.field in cols else None
        elif contract.key and contract.key[0] in cols:
            key_header = cols[contract.key[0]][1]
        else:
            key_header = None
        query = sql.SQL(
            "insert into _acc select {idx}, {sheet}, l._rn, {region}, {period}, p.reason,"
            " p.column_name, {key_header},"
            " case when {blank} then true when {skip} then true when p.reason is null then false"
            " else {spaces} end, {sv}, array[{vals}]::text[] from {rows} {joins}"
            " cross join lateral (select {reason} as reason, {column} as column_name) p"
        ).format(
            idx=sql.Literal(index),
            sheet=sql.Literal(landed.sheet),
            region=region_code,
            period=period,
            key_header=sql.Literal(key_header),
            blank=blank,
            skip=skip_rule,
            spaces=spaces,
            vals=sql.SQL(", ").join(value_exprs) if value_exprs else sql.SQL(""),
            rows=rows,
            joins=sql.SQL(" ").join(joins),
            reason=reason,
            column=first_column,
            sv=source_values,
        )
        cur.execute(query)


def plans_for(extraction: Extraction, landed: list[LandedSheet]) -> list[SheetPlan]:
    return [
        SheetPlan(
            landed=item,
            columns=prepared.result.columns,
            period=prepared.result.period,
            skipped_above=prepared.skipped_above,
            texts=list(prepared.texts),
        )
        for item, prepared in zip(landed, extraction._prepared, strict=True)
    ]
