"""The one statement that types, checks and keys a person-level file's landed rows.

The rows land as text in a temporary table (`cakupan.landing.persons`); this module composes
the `create temp table _ps as select ...` that reads them once: each person attribute from its
column (trimmed, its value map applied, dates read in the contract's layout), the NIK checked
(issue 15.2: 16 digits; its province, kab/kota and, where `reference.wilayah` lists that kab/kota,
kecamatan codes exist; DDMMYY with 40 added to the day for women is a real date agreeing with the
record's sex and birth date), the desa found in `reference.wilayah`, and the keyed values
computed by SQL from the HMAC pads in `_pkey` (sent by COPY: the key is never SQL text or a
parameter). A row's `unusable` says why it cannot be used at all (reject only); `nik_reason` why
its NIK failed (the row is kept, unkeyed, and listed in the rejects). Reasons name the column and
the rule, never the value. No function here reads a value in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psycopg import sql

from cakupan.sources.contracts import PERSON_ATTRIBUTES, PERSON_DATES, Contract

# attributes that are text as given (trimmed), unless a value map says otherwise
_DIGITS_16 = "^[0-9]{16}$"
_DESA = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
_KEC = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
# what the NIK check says after its 16 digits, in order; the first that holds is its status
NIK_RULES = (
    ("unknown province code", "nik_area.code4 is null and nik_province.code2 is null"),
    ("unknown kab/kota code", "nik_area.code4 is null"),
    ("unknown kecamatan code", "nik_area.covered and nik_kec.code6 is null"),
    ("birth date digits are not a date", "not ({date_ok})"),
    ("disagrees with sex", "v_sex is not null and (v_sex = 'P') <> (nik_dd > 40)"),
    (
        "disagrees with birth date",
        "v_birth_date is not null and (extract(day from v_birth_date)::int <> {day}"
        " or extract(month from v_birth_date)::int <> nik_mm"
        " or extract(year from v_birth_date)::int % 100 <> nik_yy)",
    ),
)


@dataclass
class Column:
    """Where an attribute is in the landed table, and its header text (for reasons)."""

    attribute: str
    landed: str  # c1..cN
    header: str


def _text(column: Column | None) -> sql.Composable:
    if column is None:
        return sql.SQL("null::text")
    return sql.SQL("nullif(btrim({}), '')").format(sql.Identifier(column.landed))


def date_regex(layout: str) -> tuple[str, dict[str, int]]:
    """A layout such as `DD-MM-YYYY` as a regex with a group per part, and the group of each."""
    parts = re.findall(r"DD?|MM?|YYYY|[^DMY]", layout)
    regex, groups = "", {}
    for part in parts:
        if part[0] in "DMY":
            groups[part[0]] = len(groups) + 1
            regex += "([0-9]{4})" if part == "YYYY" else f"([0-9]{{{3 - len(part)},2}})"
        else:
            regex += re.escape(part)
    return f"^{regex}$", groups


def _days_ok(y: str, m: str, d: str) -> str:
    """SQL: integers y, m, d make a real date (no function that can fail on a bad one)."""
    leap = f"(({y}) % 4 = 0 and (({y}) % 100 <> 0 or ({y}) % 400 = 0))"
    dim = f"case when ({m}) = 2 then 28 + ({leap})::int else 31 - ((({m}) - 1) % 7 % 2) end"
    return f"(({m}) between 1 and 12 and ({d}) between 1 and {dim} and ({y}) between 1 and 9999)"


def _date_parts(attribute: str, layout: str) -> list[sql.Composable]:
    """`m_<attr>`: the date's parts as text[] (y, m, d) from the layout, a workbook's date
    cell (`\\x01d2025-06-01`, `\\x01t...`) or its serial day number."""
    regex, groups = date_regex(layout)
    t = sql.Identifier(f"t_{attribute}")
    order = sql.SQL(", ").join(
        sql.SQL("{}[{}]").format(sql.Identifier("m"), sql.Literal(groups[k])) for k in "YMD"
    )
    return [
        sql.SQL(
            "case when {t} is null then null"
            " when {t} ~ '^\\x01[dt]' then regexp_match(substr({t}, 3, 10),"
            " '^([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}})$')"
            " when {t} ~ '^\\x01f[0-9]+(\\.0*)?$' then string_to_array(to_char(date '1899-12-30'"
            " + split_part(substr({t}, 3), '.', 1)::int, 'YYYY-MM-DD'), '-')"
            " else (select array[{order}] from (select regexp_match({t}, {rx}) as m) d"
            " where m is not null) end as {out}"
        ).format(t=t, rx=sql.Literal(regex), order=order, out=sql.Identifier(f"m_{attribute}"))
    ]


def _mapped(attribute: str, values: dict, typed: str) -> sql.Composable:
    """The value map as a CASE on the upper-cased, space-normalised text."""
    t = sql.Identifier(f"t_{attribute}")
    if not values:
        return sql.SQL("{}::{}").format(t, sql.SQL(typed))
    cases = [
        sql.SQL("when {} then {}").format(sql.Literal(" ".join(k.upper().split())), sql.Literal(v))
        for k, v in values.items()
    ]
    return sql.SQL("case upper(regexp_replace({t}, '\\s+', ' ', 'g')) {cases} end::{typed}").format(
        t=t, cases=sql.SQL(" ").join(cases), typed=sql.SQL(typed)
    )


_HMAC = "encode(sha256(_pkey.opad || sha256(_pkey.ipad || convert_to({}, 'UTF8'))), 'hex')"
_TYPES = {"alive": "boolean", "active": "boolean", "sex": "text", "segment": "text"}
OUTPUT = (
    "row_number", "skipped", "district_code", "kecamatan_code", "desa_code", "nik", "nik_key",
    "nik_status", "kk", "kk_key", "card_no", "card_key", "full_name", "sex", "birth_place",
    "birth_date", "address", "rt", "rw", "alive", "died_on", "segment", "active",
    "inactive_reason", "registered_on", "fktp", "desil", "facility", "unusable", "nik_reason",
)  # fmt: skip


def _landed_layer(
    contract: Contract, columns: dict[str, Column], relation: sql.Composable, row: sql.Composable
) -> sql.Composable:
    """L1: each attribute's trimmed text (`t_<attr>`), the row number, and whether the row is
    blank or matched by a `skip_rows` rule."""
    texts = [
        sql.SQL("{} as {}").format(_text(columns.get(a)), sql.Identifier(f"t_{a}"))
        for a in PERSON_ATTRIBUTES
    ]
    blank = sql.SQL(" and ").join(sql.SQL("{} is null").format(_text(c)) for c in columns.values())
    by_field = {
        spec.name: columns[spec.person]
        for spec in contract.fields.values()
        if spec.person in columns
    }
    rules = [
        sql.SQL("coalesce({} ~* {}, false)").format(
            sql.Identifier(by_field[rule.field].landed), sql.Literal(rule.pattern)
        )
        for rule in contract.skip_rows
        if rule.field in by_field
    ]
    skipped = sql.SQL(" or ").join([sql.SQL("({})").format(blank), *rules])
    return sql.SQL("select {row} as row_number, {skipped} as skipped, {texts} from {rel}").format(
        row=row, skipped=skipped, texts=sql.SQL(", ").join(texts), rel=relation
    )


def _normal_layer(contract: Contract) -> sql.Composable:
    """L2: NIK, No. KK and No. Kartu normalised (`n_*`), the desa code dotted, the dates'
    parts (`m_*`) and the value maps applied (`v_*`)."""
    fields = contract.person_fields()
    parts = [
        sql.SQL("translate(t_nik, ' ''.-', '') as n_nik"),
        sql.SQL("translate(t_kk, ' ''.-', '') as n_kk"),
        sql.SQL("nullif(regexp_replace(t_card_no, '[^0-9]', '', 'g'), '') as n_card"),
        sql.SQL(
            "case when t_desa_code ~ '^[0-9]{10}$' then substr(t_desa_code, 1, 2) || '.' ||"
            " substr(t_desa_code, 3, 2) || '.' || substr(t_desa_code, 5, 2) || '.' ||"
            " substr(t_desa_code, 7, 4) else t_desa_code end as n_desa"
        ),
    ]
    for attribute in sorted(PERSON_DATES):
        spec = fields.get(attribute)
        parts += _date_parts(attribute, spec.date_layout() if spec else "YYYY-MM-DD")
    for attribute, typed in _TYPES.items():
        values = fields[attribute].values if attribute in fields else {}
        parts.append(
            sql.SQL("{} as {}").format(
                _mapped(attribute, values, typed), sql.Identifier(f"v_{attribute}")
            )
        )
    return sql.SQL(", ").join(parts)


def _typed_layer() -> sql.Composable:
    """L3: the dates typed (`v_*`, null when not a date; `bad_*` when a text is not one), the
    NIK's date digits, the desil."""
    parts = []
    for a in sorted(PERSON_DATES):
        m = f"m_{a}"
        ok = _days_ok(f"{m}[1]::int", f"{m}[2]::int", f"{m}[3]::int")
        parts.append(
            f"case when {m} is not null and {ok} then make_date({m}[1]::int, {m}[2]::int,"
            f" {m}[3]::int) end as v_{a}, t_{a} is not null and not coalesce({ok}, false)"
            f" as bad_{a}"
        )
    parts.append("n_nik ~ '^[0-9]{16}$' as nik_16")
    for name, start in (("dd", 7), ("mm", 9), ("yy", 11)):
        parts.append(
            f"case when n_nik ~ '^[0-9]{{16}}$' then substr(n_nik, {start}, 2)::int end"
            f" as nik_{name}"
        )
    parts.append(
        "case when t_desil ~ '^[0-9]{1,2}$' and t_desil::int between 1 and 10"
        " then t_desil::smallint end as v_desil"
    )
    return sql.SQL(", ".join(parts))


