"""Tests only: lands the generator's person files into `restricted.person_records` with the
spec's columns, keyed by HMAC in Python, until the product's person landing (`cakupan load`)
is merged. Prints nothing of a row."""

from __future__ import annotations

import csv
import hashlib
import hmac
from datetime import date, datetime
from pathlib import Path

from cakupan.landing.person_schema import ensure_person_schema
from cakupan.landing.raw import ensure_landing_schema
from cakupan.parsing.nik import nik_problem

COLUMNS = (
    "record_id", "load_id", "dataset", "source", "row_number", "period", "district_code",
    "kecamatan_code", "desa_code", "nik", "nik_key", "nik_status", "kk", "kk_key", "card_no",
    "card_key", "full_name", "sex", "birth_place", "birth_date", "address", "rt", "rw", "alive",
    "died_on", "segment", "active", "inactive_reason", "registered_on", "fktp", "desil",
    "facility",
)  # fmt: skip
CONTRACTS = {
    "register": "dukcapil_register",
    "membership": "bpjs_membership_master",
    "dtsen": "dtsen_individuals",
    "wbp": "wbp_list",
}


def _date(text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for layout in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return None


def _keyed(key: bytes, value: str | None) -> str | None:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest() if digits else None


def _sex(text: str | None) -> str | None:
    text = (text or "").strip().upper()
    return {"LAKI-LAKI": "L", "PEREMPUAN": "P", "L": "L", "P": "P"}.get(text)


def _rows(dataset: str, path: Path) -> list[dict[str, str]]:
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("WBP").to_python()
        header = [str(h) for h in sheet[0]]
        return [
            {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)}
            for row in sheet[1:]
        ]
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _record(dataset: str, row: dict[str, str], key: bytes) -> dict:
    name = row.get("NAMA_LGKP") or row.get("NAMA")
    sex = _sex(row.get("JENIS_KLMIN") or row.get("JENIS_KELAMIN"))
    birth = _date(row.get("TGL_LHR") or row.get("TGL_LAHIR") or row.get("TANGGAL_LAHIR"))
    desa = (row.get("KODE_DESA") or row.get("KODE_DESA_ASAL") or "").strip() or None
    nik = (row.get("NIK") or "").strip() or None
    problem = nik_problem(nik, sex, birth)
    status = "valid" if problem is None else ("missing" if problem == "missing" else "invalid")
    return {
        "district_code": desa[:5] if desa else "",
        "kecamatan_code": desa[:8] if desa else None,
        "desa_code": desa,
        "nik": nik,
        "nik_key": _keyed(key, nik) if problem is None else None,
        "nik_status": status if status != "invalid" else f"invalid: {problem}",
        "kk": row.get("NO_KK") or None,
        "kk_key": _keyed(key, row.get("NO_KK")),
        "card_no": row.get("NO_KARTU") or None,
        "card_key": _keyed(key, row.get("NO_KARTU")),
        "full_name": name or None,
        "sex": sex,
        "birth_place": row.get("TMPT_LHR") or None,
        "birth_date": birth,
        "address": row.get("ALAMAT") or row.get("ALAMAT_ASAL") or None,
        "rt": row.get("NO_RT") or None,
        "rw": row.get("NO_RW") or None,
        "alive": (row.get("STATUS_HIDUP") != "MATI") if dataset == "register" else None,
        "died_on": _date(row.get("TGL_MATI")),
        "segment": row.get("SEGMEN") or None,
        "active": (row.get("STATUS_PESERTA") == "AKTIF") if dataset == "membership" else None,
        "inactive_reason": row.get("KETERANGAN") or None,
        "registered_on": _date(row.get("TMT")),
        "fktp": row.get("FASKES_TK1") or None,
        "desil": int(row["DESIL"]) if (row.get("DESIL") or "").strip() else None,
        "facility": row.get("NAMA_UPT") or None,
    }


def land_person_file(conn, dataset: str, path: Path, period: date, key: bytes) -> int:
    """One file as one succeeded load; returns its load_id."""
    ensure_landing_schema(conn)
    ensure_person_schema(conn)
    rows = _rows(dataset, path)
    with conn.cursor() as cur:
        cur.execute(
            "insert into raw.loads (source, raw_table, source_file, periods, rows_read,"
            " rows_landed, rows_rejected, rows_skipped, status, started_at, finished_at)"
            " values (%s, 'restricted.person_records', %s, array[%s::date], %s, %s, 0, 0,"
            " 'succeeded', now(), now()) returning load_id",
            (CONTRACTS[dataset], str(path), period, len(rows), len(rows)),
        )
        load_id = cur.fetchone()[0]
        cur.execute(
            "select nextval('restricted.person_record_id_seq') from generate_series(1, %s)",
            (len(rows),),
        )
        ids = [r[0] for r in cur.fetchall()]
        columns = ", ".join(COLUMNS)
        with cur.copy(f"copy restricted.person_records ({columns}) from stdin") as copy:
            for number, (record_id, row) in enumerate(zip(ids, rows, strict=True), start=1):
                record = _record(dataset, row, key)
                record.update(
                    record_id=record_id,
                    load_id=load_id,
                    dataset=dataset,
                    source=CONTRACTS[dataset],
                    row_number=number,
                    period=period,
                )
                copy.write_row([record[c] for c in COLUMNS])
    conn.commit()
    return load_id
