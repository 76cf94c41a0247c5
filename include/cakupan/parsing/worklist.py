"""The worklists' words: list kinds and verification results, their Indonesian labels and codes.

A field officer picks an Indonesian label in a returned workbook (`Terverifikasi`); the warehouse
stores the stable code (`verified`). `parse_result` reads either, whatever the case and spacing.
"""

from __future__ import annotations

import re

# persons.worklist_items.list_kind -> what the sheet's "Daftar" column says
LIST_LABELS: dict[str, str] = {
    "not_enrolled": "Belum terdaftar JKN",
    "inactive": "Peserta nonaktif",
    "pbi_apbd_candidate": "Calon PBI APBD (DTSEN desil 1-4)",
    "wbp_without_jkn": "WBP tanpa JKN",
    "dead_still_active": "Meninggal masih aktif",
}

# persons.worklist_verifications.status -> the dropdown's label
RESULT_LABELS: dict[str, str] = {
    "verified": "Terverifikasi",
    "moved": "Pindah",
    "dead": "Meninggal",
    "enrolled_now": "Sudah terdaftar JKN",
    "not_found": "Tidak ditemukan",
}

_SPACES = re.compile(r"[\s_]+")


def _folded(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


_RESULTS: dict[str, str] = {
    **{_folded(label): code for code, label in RESULT_LABELS.items()},
    **{_folded(code): code for code in RESULT_LABELS},
}


def parse_result(text: object) -> str | None:
    """The status code of a verification result cell (label or code); None when unknown."""
    if text is None:
        return None
    return _RESULTS.get(_folded(str(text)))


def result_label(code: str | None) -> str:
    """The dropdown label of a status code ("" for none or an unknown code)."""
    return RESULT_LABELS.get(code or "", "")


def list_label(kind: str) -> str:
    """The Indonesian name of a list kind (the kind itself when it is a new one)."""
    return LIST_LABELS.get(kind, kind)


# the columns of a worklist sheet: (key, header text, width); the last four are filled in the
# field, and the contract `worklist_verification` finds them by these header texts
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("worklist_id", "ID daftar kerja", 22),
    ("list", "Daftar", 30),
    ("nik", "NIK", 19),
    ("kk", "No. KK", 19),
    ("name", "Nama", 30),
    ("sex", "L/P", 5),
    ("birth_date", "Tanggal lahir", 13),
    ("address", "Alamat", 36),
    ("rt", "RT", 5),
    ("rw", "RW", 5),
    ("desa", "Desa/Kelurahan", 24),
    ("detail", "Keterangan", 28),
    ("status", "Hasil verifikasi", 22),
    ("verified_by", "Diverifikasi oleh", 24),
    ("verified_on", "Tanggal verifikasi", 17),
    ("note", "Catatan", 36),
)


__all__ = ["COLUMNS", "LIST_LABELS", "RESULT_LABELS", "list_label", "parse_result", "result_label"]