def _checked_layer() -> sql.Composable:
    """L4: the NIK's status (first failing rule, `missing`, `valid`) and where the row is."""
    day = "(case when nik_dd > 40 then nik_dd - 40 else nik_dd end)"
    date_ok = _days_ok("2000 + nik_yy", "nik_mm", day)
    rules = " ".join(
        f"when {cond.format(date_ok=date_ok, day=day)} then 'invalid: {rule}'"
        for rule, cond in NIK_RULES
    )
    uncovered = f"n_desa ~ '{_DESA}' and desa_area.code5 is not null and not desa_area.covered"
    return sql.SQL(
        f"case when t_nik is null then 'missing' when not nik_16 then 'invalid: not 16 digits'"
        f" {rules} else 'valid' end as nik_status,"
        f" coalesce(desa.district_code, case when {uncovered} then left(n_desa, 5) end,"
        f" kec.district_code, '') as district_code,"
        f" coalesce(left(desa.code, 8), case when {uncovered} then left(n_desa, 8) end, kec.code)"
        f" as kecamatan_code,"
        f" case when desa.code is not null or ({uncovered}) then n_desa end as desa_code_ok,"
        f" t_desa_code is not null and desa.code is null and not coalesce({uncovered}, false)"
        f" as bad_desa,"
        f" t_kecamatan_code is not null and kec.code is null and (t_kecamatan_code !~ '{_KEC}'"
        f" or coalesce(kec_area.covered, false)) as bad_kecamatan"
    )


