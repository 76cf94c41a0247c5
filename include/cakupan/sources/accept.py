"""Accept or reject a file's landed rows, by SQL: the one place the row rules are applied.

A load (`cakupan.landing.load`) and `cakupan sources check` run this same code on rows landed as
text (`cakupan.sources.landed`): the load on `raw` tables, then writing the outcome into the
raw table and `raw.rejects`; the check on temporary tables, reading the outcome back and rolling
everything back (`check_file`).

The cell rules are the parsers of `cakupan.parsing` (through `cakupan.sources.extract`), run
once per *distinct* cell text instead of once per row: the distinct texts of each column are
read back, parsed in Python, and the outcomes (value or reason) sent to the server as small
lookup tables; one `insert ... select` per sheet then joins every landed row to them into the
temporary table `_acc` (one row per landed row: skipped, rejected with a reason, or accepted with
its period, region and values as text). Plain digits, which are most cells of most files, are
typed by SQL directly (the same result: `int()` of ASCII digits), so a million-row file sends only
its non-trivial texts to Python; for a count (an `integer` field), only digits fewer than its
bound has, so that the count rule (not negative, not above the field's `max`) is checked with
the parsers, per distinct text. A `required` field's empty cell (blank, `-`) is a reject.

Outcome per landed row: skipped (blank, or matched by a `skip_rows` rule, or blank apart from
spaces and unreadable), rejected (every problem in one reason, the first problem's column), or
accepted; then duplicates of an accepted key are rejected as `duplicate of row N` (`in sheet
'S'` when the first is in another sheet).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from cakupan.parsing.numbers import NULL_TEXTS, ParseError
from cakupan.sources.contracts import Contract
from cakupan.sources.extract import Extraction, value_parser
from cakupan.sources.landed import MARK, LandedSheet, cell_value, land_sheet, sheets_to_land

SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "number": "numeric",
    "percent": "numeric",
    "date": "date",
    "month": "date",
}
NUMERIC = ("integer", "number", "percent")
MISSING = "\x01"  # stands for NULL in lookup keys, so that lookups are equality (hash) joins
NULL_ARRAY = sql.SQL("array[{}]::text[]").format(
    sql.SQL(", ").join(sql.Literal(t) for t in sorted(NULL_TEXTS) if t)
)  # a text cell that means "no value" (`-`, `n/a`): empty for `required`
SPACES = "E' \\t\\n\\r\\f\\v\\u00a0\\u2028\\u2029'"  # what Python's str.strip() removes, mostly

ACC_DDL = (
    "create temp table _acc (sheet_index integer, sheet text, _row integer, region_code text,"
    " note text, period date, reason text, column_name text, key_header text, skipped boolean,"
    " sv jsonb, vals text[]) on commit drop"
)


@dataclass
class SheetPlan:
    landed: LandedSheet
    columns: dict[str, tuple[int, str]]  # field -> (0-based column index, header text)
    period: dt.date | None
    skipped_above: int
    texts: list[str]  # header text per column ('' where the header cell is blank)


def plans_for(extraction: Extraction, landed: list[LandedSheet]) -> list[SheetPlan]:
    return [
        SheetPlan(
            landed=item,
            columns=prepared.result.columns,
            period=prepared.result.period,
            skipped_above=prepared.skipped_above,
            texts=list(prepared.texts),
        )
        for item, prepared in zip(landed, extraction.prepared, strict=True)
    ]


def _plain(ftype: str, bound: int | None) -> str | None:
    """The texts SQL types itself, left out of a field's lookup: plain digits; for a count,
    fewer digits than its bound has (every other count is checked against the bound)."""
    if ftype not in NUMERIC:
        return None
    if bound is None:
        return "^[0-9]+$"
    digits = len(str(bound)) - 1
    return f"^[0-9]{{1,{digits}}}$" if digits else "^$"


def _count_problem(value: int, bound: int) -> str | None:
    """The count rule: not negative, not above the field's bound (`max`)."""
    if value < 0:
        return "a count cannot be negative"
    if value > bound:
        return f"a count cannot be above {bound:,} (the field's max)"
    return None


