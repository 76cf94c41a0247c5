"""Worklists people can act on: one XLSX per kecamatan, a sheet per desa, for the Puskesos.

`write_worklists(conn, district, out_dir)` reads `persons.worklist_items` (the keyed lists the
transform builds) joined to `restricted.person_records` for the names and addresses the field
officer needs (so it runs as the warehouse owner) and `reference.wilayah` for the place names.
The files hold personal data by design; nothing here logs or returns a name or a NIK, only paths
and counts. Every text cell is written with `write_string`, so a cell starting with `=`, `+`,
`-` or `@` stays text (no formula injection). The last four columns are filled in the field
and come back through the contract `worklist_verification` (`cakupan.landing.verifications`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from cakupan.parsing.worklist import COLUMNS, RESULT_LABELS, list_label, result_label

log = logging.getLogger(__name__)

_DISTRICT = re.compile(r"\d{2}\.\d{2}")
_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FILE_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_LIST_ORDER = list(("not_enrolled", "inactive", "pbi_apbd_candidate", "wbp_without_jkn",
                    "dead_still_active"))  # fmt: skip
FIRST_DATA_ROW = 2  # row 0 the title, row 1 the header
_COLUMN_FORMATS = {"birth_date": "date", "status": "input", "verified_by": "input",
                   "verified_on": "input_date", "note": "input"}  # fmt: skip


class WorklistError(ValueError):
    """No worklist to write (unknown district or period, or no person data): one clear line."""


@dataclass
class WorklistFile:
    """One written workbook: its kecamatan, path, rows and desa sheets (counts only)."""

    kecamatan_code: str
    path: Path
    rows: int = 0
    sheets: list[str] = field(default_factory=list)


_ITEMS = """
with items as (
    select worklist_id, list_kind, kecamatan_code, desa_code, record_id, detail, status,
        verified_by, verified_on
    from persons.worklist_items
    where district_code = %(district)s and period = %(period)s
),

records as (
    select record_id, nik, kk, full_name, sex, birth_date, address, rt, rw
    from restricted.person_records
),

wilayah as (
    select code, name from reference.wilayah
),

final as (
    select
        coalesce(items.kecamatan_code, '') as kecamatan_code,
        coalesce(kecamatan.name, '') as kecamatan_name,
        coalesce(items.desa_code, '') as desa_code,
        coalesce(desa.name, '') as desa_name,
        items.worklist_id, items.list_kind, records.nik, records.kk, records.full_name,
        records.sex, records.birth_date, records.address, records.rt, records.rw,
        items.detail, items.status, items.verified_by, items.verified_on
    from items
    left join records on records.record_id = items.record_id
    left join wilayah as kecamatan on kecamatan.code = items.kecamatan_code
    left join wilayah as desa on desa.code = items.desa_code
)

select * from final
order by kecamatan_code, desa_code, array_position(%(kinds)s::text[], list_kind),
    full_name, worklist_id
"""


def parse_period(period: str | dt.date | None) -> dt.date | None:
    """`2025-06` (or a date) -> the month's first day; None stays None."""
    if period is None or isinstance(period, dt.date):
        return period.replace(day=1) if period else None
    m = _PERIOD.fullmatch(period.strip())
    if m is None:
        raise WorklistError(f"period {period!r}: expected YYYY-MM, such as 2025-06")
    return dt.date(int(m[1]), int(m[2]), 1)


def _has_worklists(cur) -> bool:
    cur.execute(
        "select to_regclass('persons.worklist_items') is not null"
        " and to_regclass('restricted.person_records') is not null"
    )
    return cur.fetchone()[0]


def worklist_periods(conn, district: str) -> list[dt.date]:
    """The months with worklist rows for a district, newest first (none: no person data)."""
    with conn.cursor() as cur:
        if not _has_worklists(cur):
            return []
        cur.execute(
            "select distinct period from persons.worklist_items where district_code = %s"
            " order by period desc",
            (district,),
        )
        return [row[0] for row in cur.fetchall()]


def worklist_districts(conn) -> list[str]:
    """The districts with worklist rows in any month (the transform writes theirs)."""
    with conn.cursor() as cur:
        if not _has_worklists(cur):
            return []
        cur.execute("select distinct district_code from persons.worklist_items order by 1")
        return [row[0] for row in cur.fetchall()]