_LOOKUPS = """
left join _areas as nik_area on nik_16 and nik_area.code4 = left(n_nik, 4)
left join _provinces as nik_province on nik_16 and nik_province.code2 = left(n_nik, 2)
left join _kecamatan as nik_kec on nik_16 and nik_kec.code6 = left(n_nik, 6)
left join reference.wilayah as desa on desa.code = n_desa and desa.level <> 'kecamatan'
left join _areas as desa_area on desa_area.code5 = left(n_desa, 5)
left join reference.wilayah as kec on kec.code = t_kecamatan_code and kec.level = 'kecamatan'
left join _areas as kec_area on kec_area.code5 = left(t_kecamatan_code, 5)
"""


def _reasons(
    contract: Contract, columns: dict[str, Column]
) -> tuple[sql.Composable, sql.Composable]:
    """(unusable, nik_reason): every reason a row cannot be used, `; `-joined (null: usable),
    and the NIK's failed rule. Each names the column (its header) and the rule."""
    from cakupan.sources.contracts import PERSON_REQUIRED

    dataset = contract.persons.dataset

    def label(attribute: str) -> str:
        column = columns.get(attribute)
        return f"{column.header} ({attribute})" if column else attribute

    checks = [("t_nik is null and t_full_name is null", "no NIK and no name")]
    for a in PERSON_REQUIRED[dataset]:
        if a not in ("nik", "full_name"):
            checks.append((f"t_{a} is null", f"{label(a)}: required but empty"))
    for a in sorted(PERSON_DATES):
        if a in columns:
            layout = contract.person_fields()[a].date_layout()
            checks.append((f"bad_{a}", f"{label(a)}: not a date ({layout})"))
    for a in _TYPES:
        if a in columns and contract.person_fields()[a].values:
            checks.append(
                (
                    f"t_{a} is not null and v_{a} is null",
                    f"{label(a)}: not one of the contract's values",
                )
            )
    if "desil" in columns:
        checks.append(
            ("t_desil is not null and v_desil is null", f"{label('desil')}: not a desil 1-10")
        )
    checks.append(("bad_desa", f"{label('desa_code')}: unknown desa/kelurahan code"))
    checks.append(("bad_kecamatan", f"{label('kecamatan_code')}: unknown kecamatan code"))
    unusable = sql.SQL("nullif(concat_ws('; ', {}), '')").format(
        sql.SQL(", ").join(
            sql.SQL("case when {} then {} end").format(sql.SQL(cond), sql.Literal(reason))
            for cond, reason in checks
        )
    )
    nik_reason = sql.SQL("case when nik_status like 'invalid%' then {} || nik_status end").format(
        sql.Literal(f"{label('nik')}: ")
    )
    return unusable, nik_reason