def _value_text(value: Any) -> str | None:
    """A parsed value as text the typed column casts back (dates ISO, numbers exact)."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _copy_table(cur, name: str, columns: list[str], rows: list[tuple]) -> None:
    """A temporary lookup table of text columns, filled by binary COPY (None is NULL)."""
    cur.execute(
        sql.SQL("create temp table {} ({}) on commit drop").format(
            sql.Identifier(name),
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns),
        )
    )
    if not rows:
        return
    with cur.copy(
        sql.SQL("copy {} from stdin with (format binary)").format(sql.Identifier(name))
    ) as copy:
        copy.set_types(["text"] * len(columns))
        for row in rows:
            copy.write_row(row)


def _distinct(cur, relation: sql.Composable, column: str, plain: str | None) -> list[str]:
    """The column's distinct non-empty texts, but those matching the regex `plain` (digits SQL
    types itself)."""
    query = sql.SQL("select distinct {c} from {r} where {c} is not null and {c} <> ''").format(
        c=sql.Identifier(column), r=relation
    )
    if plain is not None:
        query += sql.SQL(" and {c} !~ {p}").format(c=sql.Identifier(column), p=sql.Literal(plain))
    cur.execute(query)
    return [r[0] for r in cur.fetchall()]


class _SheetQuery:
    """The `insert into _acc select ...` of one landed sheet, built step by step: each step
    reads the distinct texts it needs, sends their outcomes as a lookup table and adds its
    joins, values and problems (a problem is a reason, or NULL)."""

    def __init__(self, cur, contract: Contract, extraction: Extraction, plan: SheetPlan):
        self.cur = cur
        self.contract = contract
        self.extraction = extraction
        self.plan = plan
        self.cols = plan.columns
        self.index = plan.landed.sheet_index
        self.rel = sql.SQL("{} as l").format(plan.landed.relation())
        self.joins: list[sql.Composable] = []
        self.values: list[sql.Composable] = []
        self.problems: list[sql.Composable] = []
        self.first_columns: list[sql.Composable] = []
        self.parsed: dict[str, sql.Composable] = {}  # field -> its value as text
        self.errors: dict[str, sql.Composable] = {}  # field -> its parse error (or NULL)
        self.region_code: sql.Composable = sql.SQL("null::text")
        self.note: sql.Composable = sql.SQL("null::text")
        self.period: sql.Composable = sql.SQL("{}::date").format(sql.Literal(plan.period))
        self.skips: list[sql.Composable] = []

    def cell(self, name: str) -> sql.Composable:
        return sql.SQL("l.{}").format(sql.Identifier(f"c{self.cols[name][0] + 1}"))

    def problem(self, header: str, reason: sql.Composable) -> None:
        self.problems.append(reason)
        self.first_columns.append(
            sql.SQL("case when {} is not null then {} end").format(reason, sql.Literal(header))
        )

    def add_region(self) -> None:
        region = self.contract.region
        if region is None or region.field not in self.cols:
            return
        header = self.cols[region.field][1]
        parts = [region.field, region.province_field, region.type_field]
        present = [p if p in self.cols else None for p in parts]
        select = sql.SQL(", ").join(self.cell(p) if p else sql.SQL("null::text") for p in present)
        self.cur.execute(sql.SQL("select distinct {} from {}").format(select, self.rel))
        table = []
        for text, province, rtype in self.cur.fetchall():
            res = self.extraction.resolve_region(
                *(None if t is None else cell_value(t) for t in (text, province, rtype))
            )
            keys = tuple(MISSING if t is None else t for t in (text, province, rtype))
            table.append((*keys, res.code, None if res.code else res.reason, res.note))
        name = f"_reg_{self.index}"
        _copy_table(self.cur, name, ["t", "p", "y", "code", "err", "note"], table)
        # equality on a sentinel for NULL (a cell the row does not have): a hash join
        on = sql.SQL(" and ").join(
            sql.SQL("{}.{} = coalesce({}, {})").format(
                sql.Identifier(name),
                sql.Identifier(k),
                self.cell(p) if p else sql.SQL("null"),
                sql.Literal(MISSING),
            )
            for k, p in zip(("t", "p", "y"), present, strict=True)
        )
        self.joins.append(sql.SQL("left join {} on {}").format(sql.Identifier(name), on))
        self.region_code = sql.SQL("{}.code").format(sql.Identifier(name))
        self.note = sql.SQL("case when {r}.code is not null then {r}.note end").format(
            r=sql.Identifier(name)
        )
        self.problem(
            header,
            sql.SQL("{} || {}.err").format(sql.Literal(f"{header}: "), sql.Identifier(name)),
        )

    def add_fields(self) -> None:
        """Every field's value as text, in the contract's order (NULL for a missing column)."""
        for name, spec in self.contract.fields.items():
            if name not in self.cols:
                self.values.append(sql.SQL("null::text"))
            elif spec.type == "text":
                # a number or date cell in a text field reads as the cell shown as text
                expr = sql.SQL(
                    "case when left({c}, 1) = {m} then substr({c}, 3) else"
                    " nullif(btrim({c}, {spaces}), '') end"
                ).format(c=self.cell(name), m=sql.Literal(MARK), spaces=sql.SQL(SPACES))
                self.values.append(expr)
                self.parsed[name] = expr
                self._require(
                    name,
                    sql.SQL("case when {v} = any({n}) then null else {v} end").format(
                        v=expr, n=NULL_ARRAY
                    ),
                )
            else:
                self._add_parsed_field(name, spec.type)

    def _add_parsed_field(self, name: str, ftype: str) -> None:
        contract, c = self.contract, self.cell(name)
        numeric = ftype in NUMERIC
        bound = contract.fields[name].count_bound() if ftype == "integer" else None
        texts = _distinct(self.cur, self.rel, f"c{self.cols[name][0] + 1}", _plain(ftype, bound))
        parse = value_parser(ftype, decimal=contract.decimal, thousands=contract.thousands)
        table = []
        for text in texts:
            try:
                value = parse(cell_value(text))
            except ParseError as exc:
                table.append((text, None, exc.reason))
                continue
            problem = None if bound is None or value is None else _count_problem(value, bound)
            table.append((text, None if problem else _value_text(value), problem))
        dname = f"_d_{self.index}_{name}"
        _copy_table(self.cur, dname, ["t", "v", "err"], table)
        d = sql.Identifier(dname)
        # every non-empty text that is not plain digits is in the lookup: a row that finds
        # no entry holds plain digits (or nothing), which are their own value (and, for a
        # count, fewer digits than its bound has: under it)
        if not table:
            expr = sql.SQL("nullif({c}, '')").format(c=c)
        else:
            self.joins.append(sql.SQL("left join {d} on {d}.t = {c}").format(d=d, c=c))
            expr = sql.SQL(
                "case when {d}.t is not null then {d}.v else nullif({c}, '') end"
            ).format(c=c, d=d)
        value = expr
        if numeric and name in contract.key:
            # key values compare as numbers: `0012` and `12` are the same key
            expr = sql.SQL("(({})::numeric)::text").format(expr)
        self.values.append(expr)
        self.parsed[name] = expr
        if any(row[2] is not None for row in table):
            header = self.cols[name][1]
            self.errors[name] = sql.SQL("{}.err").format(d)
            self.problem(header, sql.SQL("{} || {}.err").format(sql.Literal(f"{header}: "), d))
        self._require(name, value)

    def _require(self, name: str, value: sql.Composable) -> None:
        """`required`: every row has a value (NULL: blank, `-` or another null text), unless the
        cell did not parse (its own reason) or is the region or period (theirs: `empty region`,
        `no period`)."""
        contract = self.contract
        own = {contract.region.field if contract.region else None}
        if contract.period is not None and contract.period.source == "column":
            own.add(contract.period.field)
        if not contract.fields[name].required or name in own:
            return
        header = self.cols[name][1]
        self.problem(
            header,
            sql.SQL("case when {v} is null and {e} is null then {r} end").format(
                v=value,
                e=self.errors.get(name, sql.SQL("null")),
                r=sql.Literal(f"{header}: required but empty"),
            ),
        )

    def add_period(self) -> None:
        """A period per row, from a column: its distinct values, each searched for a month."""
        spec = self.contract.period
        if spec is None or spec.source != "column" or spec.field not in self.cols:
            return
        pfield, pheader = spec.field, self.cols[spec.field][1]
        ptype = self.contract.fields[pfield].type
        if ptype == "text":
            self.cur.execute(
                sql.SQL(
                    "select distinct v from (select {} as v from {}) s where v is not null"
                ).format(self.parsed[pfield], self.rel)
            )
        elif ptype in ("date", "month"):
            self.cur.execute(
                sql.SQL("select distinct v from {} where v is not null").format(
                    sql.Identifier(f"_d_{self.index}_{pfield}")
                )
            )
        else:
            raise ValueError(f"{self.contract.name}: a period column must be text, date or month")
        regex = spec.regex()
        table = []
        for (text,) in self.cur.fetchall():
            raw = dt.date.fromisoformat(text) if ptype in ("date", "month") else text
            found = Extraction.row_period(raw, regex)
            reason = None if found else f"{pheader}: not a period: {raw!r}"
            table.append((text, found.isoformat() if found else None, reason))
        pname = f"_p_{self.index}"
        _copy_table(self.cur, pname, ["t", "period", "err"], table)
        pt = sql.Identifier(pname)
        value = self.parsed[pfield]
        self.joins.append(sql.SQL("left join {p} on {p}.t = {v}").format(p=pt, v=value))
        self.period = sql.SQL("{}.period::date").format(pt)
        self.problem(
            pheader,
            sql.SQL(
                "case when {v} is null then case when {fe} is null then {no} end else {p}.err end"
            ).format(
                v=value,
                fe=self.errors.get(pfield, sql.SQL("null")),
                no=sql.Literal(f"{pheader}: no period"),
                p=pt,
            ),
        )

    def add_skip_rules(self) -> None:
        """`skip_rows`: a text cell the rule's pattern finds (never a number or a date)."""
        for k, rule in enumerate(self.contract.skip_rows):
            if rule.field not in self.cols:
                continue
            rx = rule.regex()
            texts = _distinct(self.cur, self.rel, f"c{self.cols[rule.field][0] + 1}", None)
            sname = f"_s_{self.index}_{k}"
            matched = [(t,) for t in texts if not t.startswith(MARK) and rx.search(t)]
            _copy_table(self.cur, sname, ["t"], matched)
            self.skips.append(
                sql.SQL("{c} in (select t from {s})").format(
                    c=self.cell(rule.field), s=sql.Identifier(sname)
                )
            )

    def source_values(self, cells: list[sql.Composable]) -> sql.Composable:
        """`_source_values`: the cells as read, by header text (column letter where blank)."""
        landed, width = self.plan.landed, len(self.plan.landed.keys)
        if landed.has_row:  # workbook cells may carry a type mark: show the cell as read
            cells = [
                sql.SQL("case when left({c}, 1) = {m} then substr({c}, 3) else {c} end").format(
                    c=c, m=sql.Literal(MARK)
                )
                for c in cells
            ]
        texts = self.plan.texts + [""] * width
        headed = [
            sql.SQL("{}, {}").format(sql.Literal(k), c)
            for k, t, c in zip(landed.keys, self.plan.texts, cells, strict=False)
            if t
        ]
        unheaded = [
            sql.SQL("{}, nullif({}, '')").format(sql.Literal(k), c)
            for k, t, c in zip(landed.keys, texts, cells, strict=False)
            if not t
        ]
        return sql.SQL("jsonb_strip_nulls(jsonb_build_object({}))").format(
            sql.SQL(", ").join(headed + unheaded)
        )

    def key_header(self) -> str | None:
        """The column a duplicate is reported in: the region's, else the first key field's."""
        region, key = self.contract.region, self.contract.key
        if region is not None:
            return self.cols[region.field][1] if region.field in self.cols else None
        if key and key[0] in self.cols:
            return self.cols[key[0]][1]
        return None

    def statement(self) -> sql.Composable:
        landed = self.plan.landed
        cells = [
            sql.SQL("l.{}").format(sql.Identifier(f"c{i}")) for i in range(1, len(landed.keys) + 1)
        ]
        blank = sql.SQL(" and ").join(sql.SQL("coalesce({}, '') = ''").format(c) for c in cells)
        spaces = sql.SQL(" and ").join(
            sql.SQL("btrim(coalesce({}, ''), E' \\t\\r\\n') = ''").format(c) for c in cells
        )
        null = sql.SQL("null::text")
        listed = sql.SQL(", ")
        return sql.SQL(
            "insert into _acc select {idx}, {sheet}, l._rn, {region}, {note}, {period}, p.reason,"
            " p.column_name, {key_header},"
            " case when {blank} then true when {skip} then true when p.reason is null then false"
            " else {spaces} end, {sv}, array[{vals}]::text[] from ({rows}) as l {joins}"
            " cross join lateral (select {reason} as reason, {column} as column_name) p"
        ).format(
            idx=sql.Literal(self.index),
            sheet=sql.Literal(landed.sheet),
            region=self.region_code,
            note=self.note,
            period=self.period,
            key_header=sql.Literal(self.key_header()),
            blank=blank,
            skip=sql.SQL(" or ").join(self.skips) if self.skips else sql.SQL("false"),
            spaces=spaces,
            sv=self.source_values(cells),
            vals=listed.join(self.values),
            rows=_rows_sql(landed),
            joins=sql.SQL(" ").join(self.joins),
            reason=sql.SQL("nullif(concat_ws('; ', {}), '')").format(listed.join(self.problems))
            if self.problems
            else null,
            column=sql.SQL("coalesce({})").format(listed.join(self.first_columns))
            if self.first_columns
            else null,
        )


