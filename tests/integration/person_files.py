"""Small synthetic person-level files in the layouts of the person contracts (no real people),
for the landing's tests: each row's NIK built from its desa, birth date and sex, so that a test
knows which rows are valid and can spoil one rule at a time."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

REGISTER_HEADER = [
    "NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TMPT_LHR", "TGL_LHR", "ALAMAT", "NO_RT",
    "NO_RW", "KODE_DESA", "NAMA_DESA", "KODE_KEC", "NAMA_KEC", "STATUS_HIDUP", "TGL_MATI",
]  # fmt: skip
DESA = [
    ("64.02.01.2001", "Perian", "64.02.01", "Muara Muntai"),
    ("64.02.01.2002", "Muara Leka", "64.02.01", "Muara Muntai"),
    ("64.72.01.1001", "Rawa Makmur", "64.72.01", "Palaran"),
]
NAMES = ["Siti Aminah", "Budi Santoso", "Dewi Lestari", "Agus Salim", "Rina Wati", "Joko Susilo"]


def nik_for(desa: str, birth: dt.date, sex: str, serial: int) -> str:
    day = birth.day + (40 if sex == "P" else 0)
    return (
        desa[:8].replace(".", "")
        + f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        + (f"{serial:04d}")
    )


def register_rows(n: int, *, districts=("64.02",), seed: int = 0) -> list[dict]:
    """`n` valid register rows (every NIK passes), in the desa of `districts`."""
    desa = [d for d in DESA if d[0][:5] in districts]
    rows = []
    for i in range(n):
        code, desa_name, kec, kec_name = desa[i % len(desa)]
        sex = "P" if i % 2 else "L"
        birth = dt.date(1950 + (i + seed) % 60, 1 + i % 12, 1 + i % 28)
        rows.append(
            {
                "NIK": nik_for(code, birth, sex, (i + seed) % 9999 + 1),
                "NO_KK": code[:8].replace(".", "") + f"{(i // 4) + 1:010d}",
                "NAMA_LGKP": NAMES[i % len(NAMES)].upper(),
                "JENIS_KLMIN": "PEREMPUAN" if sex == "P" else "LAKI-LAKI",
                "TMPT_LHR": "TENGGARONG",
                "TGL_LHR": birth.strftime("%d-%m-%Y"),
                "ALAMAT": f"JL. MERDEKA NO. {i + 1}",
                "NO_RT": f"{1 + i % 9:03d}",
                "NO_RW": f"{1 + i % 3:03d}",
                "KODE_DESA": code,
                "NAMA_DESA": desa_name.upper(),
                "KODE_KEC": kec,
                "NAMA_KEC": kec_name.upper(),
                "STATUS_HIDUP": "MATI" if i % 50 == 49 else "HIDUP",
                "TGL_MATI": "01-03-2025" if i % 50 == 49 else "",
            }
        )
    return rows


def write_csv(path: Path, header: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path
