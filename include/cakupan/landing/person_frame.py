"""Type, check and key a person-level file's rows, a batch at a time, as polars frames.

`cakupan.landing.persons` reads a file in batches (a CSV by polars' own reader, anything else
from the source reader's rows), hands each batch here and streams what comes back to the server
by one COPY. polars evaluates every check over whole columns on its own threads; what no library
has is the rules themselves, written here once (issue 15.2):

- the NIK: 16 digits; its province and kab/kota codes exist, and its kecamatan code where
  `reference.wilayah` lists that kab/kota; its DDMMYY, with 40 added to the day for women, is a
  real date (29 February only in a leap year, the YY read as 2000-2099) that agrees with the
  record's sex and birth date. A failing NIK keeps its row, unkeyed, with its reason;
- a date in its contract layout (`DD-MM-YYYY`, `D/M/YYYY`, `YYYYMMDD`, ...): the text without its
  year looked up among the days of one leap year written in that layout, the year 1900-2099
  checked apart; a workbook's date cells and Excel serial days are dates whatever the layout;
- the value maps (case-insensitive, trimmed), desil 1-10, desa and kecamatan codes found in the
  reference (a well-formed code of a kab/kota the reference does not list is taken as written);
- HMAC-SHA256 of a valid NIK, a No. KK of 16 digits and a No. Kartu under the person key
  (`Keyer`, polars-hash's expression).

Reasons name the column and the rule, never the value. The Python rule in `tests/unit/nik_rule.py`
is a test oracle, not a second implementation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from cakupan.sources.contracts import PERSON_DATES, PERSON_REQUIRED, Contract
from cakupan.warehouse.person_key import Keyer

MARK = "\x01"  # a workbook cell that is not text (`cakupan.sources.landed.cell_text`)
_MAPPED = {"alive": pl.Boolean, "active": pl.Boolean, "sex": pl.String, "segment": pl.String}
_TEXTS = ("birth_place", "address", "rt", "rw", "inactive_reason", "fktp", "facility")
_CELLS = ("nik", "kk", "card_no", "full_name", "desa_code", "kecamatan_code", "desil",
          *_TEXTS, *_MAPPED)  # fmt: skip
_DESA = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
_KEC = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
_DIGITS = r"^[0-9]+$"
DESILS = [str(d) for d in range(1, 11)]
# the columns of `restricted.person_records` a load writes, in COPY order after its own
RECORD_COLUMNS = (
    "district_code", "kecamatan_code", "desa_code", "nik", "nik_key", "nik_status", "kk",
    "kk_key", "card_no", "card_key", "full_name", "sex", "birth_place", "birth_date", "address",
    "rt", "rw", "alive", "died_on", "segment", "active", "inactive_reason", "registered_on",
    "fktp", "desil", "facility",
)  # fmt: skip
# the attribute a record column comes from, where not its own name (None: every record has it)
_SOURCE = {"district_code": None, "kecamatan_code": None, "desa_code": None, "nik_status": None,
           "nik_key": "nik", "kk_key": "kk", "card_key": "card_no"}  # fmt: skip


@dataclass
class Column:
    """Where an attribute is in a batch (`c<index + 1>`), and its header text (for reasons)."""

    attribute: str
    landed: str
    header: str
    marks: bool = False  # a workbook's cells: a date may be a typed cell (`MARK`)


@dataclass
class Lookups:
    """The reference the checks need: the NIK's first six digits (every kecamatan of a kab/kota
    `reference.wilayah` lists; any two digits after one it does not, `uncovered`), the province
    and kab/kota codes, the desa and kecamatan of the reference, and the kab/kota codes it
    lists."""

    prefixes: list[str]  # undotted kecamatan codes of the kab/kota `reference.wilayah` lists
    provinces: list[str]
    districts: list[str]  # dotted, `64.02`
    covered: set[str]
    desa: dict[str, tuple[str, str]]  # desa code -> (kab/kota, kecamatan)
    kecamatan: dict[str, str]  # kecamatan code -> kab/kota
    uncovered: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.uncovered = [d for d in self.districts if d not in self.covered]


# ---- dates --------------------------------------------------------------------------------------


def to_char_patterns(layout: str) -> list[str]:
    """The ways a layout may write a date: `D-M-YYYY` -> `DD-MM-YYYY`, `FMDD-MM-YYYY`,
    `DD-FMMM-YYYY`, `FMDD-FMMM-YYYY` (a one-letter part may be unpadded; PostgreSQL's `to_char`
    spelling, kept as the layouts' documentation)."""
    parts = re.findall(r"DD?|MM?|YYYY|[^DMY]", layout)
    patterns = [""]
    for part in parts:
        if part in ("D", "M"):
            patterns = [p + v for p in patterns for v in (part * 2, "FM" + part * 2)]
        else:
            patterns = [p + part for p in patterns]
    return patterns


def _write(pattern: str, day: dt.date) -> str:
    """`day` written in a `to_char_patterns` pattern (without its year)."""
    out, i = [], 0
    while i < len(pattern):
        unpadded = pattern.startswith("FM", i)
        i += 2 if unpadded else 0
        token = pattern[i : i + 2]
        if token in ("DD", "MM"):
            n = day.day if token == "DD" else day.month
            out.append(str(n) if unpadded else f"{n:02d}")
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _year_parts(layout: str) -> tuple[str, str, int | str | None]:
    """(the layout without its year, where the year is, its separator): `first`, `last`,
    `middle` (between two parts split by the separator) or `inner` (`DDYYYYMM`: after two
    digits)."""
    parts = re.fullmatch(r"(DD?|MM?|YYYY)([-./ ]?)(DD?|MM?|YYYY)\2(DD?|MM?|YYYY)", layout)
    assert parts is not None, layout  # the contract checked it
    rest = layout.replace("YYYY", "")
    if parts[1] == "YYYY":
        return rest, "first", None
    if parts[4] == "YYYY":
        return rest, "last", None
    return rest, ("middle" if parts[2] else "inner"), parts[2]


def date_days(layout: str) -> dict[str, int]:
    """Every day of a leap year written in `layout` without its year -> month * 100 + day
    (366 days a way of writing it)."""
    rest = _year_parts(layout)[0]
    days: dict[str, int] = {}
    day = dt.date(2000, 1, 1)
    while day.year == 2000:
        for pattern in to_char_patterns(rest):
            days[_write(pattern, day)] = day.month * 100 + day.day
        day += dt.timedelta(days=1)
    return days


def _strftime(layout: str) -> str:
    """The padded `strftime` format of a layout (how a workbook's date cell is written in it)."""
    return re.sub(r"YYYY", "%Y", re.sub(r"MM?", "%m", re.sub(r"DD?", "%d", layout)))


def date_key(cell: pl.Expr, layout: str, marks: bool) -> pl.Expr:
    """A date's text as its layout writes it (trimmed; empty: none): the text itself, or a
    workbook's date cell (`\\x01d2025-06-01`) or serial day number (`\\x01f45809`) written in the
    layout (`marks`: a workbook's rows, which may carry them)."""
    text = cell.str.strip_chars(" ")
    text = pl.when(text == "").then(None).otherwise(text)
    if not marks:
        return text
    kind = cell.str.slice(1, 1)
    serial = cell.str.slice(2).str.split(".").list.first()
    fmt = _strftime(layout)
    as_date = cell.str.slice(2, 10).str.to_date("%Y-%m-%d", strict=False).dt.to_string(fmt)
    from_serial = (
        pl.lit(dt.date(1899, 12, 30))
        + pl.duration(days=serial.cast(pl.Int64, strict=False).clip(0, 999_999))
    ).dt.to_string(fmt)
    return (
        pl.when(~cell.str.starts_with(MARK))
        .then(text)
        .when(kind.is_in(["d", "t"]))
        .then(as_date)
        .when((kind == "f") & serial.str.contains(r"^[0-9]{1,6}$"))
        .then(from_serial)
        .otherwise(None)
    )


def date_parts(key: pl.Expr, layout: str) -> tuple[pl.Expr, pl.Expr]:
    """(the year's text, the text without it) of a date key in `layout`."""
    _, where, sep = _year_parts(layout)
    if where == "first":
        return key.str.slice(0, 4), key.str.slice(4)
    if where == "last":
        return key.str.slice(-4), key.str.head(-4)
    if where == "inner":
        return key.str.slice(2, 4), key.str.slice(0, 2) + key.str.slice(6)
    parts = key.str.split(str(sep))
    rest = parts.list.get(0, null_on_oob=True) + sep + sep + parts.list.get(2, null_on_oob=True)
    whole = parts.list.len() == 3
    return parts.list.get(1, null_on_oob=True), pl.when(whole).then(rest)


def date_value(key: pl.Expr, layout: str, days: dict[str, int]) -> pl.Expr:
    """The date a key (`date_key`) writes in `layout`, or null: a year of 4 digits, 1900-2099
    (29 February only in a leap year). A layout of padded parts (`DD-MM-YYYY`) is parsed when
    the text has its exact shape; one with an unpadded part (`D/M/YYYY`) looks the text without
    its year up among the layout's days (`date_days`)."""
    if "DD" in layout and "MM" in layout:
        shape = re.sub(r"YYYY", "[0-9]{4}", re.sub(r"DD|MM", "[0-9]{2}", re.escape(layout)))
        parsed = key.str.to_date(_strftime(layout), strict=False)
        value = pl.when(key.str.contains(f"^{shape}$")).then(parsed)
        return pl.when(value.dt.year().is_between(1900, 2099)).then(value)
    year, rest = date_parts(key, layout)
    md = rest.replace_strict(list(days), list(days.values()), default=None, return_dtype=pl.Int32)
    ok_year = year.str.contains(r"^[0-9]{4}$") & (year >= "1900") & (year <= "2099")
    y = pl.when(ok_year).then(year).cast(pl.Int32, strict=False)
    leap_ok = (md != 229) | ((y % 4 == 0) & (y != 1900))
    return pl.when(ok_year & md.is_not_null() & leap_ok).then(pl.date(y, md // 100, md % 100))


# ---- keys ---------------------------------------------------------------------------------------


# ---- the checks ---------------------------------------------------------------------------------


def _cell(columns: dict[str, Column], a: str) -> pl.Expr:
    """An attribute's text, trimmed of spaces, empty as null (absent: null)."""
    if a not in columns:
        return pl.lit(None, pl.String)
    t = pl.col(columns[a].landed).str.strip_chars(" ")
    return pl.when(t == "").then(None).otherwise(t)


def _normal(columns: dict[str, Column], a: str) -> pl.Expr:
    """A NIK, No. KK or No. Kartu without spaces, apostrophes, dots, hyphens and tabs."""
    if a not in columns:
        return pl.lit(None, pl.String)
    n = pl.col(columns[a].landed).str.replace_all(r"[ '.\t-]", "")
    return pl.when(n == "").then(None).otherwise(n)


def _mapped(columns: dict[str, Column], a: str, values: dict, dtype) -> pl.Expr:
    """The value map on the upper-cased text; no map: the text itself."""
    cell = _cell(columns, a)
    if a not in columns or not values:
        return cell.cast(dtype)
    return cell.str.to_uppercase().replace_strict(
        [k.upper() for k in values], list(values.values()), default=None, return_dtype=dtype
    )


def _desa(columns: dict[str, Column]) -> pl.Expr:
    """A desa code as written, or its 10 digits with the dots put in."""
    if "desa_code" not in columns:
        return pl.lit(None, pl.String)
    d = _cell(columns, "desa_code")
    s = d.str
    dotted = s.slice(0, 2) + "." + s.slice(2, 2) + "." + s.slice(4, 2) + "." + s.slice(6, 4)
    return (
        pl.when(~s.contains(".", literal=True) & s.contains(r"^[0-9]{10}$"))
        .then(dotted)
        .otherwise(d)
    )


@dataclass
class Plan:
    """What `stage` needs of a sheet: the contract, the found columns, the reference."""

    contract: Contract
    columns: dict[str, Column]
    lookups: Lookups
    keyer: Keyer
    days: dict[str, dict[str, int]] = field(default_factory=dict)  # layout -> `date_days`

    def __post_init__(self) -> None:
        for a, spec in self.contract.person_fields().items():
            if a in PERSON_DATES and a in self.columns:
                self.days.setdefault(spec.date_layout(), date_days(spec.date_layout()))

    def sent_columns(self) -> tuple[str, ...]:
        """The `RECORD_COLUMNS` a sheet's rows can fill (a register has no card, segment or
        facility): only these go to the COPY, the others stay null without a field to parse."""
        return tuple(
            c for c in RECORD_COLUMNS if (a := _SOURCE.get(c, c)) is None or a in self.columns
        )

    def label(self, a: str) -> str:
        return f"{self.columns[a].header} ({a})" if a in self.columns else a


def _landed(plan: Plan) -> list[pl.Expr]:
    """The texts (`t_*`), the normalised NIK, No. KK, No. Kartu and desa (`n_*`), the value
    maps (`v_*`), the date keys (`k_*`), and `skipped` (a blank row, or a skip rule's match)."""
    columns, fields = plan.columns, plan.contract.person_fields()
    blank = pl.all_horizontal([pl.col(c.landed).is_null() for c in columns.values()])
    rules = [
        pl.col(columns[fields_a].landed).str.contains("(?i)" + r.pattern).fill_null(False)
        for r in plan.contract.skip_rows
        if (fields_a := plan.contract.fields[r.field].person) in columns
    ]
    exprs = [pl.any_horizontal([blank, *rules]).alias("skipped")]
    exprs += [_cell(columns, a).alias(f"t_{a}") for a in _CELLS]
    exprs += [
        _mapped(columns, a, fields[a].values if a in fields else {}, dtype).alias(f"v_{a}")
        for a, dtype in _MAPPED.items()
    ]
    exprs += [_normal(columns, a).alias(f"n_{a}") for a in ("nik", "kk", "card_no")]
    exprs.append(_desa(columns).alias("n_desa"))
    for a in sorted(PERSON_DATES):
        if a in columns:
            key = date_key(pl.col(columns[a].landed), fields[a].date_layout(), columns[a].marks)
            exprs.append(key.alias(f"k_{a}"))
    return exprs


def _found(plan: Plan) -> list[pl.Expr]:
    """The lookups: the NIK's prefix and date digits, the desa and kecamatan, each date."""
    lk, fields = plan.lookups, plan.contract.person_fields()
    nik = pl.col("n_nik")
    # every real DDMM of a NIK: month * 100 + day, + 10000 for a woman (40 added to the day)
    ddmm = {}
    for female in (False, True):
        for mmdd in _ALL_DAYS:
            day, month = mmdd % 100, mmdd // 100
            ddmm[f"{day + 40 * female:02d}{month:02d}"] = 10000 * female + mmdd
    exprs = [
        (
            nik.str.slice(0, 6).is_in(lk.prefixes)
            | nik.str.slice(0, 4).is_in([d.replace(".", "") for d in lk.uncovered])
        ).alias("nik_prefix"),
        nik.str.slice(6, 4)
        .replace_strict(list(ddmm), list(ddmm.values()), default=None, return_dtype=pl.Int32)
        .alias("nik_date"),
        pl.col("n_desa")
        .replace_strict(list(lk.desa), [d for d, _ in lk.desa.values()], default=None)
        .alias("desa_district"),
        pl.col("n_desa")
        .replace_strict(list(lk.desa), [k for _, k in lk.desa.values()], default=None)
        .alias("desa_kecamatan"),
        pl.col("t_kecamatan_code")
        .replace_strict(list(lk.kecamatan), list(lk.kecamatan.values()), default=None)
        .alias("kec_district"),
    ]
    for a in sorted(PERSON_DATES):
        if a in plan.columns:
            layout = fields[a].date_layout()
            exprs.append(date_value(pl.col(f"k_{a}"), layout, plan.days[layout]).alias(f"d_{a}"))
    return exprs


_ALL_DAYS = [
    (dt.date(2000, 1, 1) + dt.timedelta(days=i)).month * 100
    + (dt.date(2000, 1, 1) + dt.timedelta(days=i)).day
    for i in range(366)
]


def _nik_status(plan: Plan) -> pl.Expr:
    """`missing`, the first rule the NIK fails (`invalid: ...`), or `valid`."""
    nik, lk = pl.col("n_nik"), plan.lookups
    nd = pl.col("nik_date")
    female = nd >= 10000
    yy = nik.str.slice(10, 2)
    status = (
        pl.when(pl.col("t_nik").is_null())
        .then(pl.lit("missing"))
        .when(~(nik.str.len_chars() == 16).fill_null(False) | ~nik.str.contains(_DIGITS))
        .then(pl.lit("invalid: not 16 digits"))
        .when(~pl.col("nik_prefix") & ~nik.str.slice(0, 2).is_in(lk.provinces))
        .then(pl.lit("invalid: unknown province code"))
        .when(
            ~pl.col("nik_prefix")
            & ~nik.str.slice(0, 4).is_in([d.replace(".", "") for d in lk.districts])
        )  # fmt: skip
        .then(pl.lit("invalid: unknown kab/kota code"))
        .when(~pl.col("nik_prefix"))
        .then(pl.lit("invalid: unknown kecamatan code"))
        .when(nd.is_null() | ((nd % 10000 == 229) & (yy.cast(pl.Int32, strict=False) % 4 != 0)))
        .then(pl.lit("invalid: birth date digits are not a date"))
        .when(pl.col("v_sex").is_not_null() & ((pl.col("v_sex") == "P") != female))
        .then(pl.lit("invalid: disagrees with sex"))
    )
    if "birth_date" in plan.columns:
        birth = pl.col("d_birth_date")
        agrees = (
            (birth.dt.day() == nd % 100)
            & (birth.dt.month() == (nd % 10000) // 100)
            & (birth.dt.year() % 100 == yy.cast(pl.Int32, strict=False))
        )
        status = status.when(birth.is_not_null() & ~agrees).then(
            pl.lit("invalid: disagrees with birth date")
        )
    return status.otherwise(pl.lit("valid")).alias("nik_status")


def _uncovered(plan: Plan) -> tuple[pl.Expr, pl.Expr]:
    """A desa (kecamatan) code of a kab/kota the reference does not list, well-formed: taken
    as written."""
    codes = plan.lookups.uncovered
    desa, kec = pl.col("n_desa"), pl.col("t_kecamatan_code")
    return (
        (desa.str.slice(0, 5).is_in(codes) & desa.str.contains(_DESA)).fill_null(False),
        (kec.str.slice(0, 5).is_in(codes) & kec.str.contains(_KEC)).fill_null(False),
    )


def _reasons(plan: Plan, unc_desa: pl.Expr, unc_kec: pl.Expr) -> pl.Expr:
    """Every reason a row cannot be used, `; `-joined (null: usable)."""
    columns, fields, label = plan.columns, plan.contract.person_fields(), plan.label
    checks = [(pl.col("t_nik").is_null() & pl.col("t_full_name").is_null(), "no NIK and no name")]
    for a in PERSON_REQUIRED[plan.contract.persons.dataset]:
        if a not in ("nik", "full_name"):
            column = "n_card_no" if a == "card_no" else f"t_{a}"
            checks.append((pl.col(column).is_null(), f"{label(a)}: required but empty"))
    for a in sorted(PERSON_DATES):
        if a in columns:
            layout = fields[a].date_layout()
            checks.append((pl.col(f"k_{a}").is_not_null() & pl.col(f"d_{a}").is_null(),
                           f"{label(a)}: not a date ({layout}, 1900 to 2099)"))  # fmt: skip
    for a in _MAPPED:
        if a in columns and fields[a].values:
            checks.append((pl.col(f"t_{a}").is_not_null() & pl.col(f"v_{a}").is_null(),
                           f"{label(a)}: not one of the contract's values"))  # fmt: skip
    if "desil" in columns:
        checks.append((pl.col("t_desil").is_not_null() & ~pl.col("t_desil").is_in(DESILS),
                       f"{label('desil')}: not a desil 1-10"))  # fmt: skip
    if "desa_code" in columns:
        unknown = pl.col("n_desa").is_not_null() & pl.col("desa_district").is_null() & ~unc_desa
        checks.append((unknown, f"{label('desa_code')}: unknown desa/kelurahan code"))
    if "kecamatan_code" in columns:
        unknown = pl.col("t_kecamatan_code").is_not_null() & pl.col("kec_district").is_null()
        checks.append((unknown & ~unc_kec, f"{label('kecamatan_code')}: unknown kecamatan code"))
    joined = pl.concat_str(
        [pl.when(cond.fill_null(False)).then(pl.lit(reason)) for cond, reason in checks],
        separator="; ",
        ignore_nulls=True,
    )
    return pl.when(joined == "").then(None).otherwise(joined).alias("unusable")


def _place(plan: Plan, unc_desa: pl.Expr, unc_kec: pl.Expr) -> list[pl.Expr]:
    """The kab/kota (`''` when unknown), kecamatan and desa codes of a row."""
    desa, kec = "desa_code" in plan.columns, "kecamatan_code" in plan.columns
    n_desa, t_kec = pl.col("n_desa"), pl.col("t_kecamatan_code")
    district, kecamatan = [], []
    if desa:
        district += [pl.col("desa_district"), pl.when(unc_desa).then(n_desa.str.slice(0, 5))]
        kecamatan += [pl.col("desa_kecamatan"), pl.when(unc_desa).then(n_desa.str.slice(0, 8))]
    if kec:
        district += [pl.col("kec_district"), pl.when(unc_kec).then(t_kec.str.slice(0, 5))]
        found = pl.when(pl.col("kec_district").is_not_null()).then(t_kec)
        kecamatan += [found, pl.when(unc_kec).then(t_kec)]
    none = pl.lit(None, pl.String)
    return [
        pl.coalesce([*district, pl.lit("")]).alias("district_code"),
        (pl.coalesce(kecamatan) if kecamatan else none).alias("kecamatan_code"),
        (
            pl.when(pl.col("desa_district").is_not_null() | unc_desa).then(n_desa) if desa else none
        ).alias("desa_code"),
    ]


def check(batch: pl.DataFrame, plan: Plan) -> pl.DataFrame:
    """A batch (`row_number`, `c1`..`cN` as text) typed, checked and keyed: `row_number`,
    `skipped`, `unusable`, `nik_reason` and the `RECORD_COLUMNS`. polars runs it on its own
    threads, without the GIL."""
    unc_desa, unc_kec = _uncovered(plan)
    keyer = plan.keyer
    nik_label = f"{plan.columns['nik'].header} (nik): " if "nik" in plan.columns else "nik: "
    dates = {a: pl.col(f"d_{a}") if a in plan.columns else pl.lit(None, pl.Date)
             for a in PERSON_DATES}  # fmt: skip
    return (
        batch.lazy()
        .select(pl.col("row_number").cast(pl.Int64), *_landed(plan))
        .with_columns(_found(plan))
        .with_columns(
            _nik_status(plan), _reasons(plan, unc_desa, unc_kec), *_place(plan, unc_desa, unc_kec)
        )  # fmt: skip
        .select(
            "row_number",
            "skipped",
            "unusable",
            "district_code",
            "kecamatan_code",
            "desa_code",
            pl.col("t_nik").alias("nik"),
            keyer.expr(pl.when(pl.col("nik_status") == "valid").then(pl.col("n_nik"))).alias(
                "nik_key"
            ),
            "nik_status",
            pl.col("t_kk").alias("kk"),
            keyer.expr(
                pl.when(pl.col("n_kk").str.contains(r"^[0-9]{16}$")).then(pl.col("n_kk"))
            ).alias("kk_key"),
            pl.col("t_card_no").alias("card_no"),
            keyer.expr(
                pl.when(pl.col("n_card_no").str.contains(_DIGITS)).then(pl.col("n_card_no"))
            ).alias("card_key"),
            pl.col("t_full_name").alias("full_name"),
            pl.col("v_sex").alias("sex"),
            pl.col("t_birth_place").alias("birth_place"),
            dates["birth_date"].alias("birth_date"),
            *(pl.col(f"t_{a}").alias(a) for a in ("address", "rt", "rw")),
            pl.col("v_alive").alias("alive"),
            dates["died_on"].alias("died_on"),
            pl.col("v_segment").alias("segment"),
            pl.col("v_active").alias("active"),
            pl.col("t_inactive_reason").alias("inactive_reason"),
            dates["registered_on"].alias("registered_on"),
            pl.col("t_fktp").alias("fktp"),
            pl.when(pl.col("unusable").is_null())
            .then(pl.col("t_desil").cast(pl.Int16, strict=False))
            .alias("desil"),
            pl.col("t_facility").alias("facility"),
            pl.when(pl.col("nik_status").str.starts_with("invalid"))
            .then(pl.lit(nik_label) + pl.col("nik_status"))
            .alias("nik_reason"),
        )  # fmt: skip
        .collect()
    )


# ---- batches ------------------------------------------------------------------------------------

BATCH = 100_000  # rows a batch: about 40 MB of a register's text


def csv_batches(path, *, skip_lines: int, width: int, delimiter: str) -> Iterable[pl.DataFrame]:
    """A UTF-8 CSV's data rows from line `skip_lines + 1` on, in batches of `row_number`
    (1 for the first data row) and `c1`..`c<width>` as text; a row wider than `width` raises
    `polars.exceptions.ComputeError` (the caller reads the file's rows instead)."""
    frame = pl.scan_csv(
        path,
        has_header=False,
        skip_lines=skip_lines,
        separator=delimiter,
        infer_schema=False,
        schema={f"c{i}": pl.String for i in range(1, width + 1)},
        row_index_name="row_number",
        row_index_offset=1,
        encoding="utf8",
    )
    yield from frame.collect_batches(chunk_size=BATCH)


def row_batches(rows: Iterable[tuple], width: int) -> Iterable[pl.DataFrame]:
    """Rows as `(row_number, text, ...)` (`cakupan.sources.landed`'s), in batches."""
    schema = {"row_number": pl.Int64, **{f"c{i}": pl.String for i in range(1, width + 1)}}
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == BATCH:
            yield pl.DataFrame(chunk, schema=schema, orient="row")
            chunk = []
    if chunk:
        yield pl.DataFrame(chunk, schema=schema, orient="row")


__all__ = [
    "BATCH",
    "RECORD_COLUMNS",
    "Column",
    "Lookups",
    "Plan",
    "csv_batches",
    "date_days",
    "date_value",
    "row_batches",
    "check",
    "to_char_patterns",
]
