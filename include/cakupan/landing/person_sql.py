"""The one statement that types, checks and keys a person-level file's landed rows.

The rows land as text in a temporary table (`cakupan.landing.persons`); `staging_statement`
reads them once: each person attribute from its column (trimmed, its value map applied), the
NIK checked (issue 15.2: 16 digits; its province, kab/kota and, where `reference.wilayah` lists
that kab/kota, kecamatan codes exist; DDMMYY with 40 added to the day for women is a real date
that agrees with the record's sex and birth date), the desa found in `reference.wilayah`, and
the keyed values computed from the HMAC pads in `_pkey` (sent by COPY: the key is never SQL text
or a parameter). A row's `unusable` says why it cannot be used at all (a reject only);
`nik_reason` why its NIK failed (the row is kept, unkeyed, and listed in the rejects). Reasons
name the column and the rule, never the value.

Why lookups instead of parsing: PostgreSQL's regular expressions cost microseconds a row, which a
million rows turn into minutes (measured: 71 s for a register's staging with `regexp_match`
dates). So nothing is parsed per row: a date text is looked up in a table of every day from
1900 to 2099 written in the contract's layout (`_dates_<n>`), the NIK's DDMMYY digits in a table
of every real DDMMYY for either sex (`_nik_dates`), its first six digits in a table of the
kab/kota and kecamatan prefixes (`_nik_prefixes`), the desa and kecamatan in `_desa`, `_kec`:
hash joins, a fraction of a microsecond each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

from cakupan.sources.contracts import PERSON_DATES, Contract

DIGITS = "0123456789"
FIRST_DAY, LAST_DAY = "1900-01-01", "2099-12-31"
_DESA = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
# only ever of digits (checked before), whose text is their UTF-8 bytes: `::bytea` is exact
_HMAC = "encode(sha256(_pkey.opad || sha256(_pkey.ipad || ({})::bytea)), 'hex')"
# a NIK, No. KK or No. Kartu without spaces, apostrophes, dots, hyphens; the plain 16 digits of
# nearly every row skip `translate`, which costs a microsecond a row
_NORMAL = (
    "case when length({0}) = 16 and ltrim({0}, '0123456789') = '' then {0}"
    " else nullif(translate({0}, E' \\'.-\\t', ''), '') end"
)
_MAPPED = {"alive": "boolean", "active": "boolean", "sex": "text", "segment": "text"}
_TEXTS = ("birth_place", "address", "rt", "rw", "inactive_reason", "fktp", "facility")


@dataclass
class Column:
    """Where an attribute is in the landed table, and its header text (for reasons)."""

    attribute: str
    landed: str  # c1..cN
    header: str
    marks: bool = False  # a workbook's cells: a date may be a typed cell (`cakupan.sources.landed`)


def to_char_patterns(layout: str) -> list[str]:
    """The `to_char` patterns that write a date in a layout: `D-M-YYYY` -> `DD-MM-YYYY`,
    `FMDD-MM-YYYY`, `DD-FMMM-YYYY`, `FMDD-FMMM-YYYY` (a one-letter part may be unpadded)."""
    parts = re.findall(r"DD?|MM?|YYYY|[^DMY]", layout)
    patterns = [""]
    for part in parts:
        if part in ("D", "M"):
            patterns = [p + v for p in patterns for v in (part * 2, "FM" + part * 2)]
        else:
            patterns = [p + part for p in patterns]
    return patterns


def dates_table(name: str, layout: str) -> sql.Composable:
    """`name (txt, value, day, month, yy)`: every day from 1900 to 2099 written in `layout`."""
    selects = sql.SQL(" union ").join(
        sql.SQL(
            "select to_char(d, {}) as txt, d::date as value, extract(day from d)::int as day,"
            " extract(month from d)::int as month, extract(year from d)::int % 100 as yy"
            " from generate_series(date {}, date {}, interval '1 day') as d"
        ).format(sql.Literal(p), sql.Literal(FIRST_DAY), sql.Literal(LAST_DAY))
        for p in to_char_patterns(layout)
    )
    return sql.SQL("create temp table {} on commit drop as {}; analyze {}").format(
        sql.Identifier(name), selects, sql.Identifier(name)
    )


NIK_DATES = (
    "create temp table _nik_dates on commit drop as"
    " select lpad((extract(day from d)::int + 40 * female::int)::text, 2, '0')"
    " || to_char(d, 'MMYY') as ddmmyy, extract(day from d)::int as day,"
    " extract(month from d)::int as month, extract(year from d)::int % 100 as yy, female"
    " from generate_series(date '2000-01-01', date '2099-12-31', interval '1 day') as d,"
    " (values (false), (true)) as s (female); analyze _nik_dates"
)


def _cell(column: Column | None) -> sql.Composable:
    if column is None:
        return sql.SQL("null::text")
    return sql.SQL("nullif(btrim({}), '')").format(sql.Identifier(column.landed))


def _mapped(column: Column | None, values: dict, typed: str) -> sql.Composable:
    """The value map as a CASE on the upper-cased text; no map: the text itself."""
    if column is None or not values:
        return sql.SQL("{}::{}").format(_cell(column), sql.SQL(typed))
    cases = sql.SQL(" ").join(
        sql.SQL("when {} then {}").format(sql.Literal(k.upper()), sql.Literal(v))
        for k, v in values.items()
    )
    return sql.SQL("(case upper({}) {} end)::{}").format(_cell(column), cases, sql.SQL(typed))


def _date_key(column: Column, layout: str, marks: bool) -> sql.Composable:
    """A date's text as its layout writes it: the text itself, or a workbook's date cell
    (`\\x01d2025-06-01`) or serial day number (`\\x01f45809`) written in the layout (`marks`:
    a workbook's rows, which may carry them)."""
    pattern = sql.Literal(to_char_patterns(layout)[0])
    t = sql.Identifier(column.landed)
    if not marks:
        return sql.SQL("btrim({})").format(t)
    serial = sql.SQL("split_part(substr({t}, 3), '.', 1)").format(t=t)
    return sql.SQL(
        "case when left({t}, 1) <> E'\\x01' then btrim({t})"
        " when substr({t}, 2, 1) in ('d', 't') then to_char(substr({t}, 3, 10)::date, {p})"
        " when substr({t}, 2, 1) = 'f' and ltrim({s}, {digits}) = '' and length({s}) between 1"
        " and 6 then to_char(date '1899-12-30' + {s}::int, {p}) end"
    ).format(t=t, p=pattern, s=serial, digits=sql.Literal(DIGITS))


def _landed_layer(contract, columns, relation, row) -> sql.Composable:
    """L1: the texts (`t_<attr>`), NIK, No. KK, No. Kartu and desa normalised (`n_*`), the
    value maps (`v_*`), the date keys (`k_*`), the row number, blank or skipped."""
    fields = contract.person_fields()
    items = [sql.SQL("{} as row_number").format(row)]
    # COPY lands an empty CSV field (and a workbook's empty cell) as NULL: a blank row is all
    # NULL (a row of spaces is read, and rejected: no NIK and no name)
    blank = sql.SQL(" and ").join(
        sql.SQL("{} is null").format(sql.Identifier(c.landed)) for c in columns.values()
    )
    rules = [
        sql.SQL("coalesce({} ~* {}, false)").format(
            sql.Identifier(columns[contract.fields[r.field].person].landed), sql.Literal(r.pattern)
        )
        for r in contract.skip_rows
        if contract.fields[r.field].person in columns
    ]
    items.append(sql.SQL("({}) as skipped").format(sql.SQL(" or ").join([blank, *rules])))
    for a in ("nik", "kk", "card_no", "full_name", "desa_code", "kecamatan_code", "desil",
              *_TEXTS, *_MAPPED):  # fmt: skip
        items.append(sql.SQL("{} as {}").format(_cell(columns.get(a)), sql.Identifier(f"t_{a}")))
    for a, typed in _MAPPED.items():
        values = fields[a].values if a in fields else {}
        items.append(
            sql.SQL("{} as {}").format(
                _mapped(columns.get(a), values, typed), sql.Identifier(f"v_{a}")
            )
        )
    for a in ("nik", "kk"):
        cell = columns.get(a)
        n = sql.SQL(_NORMAL).format(sql.Identifier(cell.landed)) if cell else sql.SQL("null::text")
        items.append(sql.SQL("{} as {}").format(n, sql.Identifier(f"n_{a}")))
    card = columns.get("card_no")
    items.append(
        sql.SQL(_NORMAL + " as n_card").format(sql.Identifier(card.landed))
        if card
        else sql.SQL("null::text as n_card")
    )
    desa = columns.get("desa_code")
    items.append(
        sql.SQL(
            "case when strpos({d}, '.') > 0 then nullif(btrim({d}), '')"
            " when length(btrim({d})) = 10 and ltrim(btrim({d}), {digits}) = '' then"
            " substr(btrim({d}), 1, 2) || '.' || substr(btrim({d}), 3, 2) || '.' ||"
            " substr(btrim({d}), 5, 2) || '.' || substr(btrim({d}), 7, 4)"
            " else nullif(btrim({d}), '') end as n_desa"
        ).format(d=sql.Identifier(desa.landed), digits=sql.Literal(DIGITS))
        if desa
        else sql.SQL("null::text as n_desa")
    )
    for a in sorted(PERSON_DATES):
        if a in columns:
            key = _date_key(columns[a], fields[a].date_layout(), columns[a].marks)
            items.append(sql.SQL("{} as {}").format(key, sql.Identifier(f"k_{a}")))
    return sql.SQL("select {} from {} offset 0").format(sql.SQL(", ").join(items), relation)


def _joins(
    contract: Contract, columns: dict[str, Column], layouts: dict[str, str]
) -> sql.Composable:
    """One hash join per lookup: the NIK's first 6 digits (`_nik_prefixes`: every kecamatan of
    a kab/kota `reference.wilayah` lists, any 2 digits after one it does not) and its DDMMYY,
    the desa, the kecamatan, each date."""
    joins = [
        "left join _nik_prefixes as nik_prefix on nik_prefix.code6 = left(l.n_nik, 6)",
        "left join _nik_dates as nik_date on nik_date.ddmmyy = substr(l.n_nik, 7, 6)",
    ]
    if "desa_code" in columns:
        joins.append("left join _desa as desa on desa.code = l.n_desa")
    if "kecamatan_code" in columns:
        joins.append("left join _kec as kec on kec.code = l.t_kecamatan_code")
    for a in sorted(PERSON_DATES):
        if a in columns:
            table = layouts[contract.person_fields()[a].date_layout()]
            joins.append(f"left join {table} as d_{a} on d_{a}.txt = l.k_{a}")
    return sql.SQL(" ".join(joins))


def _nik_status(provinces: list[str], districts: list[str], has_birth: bool) -> str:
    """The NIK's status: `missing`, the first rule it fails (`invalid: ...`), or `valid`."""
    birth = (
        " when d_birth_date.value is not null and (d_birth_date.day, d_birth_date.month,"
        " d_birth_date.yy) <> (nik_date.day, nik_date.month, nik_date.yy)"
        " then 'invalid: disagrees with birth date'"
        if has_birth
        else ""
    )
    codes = ", ".join(f"'{p}'" for p in provinces)
    areas = ", ".join(f"'{d.replace('.', '')}'" for d in districts)
    return (
        "case when l.t_nik is null then 'missing'"
        f" when not (length(l.n_nik) = 16 and ltrim(l.n_nik, '{DIGITS}') = '')"
        " then 'invalid: not 16 digits'"
        # the rare failing NIK: which code is unknown, found by arrays (no join for all)
        f" when nik_prefix.code6 is null and left(l.n_nik, 2) <> all(array[{codes}])"
        " then 'invalid: unknown province code'"
        f" when nik_prefix.code6 is null and left(l.n_nik, 4) <> all(array[{areas}])"
        " then 'invalid: unknown kab/kota code'"
        " when nik_prefix.code6 is null then 'invalid: unknown kecamatan code'"
        " when nik_date.ddmmyy is null then 'invalid: birth date digits are not a date'"
        " when l.v_sex is not null and (l.v_sex = 'P') <> nik_date.female"
        " then 'invalid: disagrees with sex'" + birth + " else 'valid' end"
    )


def _reasons(contract: Contract, columns: dict[str, Column], uncovered: dict) -> sql.Composable:
    """Every reason a row cannot be used, `; `-joined (null: usable); each names the column
    (its header) and the rule."""
    from cakupan.sources.contracts import PERSON_REQUIRED

    def label(a: str) -> str:
        return f"{columns[a].header} ({a})" if a in columns else a

    fields = contract.person_fields()
    checks = [("l.t_nik is null and l.t_full_name is null", "no NIK and no name")]
    for a in PERSON_REQUIRED[contract.persons.dataset]:
        if a not in ("nik", "full_name"):
            column = "n_card" if a == "card_no" else f"t_{a}"
            checks.append((f"l.{column} is null", f"{label(a)}: required but empty"))
    for a in sorted(PERSON_DATES):
        if a in columns:
            layout = fields[a].date_layout()
            checks.append((f"l.k_{a} is distinct from null and d_{a}.value is null",
                           f"{label(a)}: not a date ({layout}, 1900 to 2099)"))  # fmt: skip
    for a in _MAPPED:
        if a in columns and fields[a].values:
            checks.append((f"l.t_{a} is not null and l.v_{a} is null",
                           f"{label(a)}: not one of the contract's values"))  # fmt: skip
    if "desil" in columns:
        checks.append(("l.t_desil is not null and l.t_desil not in ('1', '2', '3', '4', '5', '6',"
                       " '7', '8', '9', '10')", f"{label('desil')}: not a desil 1-10"))  # fmt: skip
    if "desa_code" in columns:
        unknown = "l.n_desa is not null and desa.code is null and not {uncovered_desa}"
        checks.append((unknown, f"{label('desa_code')}: unknown desa/kelurahan code"))
    if "kecamatan_code" in columns:
        unknown = "l.t_kecamatan_code is not null and kec.code is null and not {uncovered_kec}"
        checks.append((unknown, f"{label('kecamatan_code')}: unknown kecamatan code"))
    return sql.SQL("nullif(concat_ws('; ', {}), '')").format(
        sql.SQL(", ").join(
            sql.SQL("case when {} then {} end").format(
                sql.SQL(cond.format(**uncovered)), sql.Literal(reason)
            )
            for cond, reason in checks
        )
    )


def _uncovered(districts: list[str], covered: set[str]) -> dict[str, str]:
    """SQL: a desa (kecamatan) code of a kab/kota `reference.wilayah` does not list, taken as
    written when well-formed (only asked of the rare code not found in the reference)."""
    codes = ", ".join(f"'{d}'" for d in districts if d not in covered) or "''"
    return {
        "uncovered_desa": f"coalesce(left(l.n_desa, 5) = any(array[{codes}])"
        f" and l.n_desa ~ '{_DESA}', false)",
        "uncovered_kec": f"coalesce(left(l.t_kecamatan_code, 5) = any(array[{codes}])"
        " and l.t_kecamatan_code ~ '^[0-9]{2}[.][0-9]{2}[.][0-9]{2}$', false)",
    }


@dataclass
class Lookups:
    """What the statement needs besides the contract: date layout -> its `_dates_<n>` table,
    the province and kab/kota codes, and the kab/kota codes `reference.wilayah` lists."""

    layouts: dict[str, str]
    provinces: list[str]
    districts: list[str]
    covered: set[str]


def _checked(contract, columns, relation, row, lookups: Lookups) -> sql.Composable:
    """Every landed row with its NIK status, reasons, place and typed dates."""
    unc = _uncovered(lookups.districts, lookups.covered)
    desa, kec = "desa_code" in columns, "kecamatan_code" in columns
    district = ["desa.district_code" if desa else None]
    district.append(
        f"case when {unc['uncovered_desa']} then left(l.n_desa, 5) end" if desa else None
    )
    district.append("kec.district_code" if kec else None)
    district.append(
        f"case when {unc['uncovered_kec']} then left(l.t_kecamatan_code, 5) end" if kec else None
    )
    kecamatan = ["desa.kecamatan_code" if desa else None]
    kecamatan.append(
        f"case when {unc['uncovered_desa']} then left(l.n_desa, 8) end" if desa else None
    )
    kecamatan.append("kec.code" if kec else None)
    kecamatan.append(
        f"case when {unc['uncovered_kec']} then l.t_kecamatan_code end" if kec else None
    )
    desa_out = f"case when desa.code is not null or {unc['uncovered_desa']} then l.n_desa end"
    dates = {a: f"d_{a}.value" if a in columns else "null::date" for a in PERSON_DATES}
    return sql.SQL(
        "select l.*, {status} as nik_status, {reasons} as unusable,"
        " coalesce({district}, '') as district_code, coalesce({kecamatan}) as kecamatan_code,"
        " {desa} as desa_code, {birth} as birth_date, {died} as died_on,"
        " {registered} as registered_on from ({landed}) as l {joins} offset 0"
    ).format(
        status=sql.SQL(_nik_status(lookups.provinces, lookups.districts, "birth_date" in columns)),
        reasons=_reasons(contract, columns, unc),
        district=sql.SQL(", ".join(d for d in district if d) or "null"),
        kecamatan=sql.SQL(", ".join(k for k in kecamatan if k) or "null::text, null"),
        desa=sql.SQL(desa_out if desa else "null::text"),
        birth=sql.SQL(dates["birth_date"]),
        died=sql.SQL(dates["died_on"]),
        registered=sql.SQL(dates["registered_on"]),
        landed=_landed_layer(contract, columns, relation, row),
        joins=_joins(contract, columns, lookups.layouts),
    )


RECORD_COLUMNS = (
    "district_code", "kecamatan_code", "desa_code", "nik", "nik_key", "nik_status", "kk",
    "kk_key", "card_no", "card_key", "full_name", "sex", "birth_place", "birth_date", "address",
    "rt", "rw", "alive", "died_on", "segment", "active", "inactive_reason", "registered_on",
    "fktp", "desil", "facility",
)  # fmt: skip


def load_statement(
    contract: Contract,
    columns: dict[str, Column],
    relation: sql.Composable,
    row: sql.Composable,
    lookups: Lookups,
    *,
    load_id: int,
    period,
    first_id: int,
) -> sql.Composable:
    """ONE statement: the landed rows typed, checked and keyed (`staged`, read once), the usable
    ones into `restricted.person_records`, the unusable ones and the failed NIKs into
    `raw.person_rejects` (record ids: `first_id` + the row number, a block reserved from the
    sequence, cheaper than a `nextval` per row); it returns the counts: per kab/kota the rows
    recorded, those with an invalid and with a missing NIK (`kind` r), and the rows skipped and
    unusable (`kind` x)."""
    nik_label = f"{columns['nik'].header} (nik): " if "nik" in columns else "nik: "
    names = sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS))
    return sql.SQL(
        "with staged as materialized (select row_number, skipped, unusable, district_code,"
        " kecamatan_code, desa_code, t_nik as nik,"
        " case when nik_status = 'valid' then {nik_key} end as nik_key, nik_status,"
        " t_kk as kk, case when length(n_kk) = 16 and ltrim(n_kk, {digits}) = '' then {kk_key}"
        " end as kk_key, t_card_no as card_no, case when ltrim(n_card, {digits}) = ''"
        " then {card_key}"
        " end as card_key, t_full_name as full_name, v_sex as sex, t_birth_place as"
        " birth_place, birth_date, t_address as address, t_rt as rt, t_rw as rw,"
        " v_alive as alive, died_on, v_segment as segment, v_active as active,"
        " t_inactive_reason as inactive_reason, registered_on, t_fktp as fktp,"
        " case when unusable is null then t_desil::smallint end as desil,"
        " t_facility as facility,"
        " case when nik_status like 'invalid%' then {nik_label} || nik_status end as nik_reason"
        " from ({checked}) as c cross join _pkey),"
        " rejected as (insert into raw.person_rejects (load_id, row_number, dataset, reason,"
        " nik_key) select {load}, row_number, {dataset}, concat_ws('; ', unusable, nik_reason),"
        " nik_key from staged where not skipped and (unusable is not null or nik_reason is not"
        " null)),"
        " recorded as (insert into restricted.person_records (record_id, load_id, dataset,"
        " source, row_number, period, {names}) select {first_id} + row_number,"
        " {load}, {dataset}, {source}, row_number, {period}, {names} from staged"
        " where not skipped and unusable is null returning district_code, nik_status)"
        " select 'r', district_code, count(*), count(*) filter (where nik_status like"
        " 'invalid%'), count(*) filter (where nik_status = 'missing') from recorded"
        " group by district_code union all select 'x', '', count(*) filter (where skipped),"
        " count(*) filter (where not skipped and unusable is not null), 0 from staged"
    ).format(
        nik_key=sql.SQL(_HMAC.format("n_nik")),
        kk_key=sql.SQL(_HMAC.format("n_kk")),
        card_key=sql.SQL(_HMAC.format("n_card")),
        digits=sql.Literal(DIGITS),
        nik_label=sql.Literal(nik_label),
        checked=_checked(contract, columns, relation, row, lookups),
        load=sql.Literal(load_id),
        dataset=sql.Literal(contract.persons.dataset),
        source=sql.Literal(contract.name),
        period=sql.Literal(period),
        names=names,
        first_id=sql.Literal(first_id),
    )


def district_prepass(columns: dict[str, Column], relation: sql.Composable) -> sql.Composable | None:
    """The kab/kota codes the rows' desa and kecamatan codes may place them in (partitions are
    created for these before the load statement; the distinct texts first, a few hundred)."""
    places = [columns[a] for a in ("desa_code", "kecamatan_code") if a in columns]
    if not places:
        return None
    return sql.SQL(" union ").join(
        sql.SQL(
            "select distinct left(translate(btrim(t), '.', ''), 4) from"
            " (select distinct {c} as t from {rel}) as texts"
        ).format(c=sql.Identifier(place.landed), rel=relation)
        for place in places
    )


__all__ = [
    "NIK_DATES",
    "RECORD_COLUMNS",
    "Column",
    "Lookups",
    "dates_table",
    "district_prepass",
    "load_statement",
    "to_char_patterns",
]
