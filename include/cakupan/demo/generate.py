"""Write the demo source files deterministically (docs/DEMO_SOURCES.md).

    python -m cakupan.demo.generate --out DIR [--start 2022-01] [--end 2025-12]

The demo is January 2022 .. December 2025. `start` may go back to January 2014 (JKN's first
month) for a longer history (the bench's): those earlier months come from their own seeded
generators (`_earlier_model`), so the 2022-2025 files keep their bytes whatever the window.

Reads only the package's reference CSVs (`cakupan/reference/*.csv`). Every number comes from a
`random.Random` seeded per district, so the same files (same bytes) are written on every run and
for any `start`/`end` window (a month's numbers do not depend on the window).

Model, per kab/kota:
- residents: the 2025 decree count is the 2025 S2 figure, back-projected at a district growth rate
  (0.6-1.6 % a year, about 1.1 % nationally); planted districts are anchored on their published
  Dukcapil figure and grow towards their decree count.
- coverage (participants / residents, residents interpolated monthly): a smooth monotone curve
  through three anchors (January 2022, December 2023, December 2025) plus a small autocorrelated
  wiggle; the anchors are calibrated so the nation is about 86 %, 95.8 % and 98 %. A few districts
  get a step up in January 2024 (Pemda enrolment drive).
- segments: district shares around November 2023's national shares (kota: more PPU, fewer PBI),
  PBI APBD share growing over time; active rates per segment (PBPU lowest), 75-85 % overall.
- planted published figures are exact (Palangka Raya May 2022, the Pekalongan branch March 2023).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import xlsxwriter

SEED = "cakupan-demo-v1"
FIRST_MONTH = (2022, 1)  # month index 0 of the model
N_MONTHS = 48  # January 2022 .. December 2025
N_SEMESTERS = 8  # 2022 S1 .. 2025 S2
M_DEC_2023 = 23
HISTORY_START = "2014-01"  # the earliest month `start` may ask for (months before 2022: index < 0)

SEGMENTS = ("pbi_apbn", "pbi_apbd", "ppu_pn", "ppu_bu", "pbpu", "bp")
SEGMENT_LABELS = {
    "2022": ("PBI APBN", "PBI APBD", "PPU Penyelenggara Negara", "PPU Badan Usaha", "PBPU", "BP"),
    "2024": (
        "PBI JK",
        "Didaftarkan Pemda",
        "PPU PN",
        "PPU Swasta",
        "PBPU / Mandiri",
        "Bukan Pekerja",
    ),
}
# national shares, 30 November 2023 (PBI JK, Pemda, PPU state, PPU private, PBPU, BP)
NATIONAL_SHARES = (36.4, 15.3, 6.8, 12.8, 26.2, 1.8)
KOTA_FACTORS = (0.6, 1.0, 1.4, 2.0, 1.1, 1.3)
KABUPATEN_FACTORS = (1.1, 1.0, 0.9, 0.8, 1.0, 0.9)
ACTIVE_RATES = (0.93, 0.86, 0.97, 0.90, 0.52, 0.82)

TARGET_JAN_2022 = 86.0
TARGET_DEC_2023 = 95.8
TARGET_DEC_2025 = 98.0

BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
BULAN_SINGKAT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


@dataclass(frozen=True)
class Pin:
    """A published figure: participants (and active/non-active) in a month, residents of its
    semester. `published_extra`: Jumlah Peserta minus (active + non-active)."""

    month: int
    participants: int
    residents: int
    active: int | None = None
    non_active: int | None = None
    published_extra: int = 0
    coverage_text: str | None = None


# month index: 2022-05 = 4, 2023-03 = 14
PINS: dict[str, Pin] = {
    "62.71": Pin(4, 281_230, 293_010),
    "33.75": Pin(14, 274_974, 316_933, 230_665, 44_309),
    "33.25": Pin(14, 726_521, 828_576, 550_747, 175_774, coverage_text="87, 86"),
    "33.26": Pin(14, 842_070, 1_000_810, 695_856, 145_224, published_extra=990),
}
# anchors (January 2022, December 2023, December 2025) of districts with known coverage
FIXED_ANCHORS: dict[str, tuple[float, float, float]] = {
    "62.71": (95.3, 97.6, 99.0),
    "33.75": (80.5, 89.8, 97.2),
    "33.25": (81.0, 90.5, 97.0),
    "33.26": (78.0, 88.0, 96.5),
    "82.08": (55.0, 59.5, 71.0),  # Pulau Taliabu
    "82.04": (58.0, 63.0, 74.0),  # Halmahera Selatan
    "35.09": (62.0, 69.6, 85.0),  # Jember
}
# spelling variants in the workbooks (all listed in reference/region_aliases.csv)
VARIANTS: dict[str, str] = {
    "64.11": "Kab. Mahakam Hulu",
    "12.72": "Kota Pematang Siantar",
    "73.72": "Kota Pare Pare",
    "72.04": "Kab. Toli Toli",
    "16.07": "Kab. Banyu Asin",
    "17.06": "Kab. Muko Muko",
    "92.03": "Kab. Fakfak",
    "74.72": "Kota Baubau",
}


# ---------------------------------------------------------------- reference


@dataclass
class Region:
    code: str
    name: str
    level: str
    district_type: str
    province_code: str
    bps_code: str
    population: tuple[int, int, int] = (0, 0, 0)  # male, female, total (2025 decree)


def _reference_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("cakupan").joinpath("reference", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def load_regions() -> tuple[Region, ...]:
    pop = {r["code"]: r for r in _reference_rows("population_2025.csv")}
    out = []
    for r in _reference_rows("regions.csv"):
        p = pop[r["code"]]
        out.append(
            Region(
                r["code"],
                r["name"],
                r["level"],
                r["district_type"],
                r["province_code"],
                r["bps_code"],
                (int(p["male"]), int(p["female"]), int(p["total"])),
            )
        )
    return tuple(sorted(out, key=lambda g: g.code))


def decree_name(region: Region) -> str:
    """The 2025 decree's own spelling: `Kabupaten Kutai Kartanegara`."""
    if region.level == "province":
        return region.name
    prefix = "Kabupaten" if region.district_type == "kabupaten" else "Kota"
    if region.province_code == "31":
        prefix += " Administrasi"
    return f"{prefix} {region.name}"


