"""Kecamatan and desa/kelurahan codes of the 2025 Kemendagri decree (`wilayah_2025.csv`).

The committed file `include/cakupan/reference/wilayah_2025.csv` (`code,name,level,district_code`;
level `kecamatan` | `desa` | `kelurahan`) holds every kecamatan and desa/kelurahan of Kalimantan
Timur, Kota Palangka Raya and Kota Pekanbaru; `scripts/build_reference.py` builds it from the
decree's list. Codes are text in Kemendagri's dotted form: kecamatan `64.02.01`, desa
`64.02.01.2001` (the fourth part starts with 2 for a desa, 1 for a kelurahan).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

WILAYAH_CSV = Path(__file__).resolve().parents[1] / "reference" / "wilayah_2025.csv"
KECAMATAN, DESA, KELURAHAN = "kecamatan", "desa", "kelurahan"


@dataclass(frozen=True)
class Wilayah:
    code: str
    name: str
    level: str  # kecamatan | desa | kelurahan
    district_code: str

    @property
    def kecamatan_code(self) -> str:
        return self.code[:8]


@functools.cache
def wilayah() -> tuple[Wilayah, ...]:
    """Every row of the reference file, in its order (read once per process)."""
    with WILAYAH_CSV.open(encoding="utf-8", newline="") as f:
        return tuple(
            Wilayah(r["code"], r["name"], r["level"], r["district_code"]) for r in csv.DictReader(f)
        )


def kecamatan_of(district_code: str) -> list[Wilayah]:
    """The kecamatan of a kab/kota (`64.02` -> 20 rows), by code."""
    rows = [w for w in wilayah() if w.level == KECAMATAN and w.district_code == district_code]
    return sorted(rows, key=lambda w: w.code)


def desa_of(kecamatan_code: str) -> list[Wilayah]:
    """The desa and kelurahan of a kecamatan (`64.02.06` -> Tenggarong's), by code."""
    rows = [w for w in wilayah() if w.level != KECAMATAN and w.kecamatan_code == kecamatan_code]
    return sorted(rows, key=lambda w: w.code)


def districts_covered() -> set[str]:
    """The kab/kota codes whose kecamatan the reference file lists."""
    return {w.district_code for w in wilayah()}


__all__ = ["Wilayah", "wilayah", "kecamatan_of", "desa_of", "districts_covered", "WILAYAH_CSV"]