def staging_statement(
    contract: Contract, columns: dict[str, Column], relation: sql.Composable, row: sql.Composable
) -> sql.Composable:
    """`create temp table _ps` (columns `OUTPUT`): every landed row typed, checked and keyed."""
    unusable, nik_reason = _reasons(contract, columns)
    hmac = {
        k: sql.SQL(_HMAC.format(v))
        for k, v in (("nik", "n_nik"), ("kk", "n_kk"), ("card", "n_card"))
    }
    return sql.SQL(
        "create temp table _ps on commit drop as select row_number, skipped, district_code,"
        " kecamatan_code, desa_code_ok as desa_code, t_nik as nik,"
        " case when nik_status = 'valid' then {nik_key} end as nik_key, nik_status,"
        " t_kk as kk, case when n_kk ~ '^[0-9]{{16}}$' then {kk_key} end as kk_key,"
        " t_card_no as card_no, case when n_card is not null then {card_key} end as card_key,"
        " t_full_name as full_name, v_sex as sex, t_birth_place as birth_place,"
        " v_birth_date as birth_date, t_address as address, t_rt as rt, t_rw as rw,"
        " v_alive as alive, v_died_on as died_on, v_segment as segment, v_active as active,"
        " t_inactive_reason as inactive_reason, v_registered_on as registered_on,"
        " t_fktp as fktp, v_desil as desil, t_facility as facility,"
        " {unusable} as unusable, {nik_reason} as nik_reason"
        " from (select l3.*, {checked} from (select l2.*, {typed} from (select l1.*, {normal}"
        " from ({landed} offset 0) as l1 offset 0) as l2 offset 0) as l3 {lookups} offset 0) as l4"
        " cross join _pkey"
    ).format(
        nik_key=hmac["nik"],
        kk_key=hmac["kk"],
        card_key=hmac["card"],
        unusable=unusable,
        nik_reason=nik_reason,
        checked=_checked_layer(),
        typed=_typed_layer(),
        normal=_normal_layer(contract),
        landed=_landed_layer(contract, columns, relation, row),
        lookups=sql.SQL(_LOOKUPS),
    )


__all__ = ["OUTPUT", "Column", "NIK_RULES", "date_regex", "staging_statement"]