def _choose_period(conn, district: str, period: dt.date | None) -> dt.date:
    if not _DISTRICT.fullmatch(district or ""):
        raise WorklistError(f"district {district!r}: expected a kab/kota code such as 64.02")
    periods = worklist_periods(conn, district)
    if not periods:
        raise WorklistError(
            f"no worklist rows for district {district}: load its person sources"
            " (cakupan load ... --contract dukcapil_register, ...) and run cakupan transform"
        )
    if period is None:
        return periods[0]
    if period not in periods:
        shown = ", ".join(p.strftime("%Y-%m") for p in periods[:12])
        raise WorklistError(
            f"no worklist for {period:%Y-%m} in district {district} (months with one: {shown})"
        )
    return period


def sheet_name(desa_code: str, desa_name: str, used: set[str]) -> str:
    """A valid, unique sheet name: the desa's own 4-digit number and its name, <= 31 chars,
    without the characters Excel refuses (`[]:*?/\\`)."""
    base = f"{desa_code.rsplit('.', 1)[-1]} {desa_name}" if desa_code else "Tanpa desa"
    base = _SHEET_FORBIDDEN.sub(" ", base).strip().strip("'")[:31].strip() or "Desa"
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
    used.add(name.casefold())
    return name


def file_name(kecamatan_code: str, kecamatan_name: str, district: str, period: dt.date) -> str:
    """`64.02.01 Tenggarong 2025-06.xlsx` (the district's own code when no kecamatan)."""
    label = (
        f"{kecamatan_code} {kecamatan_name}" if kecamatan_code else f"{district} Tanpa kecamatan"
    )
    return _FILE_FORBIDDEN.sub(" ", f"{label} {period:%Y-%m}").strip() + ".xlsx"


class _Book:
    """One kecamatan's workbook under way (xlsxwriter, rows streamed to disk)."""

    def __init__(self, path: Path, title: str) -> None:
        import xlsxwriter

        self.path, self.title = path, title
        # constant memory: each row goes to disk once the next starts; strings never become
        # formulas, URLs or numbers (and `write_string` writes them as text whatever they hold)
        options = {"constant_memory": True, "strings_to_formulas": False,
                   "strings_to_urls": False, "strings_to_numbers": False}  # fmt: skip
        self.book = xlsxwriter.Workbook(str(path), options)
        self.book.set_properties({"title": title, "comments": "Cakupan worklist (personal data)"})
        add = self.book.add_format
        self.fmt = {
            "title": add({"bold": True, "font_size": 12}),
            "header": add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                           "valign": "top"}),
            "date": add({"num_format": "dd-mm-yyyy"}),
            "input": add({"bg_color": "#FFF2CC", "border": 1}),
            "input_date": add({"bg_color": "#FFF2CC", "border": 1, "num_format": "dd-mm-yyyy"}),
        }  # fmt: skip
        self.used: set[str] = set()

    def sheet(self, desa_code: str, desa_name: str, rows: list[tuple]) -> str:
        name = sheet_name(desa_code, desa_name, self.used)
        ws = self.book.add_worksheet(name)
        place = f"Desa/Kelurahan {desa_name or desa_code or 'tidak diketahui'}"
        ws.write_string(0, 0, f"{self.title}: {place}", self.fmt["title"])
        for col, (key, header, width) in enumerate(COLUMNS):
            ws.write_string(1, col, header, self.fmt["header"])
            # a column's own format shows on its empty cells: no cell written for them
            ws.set_column(col, col, width, self.fmt.get(_COLUMN_FORMATS.get(key)))
        for offset, row in enumerate(rows):
            self._row(ws, FIRST_DATA_ROW + offset, row)
        last = FIRST_DATA_ROW + max(len(rows), 1) - 1
        ws.freeze_panes(FIRST_DATA_ROW, 1)
        ws.autofilter(1, 0, last, len(COLUMNS) - 1)
        self._validations(ws, last)
        return name

    def _row(self, ws, r: int, row: tuple) -> None:
        (_kc, _kn, _dc, desa_name, worklist_id, kind, nik, kk, name, sex, birth, address, rt,
         rw, detail, status, verified_by, verified_on) = row  # fmt: skip
        texts = (worklist_id, list_label(kind), nik, kk, name, sex, None, address, rt, rw,
                 desa_name, detail)  # fmt: skip
        for col, value in enumerate(texts):
            if value not in (None, ""):
                ws.write_string(r, col, str(value))  # text, whatever it starts with
        if birth is not None:
            ws.write_datetime(r, 6, dt.datetime.combine(birth, dt.time()), self.fmt["date"])
        if status is None:
            return  # the columns to fill in stay empty (their column formats show)
        inputs = len(COLUMNS) - 4  # an earlier verification, shown for the next visit
        ws.write_string(r, inputs, result_label(status), self.fmt["input"])
        ws.write_string(r, inputs + 1, verified_by or "", self.fmt["input"])
        if verified_on is not None:
            when = dt.datetime.combine(verified_on, dt.time())
            ws.write_datetime(r, inputs + 2, when, self.fmt["input_date"])

    def _validations(self, ws, last: int) -> None:
        """The result column a dropdown of the Indonesian labels; the date column dates."""
        col = len(COLUMNS) - 4
        labels = list(RESULT_LABELS.values())
        ws.data_validation(FIRST_DATA_ROW, col, last, col, {
            "validate": "list", "source": labels,
            "input_title": "Hasil verifikasi", "input_message": "Pilih dari daftar",
            "error_title": "Hasil verifikasi", "error_message": "Pilih: " + ", ".join(labels),
        })  # fmt: skip
        ws.data_validation(FIRST_DATA_ROW, col + 2, last, col + 2, {
            "validate": "date", "criteria": "between",
            "minimum": dt.date(2000, 1, 1), "maximum": dt.date(2100, 12, 31),
            "error_title": "Tanggal verifikasi", "error_message": "Tanggal (dd-mm-yyyy)",
        })  # fmt: skip

    def close(self) -> None:
        self.book.close()