# ---------------------------------------------------------------- model


def _month(index: int) -> tuple[int, int]:
    y, m = divmod(FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + index, 12)
    return y, m + 1


def _month_index(text: str) -> int:
    year, month = (int(x) for x in text.split("-"))
    return (year * 12 + month - 1) - (FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1)


def _alloc(total: int, weights: list[float]) -> list[int]:
    """Split an integer total by weights (largest remainder; ties by position)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


@dataclass
class District:
    region: Region
    residents: list[int] = field(default_factory=list)  # per semester
    male: list[int] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)  # per month, % of interpolated residents
    # per month: participants published, segments [(active, non-active)] * 6
    participants: list[int] = field(default_factory=list)
    segments: list[list[tuple[int, int]]] = field(default_factory=list)


def _residents(region: Region, rng: random.Random) -> tuple[list[int], list[int]]:
    male25, _female25, total25 = region.population
    pin = PINS.get(region.code)
    if pin is None:
        growth = rng.uniform(0.006, 0.016)
        totals = [round(total25 / (1 + growth) ** ((7 - s) / 2)) for s in range(N_SEMESTERS)]
    else:
        s0 = pin.month // 6
        ratio = (total25 / pin.residents) ** (1 / (7 - s0))  # per semester
        totals = [round(pin.residents * ratio ** (s - s0)) for s in range(N_SEMESTERS)]
        totals[s0] = pin.residents
    share = male25 / total25
    return totals, [round(t * share) for t in totals]


def _interp_residents(totals: list[int], m: int) -> float:
    """Residents at month m, linear between semester midpoints (month 6s + 2.5)."""
    x = (m - 2.5) / 6
    s = min(max(math.floor(x), 0), N_SEMESTERS - 2)
    return totals[s] + (totals[s + 1] - totals[s]) * (x - s)


@dataclass
class _Draw:
    c23: float
    gap: float  # Dec 2023 minus Jan 2022, before calibration
    lift: float  # share of the Dec 2023 shortfall closed by Dec 2025, before calibration
    p: float  # curve shape 2022-2023
    q: float  # curve shape 2024-2025
    jump: float  # share of the 2024-2025 rise taken in January 2024
    wiggle: list[float]
    shares0: list[float]
    shares1: list[float]
    active_k: float
    active_drift: float


def _draw(region: Region, rng: random.Random) -> _Draw:
    if rng.random() < 0.84:
        c23 = 95.4 + 4.4 * rng.betavariate(2.0, 1.3)
    else:
        c23 = 78.0 + 17.0 * rng.betavariate(2.0, 1.2)
    gap = rng.gammavariate(2.2, 4.5)
    lift = rng.uniform(0.3, 0.8)
    p = rng.uniform(0.8, 1.3)
    q = rng.uniform(1.0, 2.0)
    jump = rng.uniform(0.3, 0.6) if rng.random() < 0.04 else 0.0
    wiggle, e = [], 0.0
    for _ in range(N_MONTHS):
        e = 0.7 * e + rng.gauss(0.0, 0.07)
        wiggle.append(e)
    factors = KOTA_FACTORS if region.district_type == "kota" else KABUPATEN_FACTORS
    shares0 = [
        s * f * rng.lognormvariate(0.0, 0.25) for s, f in zip(NATIONAL_SHARES, factors, strict=True)
    ]
    shares1 = list(shares0)
    shares1[1] *= rng.uniform(1.1, 1.5)  # Pemda registers more over time
    total0, total1 = sum(shares0), sum(shares1)
    return _Draw(
        c23=c23,
        gap=gap,
        lift=lift,
        p=p,
        q=q,
        jump=jump,
        wiggle=wiggle,
        shares0=[s / total0 for s in shares0],
        shares1=[s / total1 for s in shares1],
        active_k=rng.uniform(0.955, 1.05),
        active_drift=rng.uniform(-0.02, 0.02),
    )


def _curve(c22: float, c23: float, c25: float, d: _Draw) -> list[float]:
    out = []
    for m in range(N_MONTHS):
        if m <= M_DEC_2023:
            c = c22 + (c23 - c22) * (m / M_DEC_2023) ** d.p
        else:
            y = (m - M_DEC_2023) / (N_MONTHS - 1 - M_DEC_2023)
            rise = c25 - c23
            step = min(rise * d.jump, 4.0)  # January 2024 enrolment drive, at most 4 points
            c = c23 + step + (rise - step) * (1 - (1 - y) ** d.q)
        out.append(min(c + d.wiggle[m], 99.95))
    return out


def _calibrate(increasing, weights, target, lo, hi, build) -> list[float]:
    """Bisection on a scalar k so that the weighted mean of build(k) is the target."""
    w = sum(weights)
    for _ in range(50):
        k = (lo + hi) / 2
        mean = sum(a * b for a, b in zip(build(k), weights, strict=True)) / w
        if (mean < target) == increasing:
            lo = k
        else:
            hi = k
    return build((lo + hi) / 2)


@cache
def build_model() -> tuple[District, ...]:
    regions = [r for r in load_regions() if r.level == "district"]
    rngs = {r.code: random.Random(f"{SEED}:{r.code}") for r in regions}
    districts = []
    draws = []
    for r in regions:
        residents, male = _residents(r, rngs[r.code])
        districts.append(District(r, residents, male))
        draws.append(_draw(r, rngs[r.code]))
    fixed = [d.region.code in FIXED_ANCHORS for d in districts]
    # weights: residents the participants are drawn from; targets: national coverage as reported
    # (participants / the semester's Dukcapil residents)
    w00 = [_interp_residents(d.residents, 0) for d in districts]
    w23 = [_interp_residents(d.residents, M_DEC_2023) for d in districts]
    w47 = [_interp_residents(d.residents, N_MONTHS - 1) for d in districts]

    def target(value: float, weights: list[float], semester: int) -> float:
        return value * sum(d.residents[semester] for d in districts) / sum(weights)

    def anchors(i: int) -> tuple[float, float, float]:
        return FIXED_ANCHORS[districts[i].region.code]

    n = len(districts)
    # December 2023: scale each free district's shortfall from 100 %
    c23 = _calibrate(
        False, w23, target(TARGET_DEC_2023, w23, 3), 0.1, 5.0,
        lambda k: [anchors(i)[1] if fixed[i] else 100 - k * (100 - draws[i].c23)
                   for i in range(n)],
    )  # fmt: skip
    c22 = _calibrate(
        False, w00, target(TARGET_JAN_2022, w00, 0), 0.0, 5.0,
        lambda k: [anchors(i)[0] if fixed[i] else max(c23[i] - k * draws[i].gap, 40.0)
                   for i in range(n)],
    )  # fmt: skip
    c25 = _calibrate(
        True, w47, target(TARGET_DEC_2025, w47, 7), 0.0, 3.0,
        lambda k: [anchors(i)[2] if fixed[i]
                   else c23[i] + (100 - c23[i]) * min(k * draws[i].lift, 0.97)
                   for i in range(n)],
    )  # fmt: skip

    for i, d in enumerate(districts):
        _fill_district(d, draws[i], fixed[i], (c22[i], c23[i], c25[i]))
    return tuple(districts)


def _pin_active_rate(dr, pin) -> None:
    """Active rates so the months around a published figure look like it (bisection)."""
    dr.active_drift = 0.0
    shares = _shares(dr, pin.month)
    want = pin.active / (pin.active + pin.non_active)
    lo, hi = 0.5, 1.3
    for _ in range(50):
        dr.active_k = (lo + hi) / 2
        if sum(a * b for a, b in zip(shares, _rates(dr, pin.month), strict=True)) < want:
            lo = dr.active_k
        else:
            hi = dr.active_k


def _fill_district(d: District, dr, fixed: bool, anchors: tuple[float, float, float]) -> None:
    """One district's coverage curve (through its published figure, if any) and its months."""
    if fixed:
        dr.p, dr.q, dr.jump = 1.0, 1.5, 0.0
    cov = _curve(*anchors, dr)
    pin = PINS.get(d.region.code)
    if pin is not None and pin.active is not None:
        _pin_active_rate(dr, pin)
    if pin is not None:
        want = 100 * pin.participants / _interp_residents(d.residents, pin.month)
        delta = want - cov[pin.month]
        cov = [c + delta * math.exp(-(((m - pin.month) / 5) ** 2)) for m, c in enumerate(cov)]
    d.coverage = cov
    for m in range(N_MONTHS):
        _fill_month(d, dr, m, pin if pin is not None and pin.month == m else None)