def _rows_sql(landed: LandedSheet) -> sql.Composable:
    """The landed rows with their row numbers (`_rn`): landed, or from the table's order."""
    row = (
        sql.SQL("_row")
        if landed.has_row
        else sql.SQL("(row_number() over (order by ctid))::integer + {} - 1").format(
            sql.Literal(landed.first_row)
        )
    )
    return sql.SQL("select {row} as _rn, ctid, * from {rel}").format(row=row, rel=landed.relation())


class Acceptance:
    """Decide every landed row of one file into the temporary table `_acc` (`decide`)."""

    def __init__(self, cur, contract: Contract, extraction: Extraction, plans: list[SheetPlan]):
        self.cur = cur
        self.contract = contract
        self.extraction = extraction
        self.plans = plans
        self.names = list(contract.fields)

    def decide(self) -> None:
        self.cur.execute(ACC_DDL)
        for plan in self.plans:
            query = _SheetQuery(self.cur, self.contract, self.extraction, plan)
            query.add_region()
            query.add_fields()
            query.add_period()
            query.add_skip_rules()
            self.cur.execute(query.statement())
        self._reject_duplicates()

    def _duplicate_key(self) -> sql.Composable | None:
        """One text per accepted row's key (NULL as a sentinel), so groups join by hashing;
        None when the contract has no key. The period is in the key unless the file has one."""
        contract = self.contract
        period_in_key = not (
            contract.period is not None
            and contract.period.source in ("filename", "cell")
            and len(self.plans) == 1
        )
        parts = []
        if period_in_key and contract.period is not None:
            parts.append(sql.SQL("period::text"))
        if contract.region:
            parts.append(sql.SQL("region_code"))
        for k in contract.key:
            parts.append(sql.SQL("vals[{}]").format(sql.Literal(self.names.index(k) + 1)))
        if not parts:
            return None
        return sql.SQL("concat_ws(E'\\x02', {})").format(
            sql.SQL(", ").join(sql.SQL("coalesce(({})::text, E'\\x01')").format(p) for p in parts)
        )

    def _reject_duplicates(self) -> None:
        """Among accepted rows, in sheet then row order, every repeat of a key is rejected."""
        key = self._duplicate_key()
        if key is None:
            return
        conn = self.cur.connection
        sheet_of_first = sql.SQL("case g.first[1] {} end").format(
            sql.SQL(" ").join(
                sql.SQL("when {} then {}").format(
                    sql.Literal(p.landed.sheet_index), sql.Literal(p.landed.sheet)
                )
                for p in self.plans
            )
        )
        self.cur.execute(
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
                a_key=sql.SQL(key.as_string(conn).replace("vals[", "a.vals[")),
                multi=sql.Literal(len(self.plans) > 1),
                first_sheet=sheet_of_first,
            )
        )

    def typed_values(self, alias: str = "a") -> list[sql.Composable]:
        """Each field's value of an `_acc` row, cast to the field's SQL type."""
        fields = self.contract.fields
        return [
            sql.SQL("{}.vals[{}]::{}").format(
                sql.Identifier(alias), sql.Literal(i + 1), sql.SQL(SQL_TYPES[fields[n].type])
            )
            for i, n in enumerate(self.names)
        ]

    def skipped(self) -> int:
        self.cur.execute("select count(*) from _acc where skipped")
        return self.cur.fetchone()[0] + sum(p.skipped_above for p in self.plans)

    def periods(self) -> list[dt.date]:
        self.cur.execute(
            "select distinct period from _acc where not skipped and reason is null"
            " and period is not null order by 1"
        )
        return [r[0] for r in self.cur.fetchall()]