def _item_rows(conn, district: str, period: dt.date) -> Iterator[tuple]:
    """The district's worklist rows with names and addresses, in file/sheet order, streamed."""
    with conn.cursor(name="cakupan_worklist_rows") as cur:
        cur.itersize = 5000
        cur.execute(_ITEMS, {"district": district, "period": period, "kinds": _LIST_ORDER})
        yield from cur


def _kecamatan_count(conn, district: str, period: dt.date) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "select count(distinct coalesce(kecamatan_code, '')) from persons.worklist_items"
            " where district_code = %s and period = %s",
            (district, period),
        )
        return cur.fetchone()[0]


def write_worklist_files(
    conn,
    district: str,
    out_dir: str | Path,
    period: str | dt.date | None = None,
    *,
    progress: Callable[[WorklistFile, int], None] | None = None,
) -> list[WorklistFile]:
    """Write one workbook per kecamatan of the district's worklists for a month (default: the
    latest); `progress(file, total)` after each. Raises `WorklistError` when there is none."""
    chosen = _choose_period(conn, district, parse_period(period))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = _kecamatan_count(conn, district, chosen)
    written: list[WorklistFile] = []
    try:
        for kecamatan, rows in groupby(_item_rows(conn, district, chosen), key=lambda r: r[:2]):
            path = out / file_name(kecamatan[0], kecamatan[1], district, chosen)
            done = _write_book(path, kecamatan, chosen, rows)
            written.append(done)
            log.info("%s: %s rows in %s desa sheets", path.name, done.rows, len(done.sheets))
            if progress is not None:
                progress(done, total)
    finally:
        conn.rollback()  # the named cursor's transaction: read only
    return written


def _write_book(path: Path, kecamatan: tuple, period: dt.date, rows) -> WorklistFile:
    code, name = kecamatan
    title = f"Daftar kerja JKN {period:%m/%Y}, Kecamatan {name or code or 'tidak diketahui'}"
    book = _Book(path, title)
    done = WorklistFile(code, path)
    try:
        for desa, desa_rows in groupby(rows, key=lambda r: r[2:4]):
            listed = list(desa_rows)  # one desa's rows (a few hundred to a few thousand)
            done.sheets.append(book.sheet(desa[0], desa[1], listed))
            done.rows += len(listed)
    finally:
        book.close()
    return done


def write_worklists(
    conn, district: str, out_dir: str | Path, period: str | dt.date | None = None
) -> list[Path]:
    """One XLSX per kecamatan of the district (a sheet per desa) in `out_dir`; their paths."""
    return [f.path for f in write_worklist_files(conn, district, out_dir, period)]


def write_all_worklists(conn, out_dir: str | Path) -> dict[str, list[WorklistFile]]:
    """Every district with worklist rows, its latest month, into `out_dir/<district>/` (the
    transform DAG's task)."""
    return {
        district: write_worklist_files(conn, district, Path(out_dir) / district)
        for district in worklist_districts(conn)
    }


__all__ = [
    "WorklistError",
    "WorklistFile",
    "worklist_districts",
    "worklist_periods",
    "write_all_worklists",
    "write_worklist_files",
    "write_worklists",
]