@dataclass
class _Earlier:
    """A district's months before January 2022 (negative month and semester indexes)."""

    residents: dict[int, tuple[int, int]] = field(default_factory=dict)  # semester: total, male
    months: dict[int, tuple[int, list[tuple[int, int]]]] = field(default_factory=dict)


@cache
def _earlier_model() -> dict[str, _Earlier]:
    """January 2014 .. December 2021 per kab/kota, continuing the model backwards: residents
    back-projected at the district's 2022 growth, coverage rising from a start drawn per
    district (JKN began in 2014 at about half the population) to the model's January 2022 along
    a smooth curve with a small wiggle, segments and active rates as in January 2022."""
    first = _month_index(HISTORY_START)
    out = {}
    for d in build_model():
        rng = random.Random(f"{SEED}:earlier:{d.region.code}")
        e = _Earlier()
        ratio = d.residents[1] / d.residents[0]  # per semester
        share = d.male[0] / d.residents[0]
        for s in range(first // 6, 0):
            total = round(d.residents[0] * ratio**s)
            e.residents[s] = (total, round(total * share))
        c0 = d.coverage[0]
        start = c0 * rng.uniform(0.45, 0.75)
        p = rng.uniform(0.6, 1.4)
        weights = [a + n for a, n in d.segments[0]]
        rates = [a / (a + n) if a + n else 0.0 for a, n in d.segments[0]]
        wiggle = 0.0
        for m in range(first, 0):
            wiggle = 0.7 * wiggle + rng.gauss(0.0, 0.07)
            t = (m - first) / -first
            coverage = min(start + (c0 - start) * t**p + wiggle, c0)
            participants = round(coverage / 100 * _earlier_interp_residents(d, e, m))
            active_share = sum(w * r for w, r in zip(weights, rates, strict=True)) / sum(weights)
            active = round(participants * active_share)
            act = _alloc(active, [w * r for w, r in zip(weights, rates, strict=True)])
            non = _alloc(
                participants - active, [w * (1 - r) for w, r in zip(weights, rates, strict=True)]
            )
            e.months[m] = (participants, list(zip(act, non, strict=True)))
        out[d.region.code] = e
    return out


def _earlier_interp_residents(d: District, e: _Earlier, m: int) -> float:
    """`_interp_residents` for a month before 2022 (semester midpoints, linear)."""
    x = (m - 2.5) / 6
    s = max(math.floor(x), min(e.residents))

    def total(k: int) -> int:
        return d.residents[k] if k >= 0 else e.residents[k][0]

    return total(s) + (total(s + 1) - total(s)) * (x - s)


def semester_residents(d: District, s: int) -> tuple[int, int]:
    """(residents, male residents) of semester s (0 = 2022 S1; negative before 2022)."""
    if s >= 0:
        return d.residents[s], d.male[s]
    return _earlier_model()[d.region.code].residents[s]


def month_members(d: District, m: int) -> tuple[int, list[tuple[int, int]]]:
    """(published participants, [(active, non-active)] per segment) of month m (0 = 2022-01)."""
    if m >= 0:
        return d.participants[m], d.segments[m]
    return _earlier_model()[d.region.code].months[m]


@cache
def _listed_before_2022() -> dict[tuple[str, str], tuple[str, str]]:
    """(decree year, current code) -> (code, name) as that earlier decree lists the kab/kota."""
    return {(r["decree_year"], r["current_code"]): (r["code"], r["name"]) for r in _history_rows()}


def _listed(region: Region, year: int) -> tuple[str, str] | None:
    """Before 2022: the code and name of the decree in force that year (the earliest list, 2018,
    for earlier years), where they differ from today's; None when they are today's."""
    if year >= 2022:
        return None
    decree = max((y for y in DECREE_YEARS if int(y) <= year), default=DECREE_YEARS[0])
    code, name = _listed_before_2022()[(decree, region.code)]
    prefix = "KAB." if region.district_type == "kabupaten" else "KOTA"
    if code == region.code and name == f"{prefix} {region.name.upper()}":
        return None
    return code, name


def _shares(dr: _Draw, m: int) -> list[float]:
    t = m / (N_MONTHS - 1)
    return [a + (b - a) * t for a, b in zip(dr.shares0, dr.shares1, strict=True)]


def _rates(dr: _Draw, m: int) -> list[float]:
    k = dr.active_k + dr.active_drift * (m / (N_MONTHS - 1) - 0.5)
    return [min(r * k, 0.995) for r in ACTIVE_RATES]


def _fill_month(d: District, dr: _Draw, m: int, pin: Pin | None) -> None:
    shares, rates = _shares(dr, m), _rates(dr, m)
    if pin is not None:
        participants = pin.participants
        members = participants - pin.published_extra
        if pin.active is not None:
            active, non_active = pin.active, pin.non_active
        else:
            active = round(members * sum(s * r for s, r in zip(shares, rates, strict=True)))
            non_active = members - active
    else:
        participants = round(d.coverage[m] / 100 * _interp_residents(d.residents, m))
        active = round(participants * sum(s * r for s, r in zip(shares, rates, strict=True)))
        non_active = participants - active
    act = _alloc(active, [s * r for s, r in zip(shares, rates, strict=True)])
    non = _alloc(non_active, [s * (1 - r) for s, r in zip(shares, rates, strict=True)])
    d.participants.append(participants)
    d.segments.append(list(zip(act, non, strict=True)))


# ---------------------------------------------------------------- files


def _id_number(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _id_percent(x: float) -> str:
    return f"{x:.2f}".replace(".", ",") + "%"


def _period_text(m: int) -> str:
    year, month = _month(m)
    if m % 5 == 1:
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return f"Posisi : {last} {BULAN[month - 1]} {year}"
    if m % 7 == 3:
        return f"Posisi: {BULAN_SINGKAT[month - 1]}-{year % 100:02d}"
    return f"Posisi: {BULAN[month - 1]} {year}"


def _text_month(m: int) -> bool:
    year, month = _month(m)
    return month == 3 or (year, month) == (2025, 9)


def _upper_month(m: int) -> bool:
    year, month = _month(m)
    return year in (2022, 2024) and month in (7, 8, 9)


def _display_name(region: Region, m: int, rng: random.Random) -> str:
    year, _ = _month(m)
    if region.code == "62.71":
        name = "Kota Palangka Raya" if m % 2 == 0 else "Kota Palangkaraya"
    elif region.code in VARIANTS and (region.code == "64.11" or (m // 6) % 2 == 1):
        name = VARIANTS[region.code]
    elif region.code == "14.08" and _upper_month(m):
        name = "Kab. S I A K"
    else:
        prefix = "Kab." if region.district_type == "kabupaten" else "Kota"
        name = f"{prefix} {region.name}"
    if rng.random() < 0.015:
        first, _, rest = name.partition(" ")
        name = f"{first}  {rest}"
    if _upper_month(m):
        name = name.upper()
    return name


def _workbook_formats(wb) -> dict:
    """The cell formats of a membership workbook, plain and bold (the total row)."""
    add = wb.add_format
    return {
        "title": add({"bold": True, "font_size": 12, "align": "center"}),
        "head": add(
            {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}
        ),
        "text": add({"border": 1}),
        "int": add({"border": 1, "num_format": "#,##0"}),
        "pct": add({"border": 1, "num_format": "0.00"}),
        "right": add({"border": 1, "align": "right"}),
        "total": add({"border": 1, "bold": True}),
        "total_int": add({"border": 1, "bold": True, "num_format": "#,##0"}),
        "total_pct": add({"border": 1, "bold": True, "num_format": "0.00"}),
        "total_right": add({"border": 1, "bold": True, "align": "right"}),
    }


def _write_membership_header(ws, m: int, labels, ncols: int, f: dict) -> None:
    """Title rows, then the two-row merged header (segment / Aktif, Non Aktif)."""
    ws.merge_range(0, 0, 0, ncols - 1, "REKAPITULASI PESERTA JKN PER KABUPATEN/KOTA", f["title"])
    ws.write_string(1, 0, _period_text(m))
    ws.write_string(2, 0, "Sumber: BPJS Kesehatan (data sintetis untuk demo Cakupan)")
    for col, head in enumerate(("No", "Provinsi", "Kabupaten/Kota")):
        ws.merge_range(4, col, 5, col, head, f["head"])
    for i, label in enumerate(labels):
        c = 3 + 2 * i
        ws.merge_range(4, c, 4, c + 1, label, f["head"])
        ws.write_string(5, c, "Aktif", f["head"])
        ws.write_string(5, c + 1, "Non Aktif", f["head"])
    for j, head in enumerate(("Jumlah Peserta", "Jumlah Penduduk", "Cakupan (%)")):
        ws.merge_range(4, ncols - 3 + j, 5, ncols - 3 + j, head, f["head"])
    ws.set_column(0, 0, 5)
    ws.set_column(1, 2, 26)
    ws.set_column(3, ncols - 1, 13)


def _numbers_writer(ws, ncols: int, as_text: bool, f: dict):
    """Writes a row's counts and coverage: as numbers, or as Indonesian number text."""

    def put_numbers(row: int, values: list[int], coverage: float, cov_text: str | None, total):
        right = f["total_right" if total else "right"]
        for j, v in enumerate(values):
            if as_text:
                ws.write_string(row, 3 + j, _id_number(v), right)
            else:
                ws.write_number(row, 3 + j, v, f["total_int" if total else "int"])
        col = ncols - 1
        if cov_text is not None:
            ws.write_string(row, col, cov_text, right)
        elif as_text:
            ws.write_string(row, col, _id_percent(coverage), right)
        else:
            ws.write_number(row, col, round(coverage, 2), f["total_pct" if total else "pct"])

    return put_numbers


def _district_row(d: District, m: int, provinces: dict, rng) -> tuple[str, str, list, float, str]:
    """One district's province, name (as listed that month), counts, coverage and its text."""
    year = _month(m)[0]
    participants, segments = month_members(d, m)
    values = [v for pair in segments for v in pair]
    residents = semester_residents(d, m // 6)[0]
    values += [participants, residents]
    pin = PINS.get(d.region.code)
    cov_text = pin.coverage_text if pin is not None and pin.month == m else None
    province, name = provinces[d.region.province_code], _display_name(d.region, m, rng)
    listed = _listed(d.region, year)
    if listed is not None:  # before 2022: as the decree of the time lists it
        province, name = provinces[listed[0][:2]], listed[1]
    return province, name, values, 100 * participants / residents, cov_text


def _write_workbook(path: Path, m: int, districts: tuple[District, ...]) -> None:
    year, month = _month(m)
    provinces = {r.code: r.name for r in load_regions() if r.level == "province"}
    labels = SEGMENT_LABELS["2024" if year >= 2024 else "2022"]
    upper = _upper_month(m)
    rng = random.Random(f"{SEED}:names:{year}-{month:02d}")
    ncols = 3 + 2 * len(SEGMENTS) + 3

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties(
        {
            "title": "Rekapitulasi Peserta JKN",
            "author": "Cakupan demo",
            "created": dt.datetime(2025, 1, 1, 0, 0, 0),
        }
    )
    f = _workbook_formats(wb)
    ws = wb.add_worksheet("Rekap Kab-Kota")
    _write_membership_header(ws, m, labels, ncols, f)
    put_numbers = _numbers_writer(ws, ncols, _text_month(m), f)
    sums = [0] * (2 * len(SEGMENTS) + 2)
    row = 6
    for no, d in enumerate(districts, start=1):
        province, name, values, coverage, cov_text = _district_row(d, m, provinces, rng)
        ws.write_number(row, 0, no, f["text"])
        ws.write_string(row, 1, province.upper() if upper else province, f["text"])
        ws.write_string(row, 2, name, f["text"])
        put_numbers(row, values, coverage, cov_text, False)
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        row += 1
    ws.write_blank(row, 0, None, f["total"])
    ws.write_blank(row, 1, None, f["total"])
    ws.write_string(row, 2, "TOTAL NASIONAL" if year >= 2024 else "JUMLAH", f["total"])
    put_numbers(row, sums, 100 * sums[-2] / sums[-1], None, True)
    wb.close()


def _write_csv(path: Path, header: list[str], rows: list[list[str]], **fmt) -> None:
    encoding = fmt.pop("encoding", "utf-8")
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, **fmt)
        w.writerow(header)
        w.writerows(rows)


def _write_reference(out_dir: Path) -> list[Path]:
    regions = load_regions()
    kem = out_dir / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv"
    kem.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(kem, ["kode", "nama"], [[r.code, decree_name(r)] for r in regions])

    names_2020 = {
        r["code"]: r["name"]
        for r in _reference_rows("region_codes_history.csv")
        if r["decree_year"] == "2020"
    }
    rows = []
    for r in _reference_rows("bps_bridge_2020.csv"):
        if "." not in r["kemendagri_code_2020"]:
            continue  # provinces
        code = r["kemendagri_code_2020"]
        rows.append([r["bps_code"], r["bps_name"], code.replace(".", ""), names_2020[code]])
    rows.sort(key=lambda row: row[0])
    bridge = out_dir / "bps" / "bridge_kode_bps_kemendagri_2020.csv"
    bridge.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(bridge, ["kode_bps", "nama_bps", "kode_dagri", "nama_dagri"], rows)
    return [kem, bridge]


def _write_residents(path: Path, semester: int, districts: tuple[District, ...]) -> None:
    rows = []
    for d in districts:
        total, male = semester_residents(d, semester)
        prefix = "KAB." if d.region.district_type == "kabupaten" else "KOTA"
        code, name = d.region.code, f"{prefix} {d.region.name.upper()}"
        listed = _listed(d.region, FIRST_MONTH[0] + semester // 2)
        if listed is not None:  # before 2022: as the decree of the time lists it
            code, name = listed
        rows.append([code, name, male, total - male, total])
    _write_csv(
        path,
        ["KODE_WILAYAH", "NAMA_WILAYAH", "LAKI_LAKI", "PEREMPUAN", "JUMLAH_PENDUDUK"],
        rows,
        delimiter=";",
        lineterminator="\r\n",
        encoding="utf-8-sig",
    )


# ---------------------------------------------------------------- extras
#
# Further demo sources for population groups, denominators and region history (written by
# `generate(..., extras=True)` or `generate_extras`; docs/COVERAGE_MODEL.md). They read the same
# model (`build_model`) but draw from their own seeded generators, so the files above keep their
# bytes and every extra file is the same on every run and for any window.

DECREE_YEARS = ("2018", "2020", "2022", "2023")
BPS_YEARS = (2022, 2023, 2024, 2025)
# age bands as Dukcapil writes them, as BPJS writes them, national shares (2020 census, rounded)
AGE_BANDS = (
    ("0-4", "0 - 4 th", 7.8),
    ("5-14", "5 - 14 th", 16.5),
    ("15-24", "15 - 24 th", 16.5),
    ("25-44", "25 - 44 th", 30.0),
    ("45-59", "45 - 59 th", 18.3),
    ("60+", "60 th ke atas", 10.9),
)
AGE_KOTA_FACTORS = (0.9, 0.9, 1.1, 1.1, 1.0, 0.9)
# relative enrolment by age band (newborns and young adults enrol later) and sex
AGE_ENROLMENT = (0.97, 0.99, 0.97, 0.99, 1.01, 1.02)
SEX_ENROLMENT = (0.995, 1.005)  # male, female
# BPJS kept reporting the pre-split Papua codes until the end of 2022
OLD_CODES_UNTIL = (2022, 12)
# correctional facilities: the published proposal of Rutan Tanah Grogot (Paser), 2024
TANAH_GROGOT = {"64.01": 338, "64.09": 254}
WBP_SEMESTERS = (4, 5, 6, 7)  # 2024 S1 .. 2025 S2
WBP_PER_RESIDENT = 0.00095
DTSEN_MONTHS = (41, 47)  # June and December 2025
HIGH_POVERTY_PROVINCES = {"53", "81", "82", "91", "92", "93", "94", "95", "96"}


def _history_rows() -> list[dict[str, str]]:
    return _reference_rows("region_codes_history.csv")


@cache
def _old_codes_2022() -> dict[str, tuple[str, str]]:
    """Current code -> (code, name) of the 2022 decree, where the code changed since."""
    return {
        r["current_code"]: (r["code"], r["name"])
        for r in _history_rows()
        if r["decree_year"] == "2022" and r["code"] != r["current_code"]
    }


def _write_decrees(out_dir: Path) -> list[Path]:
    """The earlier decrees' kab/kota lists (`kode,nama`), as the reference history carries them."""
    folder = out_dir / "kemendagri" / "riwayat"
    folder.mkdir(parents=True, exist_ok=True)
    rows = _history_rows()
    written = []
    for year in DECREE_YEARS:
        path = folder / f"kepmendagri_{year}.csv"
        listed = sorted(
            ((r["code"], r["name"]) for r in rows if r["decree_year"] == year),
            key=lambda row: row[0],
        )
        _write_csv(path, ["kode", "nama"], [list(row) for row in listed])
        written.append(path)
    return written


def _write_bps_population(out_dir: Path, districts: tuple[District, ...]) -> list[Path]:
    """Population per kab/kota and year as the BPS WebAPI gives it (BPS codes, mid-year
    projections that differ a little from Dukcapil's register), plus the aggregate row `9999`
    the API returns too (the loader rejects it: not a kab/kota)."""
    folder = out_dir / "bps"
    folder.mkdir(parents=True, exist_ok=True)
    names = {r["bps_code"]: r["bps_name"] for r in _reference_rows("bps_bridge_2020.csv")}
    factors = {
        d.region.code: random.Random(f"{SEED}:bps:{d.region.code}").uniform(0.955, 1.015)
        for d in districts
    }
    written = []
    for year in BPS_YEARS:
        s = 2 * (year - FIRST_MONTH[0])
        rows = []
        for d in sorted(districts, key=lambda g: g.region.bps_code):
            mid_year = (d.residents[s] + d.residents[s + 1]) / 2
            population = round(mid_year * factors[d.region.code] * (1 + 0.002 * (year - 2022)))
            rows.append([d.region.bps_code, names[d.region.bps_code].title(), year, population])
        rows.append(["9999", "Indonesia", year, sum(r[3] for r in rows)])
        path = folder / f"jumlah_penduduk_bps_{year}.csv"
        _write_csv(path, ["bps_code", "name", "year", "population"], rows)
        written.append(path)
    return written


@cache
def _age_weights(code: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per district: age band weights of men and of women."""
    region = next(d.region for d in build_model() if d.region.code == code)
    rng = random.Random(f"{SEED}:age:{code}")
    kota = region.district_type == "kota"
    base = [
        share * (AGE_KOTA_FACTORS[i] if kota else 1.0) * rng.lognormvariate(0.0, 0.08)
        for i, (_, _, share) in enumerate(AGE_BANDS)
    ]
    women = list(base)
    women[-1] *= 1.12  # women live longer
    return tuple(base), tuple(women)


def _residents_by_age(d: District, semester: int) -> list[tuple[int, int]]:
    """(men, women) per age band; they sum to the semester's Dukcapil residents exactly."""
    men_w, women_w = _age_weights(d.region.code)
    ageing = 1 + 0.012 * semester
    men_w = [*men_w[:-1], men_w[-1] * ageing]
    women_w = [*women_w[:-1], women_w[-1] * ageing]
    total, male = semester_residents(d, semester)
    men = _alloc(male, men_w)
    women = _alloc(total - male, women_w)
    return list(zip(men, women, strict=True))


def _write_residents_by_age(path: Path, semester: int, districts: tuple[District, ...]) -> None:
    rows = []
    for d in districts:
        prefix = "KAB." if d.region.district_type == "kabupaten" else "KOTA"
        name = f"{prefix} {d.region.name.upper()}"
        for (label, _, _), (men, women) in zip(
            AGE_BANDS, _residents_by_age(d, semester), strict=True
        ):
            rows.append([d.region.code, name, label, men, women, men + women])
    _write_csv(
        path,
        ["KODE_WILAYAH", "NAMA_WILAYAH", "KELOMPOK_UMUR", "LAKI_LAKI", "PEREMPUAN", "JUMLAH"],
        rows,
        delimiter=";",
        lineterminator="\r\n",
        encoding="utf-8-sig",
    )


def participants_by_age(d: District, m: int) -> list[tuple[int, int]]:
    """(men, women) participants per age band in month m; they sum to the month's segments
    (active + non-active), which is the published total except where a published figure says
    otherwise."""
    members = sum(a + n for a, n in month_members(d, m)[1])
    by_age = _residents_by_age(d, m // 6)
    weights = []
    for i, (men, women) in enumerate(by_age):
        weights += [
            men * AGE_ENROLMENT[i] * SEX_ENROLMENT[0],
            women * AGE_ENROLMENT[i] * SEX_ENROLMENT[1],
        ]
    cells = _alloc(members, weights)
    return [(cells[2 * i], cells[2 * i + 1]) for i in range(len(AGE_BANDS))]


def _reported_code(d: District, m: int) -> tuple[str, str]:
    """The code and name BPJS reported a kab/kota under in month m (pre-split codes in 2022)."""
    year, month = _month(m)
    old = _old_codes_2022().get(d.region.code)
    if old is not None and (year, month) <= OLD_CODES_UNTIL:
        return old
    prefix = "KAB." if d.region.district_type == "kabupaten" else "KOTA"
    return d.region.code, f"{prefix} {d.region.name.upper()}"


def _write_participants_by_age(path: Path, semester: int, districts: tuple[District, ...]) -> None:
    rows = []
    for m in range(6 * semester, 6 * semester + 6):
        year, month = _month(m)
        for d in districts:
            code, name = _reported_code(d, m)
            for (_, label, _), (men, women) in zip(
                AGE_BANDS, participants_by_age(d, m), strict=True
            ):
                rows.append([f"{year}-{month:02d}", code, name, label, men, women, men + women])
    _write_csv(
        path,
        [
            "BULAN",
            "KODE_KAB_KOTA",
            "NAMA_KAB_KOTA",
            "KELOMPOK_UMUR",
            "LAKI_LAKI",
            "PEREMPUAN",
            "JUMLAH",
        ],
        rows,
    )


@dataclass(frozen=True)
class Facility:
    name: str
    province_code: str
    host_code: str
    domiciles: tuple[str, ...]  # kab/kota codes its inmates come from (host first)


@cache
def facilities() -> tuple[Facility, ...]:
    """Correctional facilities (Lapas/Rutan): every kota and about half the kabupaten host one;
    inmates come from the host and up to two neighbouring kab/kota of the province."""
    by_province: dict[str, list[Region]] = {}
    for r in load_regions():
        if r.level == "district":
            by_province.setdefault(r.province_code, []).append(r)
    out = []
    for province, regions in sorted(by_province.items()):
        for i, r in enumerate(regions):
            rng = random.Random(f"{SEED}:facility:{r.code}")
            if r.code == "64.01":
                out.append(
                    Facility("Rutan Kelas IIB Tanah Grogot", province, r.code, ("64.01", "64.09"))
                )
                continue
            if r.district_type == "kabupaten" and rng.random() < 0.5:
                continue
            kind = "Lapas Kelas IIA" if r.district_type == "kota" else "Rutan Kelas IIB"
            neighbours = [regions[j].code for j in (i - 1, i + 1) if 0 <= j < len(regions)]
            k = rng.choice((0, 1, 2))
            domiciles = (r.code, *sorted(rng.sample(neighbours, min(k, len(neighbours)))))
            out.append(Facility(f"{kind} {r.name}", province, r.code, domiciles))
    return tuple(out)


def wbp_rows(semester: int) -> list[tuple[Facility, str, int, int, int]]:
    """(facility, domicile code, inmates, proposed for JKN by the facility, enrolled in JKN)
    at the end of a semester."""
    districts = {d.region.code: d for d in build_model()}
    rows = []
    for f in facilities():
        for j, code in enumerate(f.domiciles):
            rng = random.Random(f"{SEED}:wbp:{f.name}:{code}:{semester}")
            planted = TANAH_GROGOT.get(code) if f.host_code == "64.01" else None
            if planted is not None:
                inmates = planted + (semester - 4) * 6
                proposed = planted if semester == 4 else inmates
            else:
                base = districts[code].residents[semester] * WBP_PER_RESIDENT
                inmates = max(3, round(base * (0.7 if j == 0 else 0.2) * rng.uniform(0.8, 1.2)))
                proposed = round(inmates * rng.uniform(0.6, 1.0))
            # enrolment follows the proposals: half in the first semester, most a year later
            share = min(0.2 + 0.25 * (semester - 4) + rng.uniform(0.0, 0.2), 1.0)
            enrolled = min(proposed, round(proposed * share))
            rows.append((f, code, inmates, proposed, enrolled))
    return rows


def _semester_end_text(semester: int) -> str:
    year = FIRST_MONTH[0] + semester // 2
    return f"30 Juni {year}" if semester % 2 == 0 else f"31 Desember {year}"


def _write_wbp(path: Path, semester: int) -> None:
    regions = {r.code: r for r in load_regions()}
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    wb.set_properties(
        {"title": "Rekap WBP JKN", "author": "Cakupan demo", "created": dt.datetime(2025, 1, 1)}
    )
    f_head = wb.add_format({"bold": True, "border": 1, "text_wrap": True})
    f_cell = wb.add_format({"border": 1})
    ws = wb.add_worksheet("WBP JKN")
    ws.write_string(0, 0, "REKAPITULASI WARGA BINAAN PEMASYARAKATAN (WBP) DIDAFTARKAN PESERTA JKN")
    ws.write_string(1, 0, f"Keadaan per {_semester_end_text(semester)}")
    heads = (
        "No",
        "Kanwil",
        "Nama UPT",
        "Kab/Kota Domisili WBP",
        "Jumlah WBP",
        "Diusulkan ke Pemda",
        "Terdaftar JKN",
    )
    for c, head in enumerate(heads):
        ws.write_string(3, c, head, f_head)
    row = 4
    totals = [0, 0, 0]
    for no, (f, code, inmates, proposed, enrolled) in enumerate(wbp_rows(semester), start=1):
        region = regions[code]
        prefix = "Kab." if region.district_type == "kabupaten" else "Kota"
        ws.write_number(row, 0, no, f_cell)
        ws.write_string(row, 1, regions[f.province_code].name, f_cell)
        ws.write_string(row, 2, f.name, f_cell)
        ws.write_string(row, 3, f"{prefix} {region.name}", f_cell)
        for c, v in enumerate((inmates, proposed, enrolled)):
            ws.write_number(row, 4 + c, v, f_cell)
            totals[c] += v
        row += 1
    ws.write_string(row, 2, "JUMLAH", f_head)
    for c, v in enumerate(totals):
        ws.write_number(row, 4 + c, v, f_head)
    wb.close()


@cache
def _poverty(code: str) -> float:
    """Slope of a district's desil distribution: > 0 means more residents in the low desil."""
    rng = random.Random(f"{SEED}:dtsen:{code}")
    t = rng.uniform(-0.12, 0.12)
    if code[:2] in HIGH_POVERTY_PROVINCES:
        t += 0.15
    if code[3] == "7":  # kota
        t -= 0.08
    return t


# share of a desil's individuals enrolled as PBI (central or Pemda)
PBI_BY_DESIL = (0.90, 0.85, 0.76, 0.66, 0.52, 0.38, 0.24, 0.14, 0.07, 0.03)


def dtsen_rows(m: int) -> list[tuple[str, int, int, int]]:
    """(code, desil, individuals, of whom PBI participants) in month m."""
    rows = []
    for d in build_model():
        code = d.region.code
        t = _poverty(code)
        weights = [math.exp(-t * k) for k in range(10)]
        individuals = round(_interp_residents(d.residents, m) * 0.975)
        counts = _alloc(individuals, weights)
        rng = random.Random(f"{SEED}:dtsen:{code}:{m}")
        for k, n in enumerate(counts):
            rate = min(PBI_BY_DESIL[k] * rng.uniform(0.9, 1.08), 0.99)
            rows.append((code, k + 1, n, round(n * rate)))
    return rows


def _write_dtsen(path: Path, m: int) -> None:
    regions = {r.code: r for r in load_regions()}
    rows = []
    for code, desil, individuals, pbi in dtsen_rows(m):
        r = regions[code]
        prefix = "Kabupaten" if r.district_type == "kabupaten" else "Kota"
        rows.append([code, f"{prefix} {r.name}", desil, individuals, pbi])
    _write_csv(
        path, ["kode_wilayah", "nama_wilayah", "desil", "jumlah_individu", "peserta_pbi"], rows
    )


def generate_extras(
    out_dir: Path,
    *,
    start: str = "2022-01",
    end: str = "2025-12",
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the extra demo sources (docs/COVERAGE_MODEL.md) into out_dir; return their paths.

    Earlier decree lists and BPS population per year are always written; the semester and month
    files only where they overlap `start`..`end` (a semester file always holds its six months).
    """
    say = progress or (lambda _msg: None)
    first, last = _month_index(start), _month_index(end)
    if not _month_index(HISTORY_START) <= first <= last < N_MONTHS:
        raise ValueError(f"months {start}..{end} outside {HISTORY_START}..2025-12")
    out_dir = Path(out_dir)
    districts = build_model()
    written = _write_decrees(out_dir)
    written += _write_bps_population(out_dir, districts)
    say("wrote earlier kemendagri decrees and bps population")

    semesters = range(first // 6, last // 6 + 1)
    dukcapil = out_dir / "dukcapil"
    demography = out_dir / "bpjs_demografi"
    dukcapil.mkdir(parents=True, exist_ok=True)
    demography.mkdir(parents=True, exist_ok=True)
    for s in semesters:
        year, half = FIRST_MONTH[0] + s // 2, s % 2 + 1
        path = dukcapil / f"penduduk_kelompok_umur_{year}_s{half}.csv"
        _write_residents_by_age(path, s, districts)
        written.append(path)
        path = demography / f"peserta_jkn_jenis_kelamin_umur_{year}_s{half}.csv"
        _write_participants_by_age(path, s, districts)
        written.append(path)
    say("wrote residents and participants by sex and age band")

    wbp = out_dir / "pemasyarakatan"
    for s in WBP_SEMESTERS:
        if s in semesters:
            wbp.mkdir(parents=True, exist_ok=True)
            year, half = FIRST_MONTH[0] + s // 2, s % 2 + 1
            path = wbp / f"rekap_wbp_jkn_{year}_s{half}.xlsx"
            _write_wbp(path, s)
            written.append(path)
    for m in DTSEN_MONTHS:
        if first <= m <= last:
            folder = out_dir / "dtsen"
            folder.mkdir(parents=True, exist_ok=True)
            year, month = _month(m)
            path = folder / f"dtsen_desil_kabkota_{year}-{month:02d}.csv"
            _write_dtsen(path, m)
            written.append(path)
    say(f"wrote prisoner and DTSEN files ({len(written)} extra files)")
    return written


def _write_persons(out_dir: Path, residents: int, say: Callable[[str], None]) -> list[Path]:
    from cakupan.demo.persons import generate_persons

    t0 = time.perf_counter()
    files = generate_persons(out_dir, residents=residents)
    say(
        f"wrote the person files of a synthetic Kutai Kartanegara ({residents:,} residents, "
        f"{time.perf_counter() - t0:.1f} s)"
    )
    return files.paths()


def generate(
    out_dir: Path,
    *,
    start: str = "2022-01",
    end: str = "2025-12",
    progress: Callable[[str], None] | None = None,
    extras: bool = False,
    persons: int = 0,
) -> list[Path]:
    """Write the demo source files into out_dir; return their paths (reference, residents,
    workbooks). `start`/`end` (`YYYY-MM`, within 2014-01..2025-12) limit the months written;
    the demo is 2022-01..2025-12, earlier months make a longer history (`_earlier_model`).
    `extras`: also write the population-group, BPS and decree-history sources
    (`generate_extras`), after the others. `persons`: also write the synthetic Kutai
    Kartanegara's person files (that many residents) into `out_dir/persons/`
    (`cakupan.demo.persons`)."""
    say = progress or (lambda _msg: None)
    first, last = _month_index(start), _month_index(end)
    if not _month_index(HISTORY_START) <= first <= last < N_MONTHS:
        raise ValueError(f"months {start}..{end} outside {HISTORY_START}..2025-12")
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    districts = build_model()
    say(f"model of {len(districts)} kab/kota ready ({time.perf_counter() - t0:.1f} s)")

    written = _write_reference(out_dir)
    say("wrote kemendagri and bps reference files")

    residents_dir = out_dir / "dukcapil"
    residents_dir.mkdir(parents=True, exist_ok=True)
    for semester in range(first // 6, last // 6 + 1):
        year = FIRST_MONTH[0] + semester // 2
        path = residents_dir / f"penduduk_kabkota_{year}_s{semester % 2 + 1}.csv"
        _write_residents(path, semester, districts)
        written.append(path)
    say(f"wrote {last // 6 - first // 6 + 1} dukcapil residents files")

    bpjs_dir = out_dir / "bpjs"
    bpjs_dir.mkdir(parents=True, exist_ok=True)
    for m in range(first, last + 1):
        year, month = _month(m)
        path = bpjs_dir / f"rekap_peserta_jkn_{year}_{month:02d}.xlsx"
        _write_workbook(path, m, districts)
        written.append(path)
        if month == 12 or m == last:
            say(f"wrote bpjs workbooks up to {year}-{month:02d}")
    if extras:
        written += generate_extras(out_dir, start=start, end=end, progress=say)
    if persons:
        written += _write_persons(out_dir / "persons", persons, say)
    say(f"done: {len(written)} files in {out_dir} ({time.perf_counter() - t0:.1f} s)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Cakupan demo source files.")
    parser.add_argument("--out", type=Path, default=None, help="default: $CAKUPAN_SOURCES_DIR")
    parser.add_argument("--start", default="2022-01")
    parser.add_argument("--end", default="2025-12")
    parser.add_argument(
        "--extras", action="store_true", help="also the population-group and history sources"
    )
    parser.add_argument(
        "--persons", type=int, default=0, metavar="N", help="also person files, N residents"
    )
    args = parser.parse_args(argv)
    out = args.out
    if out is None:
        from cakupan.config import sources_dir

        out = sources_dir()
    generate(
        out,
        start=args.start,
        end=args.end,
        progress=print,
        extras=args.extras,
        persons=args.persons,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