# -- `cakupan sources check`: the same acceptance on temporary tables, rolled back ----------------


@dataclass
class CheckedRow:
    sheet: str | None
    source_row: int
    period: dt.date | None = None
    region_code: str | None = None
    values: dict[str, Any] = field(default_factory=dict)  # accepted rows
    column: str | None = None  # rejected rows
    reason: str | None = None
    source_values: dict[str, Any] = field(default_factory=dict)  # the cells as read


@dataclass
class CheckOutcome:
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_skipped: int
    samples: list[CheckedRow]  # the first accepted rows, in file order
    rejects: list[CheckedRow]  # every rejected row, in file order
    notes: dict[str, int]  # e.g. an old region code mapped to the current one: how many rows
    periods: list[dt.date] = field(default_factory=list)


def check_file(conn, extraction: Extraction, *, samples: int = 5) -> CheckOutcome:
    """Land and accept the file's rows as a load would, on temporary tables in a transaction
    that is rolled back: nothing in the warehouse changes. Closes the extraction."""
    try:
        with conn.cursor() as cur:
            landed = [
                land_sheet(cur, "pg_temp", f"_landed_{index}", index, item)
                for index, item in enumerate(sheets_to_land(extraction))
            ]
            acceptance = Acceptance(
                cur, extraction.contract, extraction, plans_for(extraction, landed)
            )
            acceptance.decide()
            return _outcome(cur, acceptance, samples)
    finally:
        conn.rollback()
        extraction.close()


def _outcome(cur, acceptance: Acceptance, samples: int) -> CheckOutcome:
    names = acceptance.names
    cur.execute(
        sql.SQL(
            "select a.sheet, a._row, a.period, a.region_code, a.sv, {} from _acc a"
            " where not a.skipped and a.reason is null order by a.sheet_index, a._row limit {}"
        ).format(sql.SQL(", ").join(acceptance.typed_values()), sql.Literal(samples))
    )
    accepted = [
        CheckedRow(r[0], r[1], r[2], r[3], dict(zip(names, r[5:], strict=True)), source_values=r[4])
        for r in cur.fetchall()
    ]
    cur.execute(
        "select sheet, _row, column_name, reason, sv from _acc where not skipped"
        " and reason is not null order by sheet_index, _row"
    )
    rejects = [
        CheckedRow(r[0], r[1], column=r[2], reason=r[3], source_values=r[4]) for r in cur.fetchall()
    ]
    cur.execute("select count(*) from _acc where not skipped and reason is null")
    rows_accepted = cur.fetchone()[0]
    cur.execute(
        "select note, count(*) from _acc where not skipped and note is not null"
        " group by note order by min(array[sheet_index, _row])"
    )
    notes = dict(cur.fetchall())
    return CheckOutcome(
        rows_read=rows_accepted + len(rejects),
        rows_accepted=rows_accepted,
        rows_rejected=len(rejects),
        rows_skipped=acceptance.skipped(),
        samples=accepted,
        rejects=rejects,
        notes=notes,
        periods=acceptance.periods(),
    )
