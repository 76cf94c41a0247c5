"""A synthetic Kutai Kartanegara (64.02) at person level, with the flaws real files have.

`generate_persons(out_dir, residents=..., seed=..., period="2025-06")` writes five files:

- `dukcapil_register_6402_<period>.csv`: the population register (one row per resident);
- `bpjs_peserta_6402_<period>.csv`: the BPJS membership master;
- `dtsen_6402_<period>.csv`: DTSEN households with their desil;
- `wbp_6402_<period>.xlsx`: prisoners (WBP) of the Tenggarong Lapas/Rutan, sheet `WBP`;
- `truth_6402_<period>.csv`: `dataset,row_number,person_id` for every row of the four files,
  person_id = the register row_number of the same person, empty when not in the register.

The kabupaten has its real 20 kecamatan and 237 desa/kelurahan (`wilayah_2025.csv`), with
unequal sizes (kecamatan weights near their population, desa sizes log-normal, kelurahan
larger); the people are invented: households sharing a No. KK and an address, names from
`person_names`, ages from household shapes that give a young population pyramid, NIK built by
the rule (kecamatan of first registration, DDMMYY with 40 added for women, a serial unique per
kecamatan and birth date). The flaw rates are the module constants below; `PersonFiles.counts`
reports how many of each were written. Deterministic for a seed; rows are streamed to the files
(memory bounded by a chunk of BPJS rows and the few hundred WBP), about 750,000 residents in
well under a minute.
"""

from __future__ import annotations

import calendar
import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from cakupan.demo import person_names as names
from cakupan.parsing.wilayah import KELURAHAN, Wilayah, desa_of, kecamatan_of, wilayah

DISTRICT = "64.02"
DEFAULT_SEED = 6402
DEFAULT_DEMO_RESIDENTS = 20_000

# Register (Dukcapil) flaws: rare, the register is the reference.
REGISTER_NIK_MISSING_RATE = 0.002
REGISTER_NIK_INVALID_RATE = 0.002  # a digit dropped, or birth-day digits 00
REGISTER_ADDRESS_DASH_RATE = 0.003  # households with ALAMAT "-" (text that looks like a formula)

# Enrolment and the BPJS master.
NOT_ENROLLED_HOUSEHOLD_RATE = 0.065  # whole households never enrolled
NOT_ENROLLED_PERSON_RATE = 0.03  # one member missing from an enrolled household
NEWBORN_NOT_ENROLLED_RATE = 0.35  # children under 1 not yet enrolled
BPJS_NIK_MISSING_RATE = 0.02
BPJS_NIK_MISTYPED_RATE = 0.012  # one digit changed (70 %) or two neighbours swapped
BPJS_NAME_VARIANT_RATE = 0.10  # Muhammad/M., titles, old spelling, doubled letters
MOVED_DESA_RATE = 0.02  # BPJS address in another Kukar desa than the register's
MOVED_DISTRICT_RATE = 0.008  # BPJS address in another Kaltim kab/kota
DUPLICATE_CARD_RATE = 0.015  # a second BPJS record (another No. Kartu) for one person
NOT_IN_REGISTER_RATE = 0.03  # BPJS members (per resident) the register does not have
DEAD_STILL_ACTIVE_SHARE = 0.45  # of the dead with a BPJS record, still AKTIF

# DTSEN: households by desil, the poor over-represented.
DESIL_WEIGHTS = (8, 9, 10, 10, 10, 10, 11, 11, 11, 10)  # households of the kabupaten by desil
DTSEN_LISTED_SHARE = (0.92, 0.9, 0.88, 0.85, 0.55, 0.45, 0.3, 0.2, 0.12, 0.08)  # by desil
DTSEN_NIK_MISSING_RATE = 0.03
DTSEN_NIK_MISTYPED_RATE = 0.01
DTSEN_NAME_VARIANT_RATE = 0.06

# WBP: prisoners of the Tenggarong facilities.
WBP_PER_RESIDENT = 0.0005  # 375 for 750,000 residents
WBP_MIN = 30
WBP_FROM_REGISTER_SHARE = 0.65  # the others live in other Kaltim kab/kota
WBP_NIK_MISSING_RATE = 0.08
WBP_NIK_MISTYPED_RATE = 0.03
WBP_NAME_VARIANT_RATE = 0.10
WBP_FACILITIES = ("LAPAS KELAS IIA TENGGARONG", "RUTAN KELAS IIB TENGGARONG")
WBP_HOME_DISTRICTS = ("64.72", "64.71", "64.74", "64.08", "64.07", "64.01")

# Segments by welfare: (segment, weight, inactive share, inactive reason)
SEGMENTS_POOR = (("PBI APBN", 62), ("PBI APBD", 24), ("PBPU", 9), ("PPU", 5))
SEGMENTS_OTHER = (("PPU", 50), ("PBPU", 28), ("BP", 9), ("PBI APBD", 7), ("PBI APBN", 6))
INACTIVE = {
    "PBI APBN": (0.05, "MUTASI"),
    "PBI APBD": (0.15, "BELUM VERIFIKASI"),
    "PPU": (0.15, "PHK"),
    "PBPU": (0.55, "MENUNGGAK IURAN"),
    "BP": (0.05, "MUTASI"),
}

# Approximate populations of the 20 kecamatan (thousands; weights, not official figures).
KECAMATAN_WEIGHTS = {
    "64.02.01": 19, "64.02.02": 53, "64.02.03": 66, "64.02.04": 48, "64.02.05": 48,
    "64.02.06": 113, "64.02.07": 41, "64.02.08": 29, "64.02.09": 11, "64.02.10": 23,
    "64.02.11": 40, "64.02.12": 10, "64.02.13": 62, "64.02.14": 40, "64.02.15": 21,
    "64.02.16": 72, "64.02.17": 28, "64.02.18": 9, "64.02.19": 12, "64.02.20": 26,
}  # fmt: skip

# Where adults born elsewhere were first registered: kab/kota codes by group (their NIK's
# first four digits) and the birth place written.
ORIGINS = {
    "JAWA": (("35.07", "MALANG"), ("35.09", "JEMBER"), ("35.10", "BANYUWANGI"),
             ("33.10", "KLATEN"), ("33.09", "BOYOLALI"), ("35.78", "SURABAYA")),
    "BANJAR": (("63.03", "MARTAPURA"), ("63.71", "BANJARMASIN"), ("63.05", "RANTAU"),
               ("63.04", "MARABAHAN")),
    "BUGIS": (("73.08", "BONE"), ("73.13", "SENGKANG"), ("73.12", "SOPPENG"),
              ("73.71", "MAKASSAR"), ("73.15", "PINRANG")),
    "KUTAI": (("64.72", "SAMARINDA"), ("64.08", "SANGATTA"), ("64.07", "SENDAWAR")),
    "DAYAK": (("64.07", "SENDAWAR"), ("64.11", "LONG BAGUN"), ("65.02", "MALINAU")),
}  # fmt: skip
MIGRANT_ADULT_RATE = 0.30  # adults first registered outside their current kecamatan
CLINICS = ("KLINIK PRATAMA MEDIKA", "KLINIK PRATAMA SEHAT BERSAMA", "KLINIK POLRES KUKAR",
           "PRAKTIK DOKTER UMUM MULIA", "KLINIK PRATAMA KODIM 0906")  # fmt: skip

REGISTER_HEADER = (
    "NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TMPT_LHR,TGL_LHR,ALAMAT,NO_RT,NO_RW,KODE_DESA,NAMA_DESA,"
    "KODE_KEC,NAMA_KEC,STATUS_HIDUP,TGL_MATI"
).split(",")
BPJS_HEADER = (
    "NO_KARTU,NIK,NAMA,TGL_LAHIR,JENIS_KELAMIN,SEGMEN,STATUS_PESERTA,KETERANGAN,TMT,"
    "FASKES_TK1,KODE_DESA"
).split(",")
DTSEN_HEADER = "NIK,NO_KK,NAMA,TGL_LAHIR,JENIS_KELAMIN,KODE_DESA,DESIL".split(",")
WBP_HEADER = "NO,NIK,NAMA,JENIS_KELAMIN,TANGGAL_LAHIR,ALAMAT_ASAL,KODE_DESA_ASAL,NAMA_UPT"
WBP_HEADER = WBP_HEADER.split(",")
TRUTH_HEADER = ["dataset", "row_number", "person_id"]
CHUNK = 20_000  # BPJS rows shuffled and written together
JKN_START = date(2014, 1, 1).toordinal()  # registration dates (TMT) from JKN's start


@dataclass(frozen=True)
class PersonFiles:
    """The files written and what they hold (`counts`: rows and flaws, by name)."""

    register: Path
    membership: Path
    dtsen: Path
    wbp: Path
    truth: Path
    counts: dict[str, int] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        return [self.register, self.membership, self.dtsen, self.wbp, self.truth]


def file_names(period: str) -> dict[str, str]:
    """The five file names of a period (`2025-06`)."""
    return {
        "register": f"dukcapil_register_6402_{period}.csv",
        "membership": f"bpjs_peserta_6402_{period}.csv",
        "dtsen": f"dtsen_6402_{period}.csv",
        "wbp": f"wbp_6402_{period}.xlsx",
        "truth": f"truth_6402_{period}.csv",
    }


class _Person:
    __slots__ = ("row", "nik", "kk", "name", "sex", "birth", "age", "place", "alive", "died")

    def __init__(self, nik, kk, name, sex, birth, age, place):
        self.row = 0
        self.nik, self.kk, self.name, self.sex = nik, kk, name, sex
        self.birth, self.age, self.place = birth, age, place
        self.alive, self.died = True, None


def _ymd(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _dmy(d: date) -> str:
    return f"{d.day:02d}-{d.month:02d}-{d.year:04d}"


def mistype(nik: str, rng: random.Random) -> str:
    """The NIK with one digit changed (70 %) or two neighbouring digits swapped."""
    if rng.random() < 0.3:
        spots = [i for i in range(15) if nik[i] != nik[i + 1]]
        if spots:
            i = rng.choice(spots)
            return nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :]
    i = rng.randrange(16)
    digit = rng.choice([d for d in "0123456789" if d != nik[i]])
    return nik[:i] + digit + nik[i + 1 :]


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split by `weights` (largest remainder; sums exactly to `total`)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def desa_layout(residents: int, seed: int) -> list[tuple[Wilayah, Wilayah, int]]:
    """(kecamatan, desa, residents) for every desa/kelurahan of Kukar, unequal sizes."""
    rng = random.Random(seed * 7919 + 17)
    kecamatan = kecamatan_of(DISTRICT)
    per_kec = apportion(residents, [KECAMATAN_WEIGHTS.get(k.code, 20) for k in kecamatan])
    layout = []
    for kec, n in zip(kecamatan, per_kec, strict=True):
        desa = desa_of(kec.code)
        weights = [
            rng.lognormvariate(0, 0.6) * (2.5 if d.level == KELURAHAN else 1.0) for d in desa
        ]
        base = 1 if n >= 2 * len(desa) else 0  # every desa has people when there are enough
        counts = [base + c for c in apportion(n - base * len(desa), weights)]
        layout.extend((kec, d, c) for d, c in zip(desa, counts, strict=True))
    return layout


class _Nik:
    """NIK and No. KK serials, unique per (first six digits, DDMMYY); reset per kecamatan.

    Serial ranges keep the kinds apart across kecamatan passes: residents first registered in
    the kecamatan being generated 0001-4999; residents first registered elsewhere 5000 + 150 x
    pass + n (up to 8,149); BPJS members not in the register 9001-9499; WBP from other kab/kota
    9500-9999.
    """

    def __init__(self) -> None:
        self.counters: dict[tuple[str, str], int] = {}
        self.outsiders: dict[tuple[str, str], int] = {}
        self.pass_index = 0

    def next_pass(self) -> None:
        self.counters.clear()
        self.pass_index += 1

    def make(self, prefix6: str, sex: str, birth: date, kind: str) -> str:
        day = birth.day + (40 if sex == "P" else 0)
        ddmmyy = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
        table = self.outsiders if kind == "wbp" else self.counters
        n = table.get((prefix6 + kind, ddmmyy), 0) + 1
        table[(prefix6 + kind, ddmmyy)] = n
        base, room = {"native": (0, 4999), "migrant": (4999 + 150 * self.pass_index, 150),
                      "outside": (9000, 499), "wbp": (9499, 500)}[kind]  # fmt: skip
        if n > room:
            raise RuntimeError("NIK serial range exhausted (too many people per birth date)")
        return f"{prefix6}{ddmmyy}{base + n:04d}"


class _Writer:
    """The open files and row counters; rows go straight to disk (BPJS by shuffled chunk)."""

    def __init__(self, out_dir: Path, period: str, rng: random.Random) -> None:
        self.paths = {k: out_dir / v for k, v in file_names(period).items()}
        self.files = {
            k: self.paths[k].open("w", encoding="utf-8", newline="")
            for k in ("register", "membership", "dtsen", "truth")
        }
        self.csv = {k: csv.writer(f, lineterminator="\n") for k, f in self.files.items()}
        self.csv["register"].writerow(REGISTER_HEADER)
        self.csv["membership"].writerow(BPJS_HEADER)
        self.csv["dtsen"].writerow(DTSEN_HEADER)
        self.csv["truth"].writerow(TRUTH_HEADER)
        self.rows = {"register": 0, "membership": 0, "dtsen": 0, "wbp": 0}
        self.chunk: list[tuple[list[str], int]] = []
        self.rng = rng

    def register(self, row: list[str]) -> int:
        self.rows["register"] += 1
        n = self.rows["register"]
        self.csv["register"].writerow(row)
        self.csv["truth"].writerow(("register", n, n))
        return n

    def dtsen(self, row: list, person_id: int) -> None:
        self.rows["dtsen"] += 1
        self.csv["dtsen"].writerow(row)
        self.csv["truth"].writerow(("dtsen", self.rows["dtsen"], person_id or ""))

    def membership(self, row: list[str], person_id: int) -> None:
        self.chunk.append((row, person_id))
        if len(self.chunk) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        self.rng.shuffle(self.chunk)
        for row, person_id in self.chunk:
            self.rows["membership"] += 1
            self.csv["membership"].writerow(row)
            self.csv["truth"].writerow(("membership", self.rows["membership"], person_id or ""))
        self.chunk.clear()

    def close(self, keep: tuple[str, ...] = ()) -> None:
        self.flush()
        for name, f in self.files.items():
            if name not in keep:
                f.close()


@dataclass
class _Household:
    group: str
    muslim: bool
    desil: int
    segment: str | None  # None: not enrolled
    address: str
    rt: str
    rw: str
    kk: str
    members: list[_Person]


# household shapes: (weight, head age range, spouse, children range, grandparent)
SHAPES = (
    (10, (18, 85), False, (0, 0), False),  # one adult
    (13, (52, 85), True, (0, 1), False),  # older couple (a grown child at home)
    (9, (20, 34), True, (0, 1), False),  # young couple
    (53, (25, 62), True, (1, 3), False),  # couple with children
    (8, (25, 60), False, (1, 3), False),  # one parent with children
    (7, (30, 50), True, (1, 3), True),  # three generations
)
SHAPE_WEIGHTS = [s[0] for s in SHAPES]


class _Kabupaten:
    """The generation state: random source, serials, writer, counts."""

    def __init__(self, out_dir: Path, *, residents: int, seed: int, period: str) -> None:
        self.rng = random.Random(seed)
        self.residents, self.seed = residents, seed
        year, month = (int(x) for x in period.split("-"))
        self.extract = date(year, month, calendar.monthrange(year, month)[1])
        self.ref = self.extract.toordinal()
        self.nik = _Nik()
        self.writer = _Writer(out_dir, period, random.Random(seed + 1))
        self.counts: dict[str, int] = {}
        self.cards = 0
        self.card_offset = random.Random(seed + 2).randrange(10**9)
        wbp_total = max(WBP_MIN, round(residents * WBP_PER_RESIDENT))
        self.wbp_inside = round(wbp_total * WBP_FROM_REGISTER_SHARE)
        self.wbp_outside = wbp_total - self.wbp_inside
        self.wbp_pool: list[tuple] = []
        self.wbp_seen = 0
        self.other_desa = [w for w in wilayah() if w.level != "kecamatan"]
        self.other_desa = [w for w in self.other_desa if w.district_code in WBP_HOME_DISTRICTS]

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def card(self) -> str:
        """A unique 13-digit No. Kartu (`000` + a bijection of a counter mod 10^10)."""
        self.cards += 1
        return f"000{(self.cards * 7_654_321 + self.card_offset) % 10**10:010d}"

    def birth(self, age: int) -> date:
        days = int(age * 365.25) + self.rng.randrange(365)
        return date.fromordinal(self.ref - days)

    def ages(self) -> list[tuple[str, int]]:
        """(sex, age) of one household's members, head first."""
        rng = self.rng
        _, (lo, hi), spouse, (kmin, kmax), grand = rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
        head_age = rng.randint(lo, hi)
        head_sex = "P" if rng.random() < (0.45 if not spouse else 0.06) else "L"
        members = [(head_sex, head_age)]
        if spouse:
            other = "P" if head_sex == "L" else "L"
            members.append((other, max(18, head_age + rng.randint(-8, 3))))
        eldest = min(head_age - 18, 30)
        youngest = max(0, head_age - 45)
        for _ in range(rng.randint(kmin, kmax) if eldest >= youngest else 0):
            members.append((rng.choice("LP"), rng.randint(youngest, eldest)))
        if grand:
            members.append((rng.choice("LPP"), min(95, head_age + rng.randint(22, 35))))
        return members

    # -- households -----------------------------------------------------------------------
    def household(self, kec: Wilayah, desa: Wilayah, room: int) -> _Household:
        rng = self.rng
        group = rng.choices(names.GROUPS, names.GROUP_WEIGHTS)[0]
        muslim = rng.random() < names.MUSLIM[group]
        desil = rng.choices(range(1, 11), DESIL_WEIGHTS)[0]
        prefix = kec.code.replace(".", "")
        issued = date.fromordinal(self.ref - rng.randrange(17 * 365))
        kk = self.nik.make(prefix, "L", issued, "native")
        street = rng.choice(names.STREETS)
        address = street if street.startswith("DUSUN") else f"{street} NO. {rng.randint(1, 120)}"
        if rng.random() < REGISTER_ADDRESS_DASH_RATE:
            address = "-"  # households: the rows of its members carry it
        members = []
        for sex, age in self.ages()[:room]:
            members.append(self.person(kec, prefix, group, muslim, sex, age, kk))
        hh = _Household(
            group, muslim, desil, self.segment(desil), address,
            f"{rng.randint(1, 35):03d}", f"{rng.randint(1, 9):03d}", kk, members,
        )  # fmt: skip
        return hh

    def segment(self, desil: int) -> str | None:
        if self.rng.random() < NOT_ENROLLED_HOUSEHOLD_RATE:
            return None
        table = SEGMENTS_POOR if desil <= 4 else SEGMENTS_OTHER
        return self.rng.choices([s for s, _ in table], [w for _, w in table])[0]

    def person(self, kec: Wilayah, prefix: str, group: str, muslim: bool, sex, age, kk):
        rng = self.rng
        birth = self.birth(age)
        place, nik_prefix, kind = kec.name.upper(), prefix, "native"
        if age >= 18 and rng.random() < MIGRANT_ADULT_RATE:
            if rng.random() < 0.35:  # another kecamatan of Kukar
                other = rng.choice(self._kukar_kecamatan)
                place, nik_prefix = other.name.upper(), other.code.replace(".", "")
            else:
                district, place = rng.choice(ORIGINS[group])
                nik_prefix = self._kecamatan_prefix(district)
            kind = "native" if nik_prefix == prefix else "migrant"
        nik = self.nik.make(nik_prefix, sex, birth, kind)
        name = names.person_name(rng, group, sex, birth.year, muslim)
        p = _Person(nik, kk, name, sex, birth, age, place)
        dead_rate = 0.03 if age >= 70 else 0.008 if age >= 50 else 0.001
        if rng.random() < dead_rate:
            p.alive = False
            p.died = date.fromordinal(self.ref - rng.randrange(1, 720))
            if p.died < birth:
                p.died = birth
        return p

    def _kecamatan_prefix(self, district: str) -> str:
        """Six NIK digits of a kecamatan of `district` (a real one where the reference lists
        them, else `01`..`10`)."""
        listed = self._kecamatan_by_district.get(district)
        if listed:
            return self.rng.choice(listed)
        return district.replace(".", "") + f"{self.rng.randint(1, 10):02d}"

    def prepare(self) -> None:
        self._kukar_kecamatan = kecamatan_of(DISTRICT)
        self._kecamatan_by_district: dict[str, list[str]] = {}
        for w in wilayah():
            if w.level == "kecamatan":
                self._kecamatan_by_district.setdefault(w.district_code, []).append(
                    w.code.replace(".", "")
                )

    # -- the register ---------------------------------------------------------------------
    def write_register(self, kec: Wilayah, desa: Wilayah, hh: _Household) -> None:
        for p in hh.members:
            nik = p.nik
            r = self.rng.random()
            if r < REGISTER_NIK_MISSING_RATE:
                nik = ""
                self.count("register_nik_missing")
            elif r < REGISTER_NIK_MISSING_RATE + REGISTER_NIK_INVALID_RATE:
                nik = nik[:15] if self.rng.random() < 0.5 else nik[:6] + "00" + nik[8:]
                self.count("register_nik_invalid")
            p.row = self.writer.register(
                [
                    nik, hh.kk, p.name, "LAKI-LAKI" if p.sex == "L" else "PEREMPUAN",
                    p.place, _dmy(p.birth), hh.address, hh.rt, hh.rw, desa.code,
                    desa.name.upper(), kec.code, kec.name.upper(),
                    "HIDUP" if p.alive else "MATI", _dmy(p.died) if p.died else "",
                ]
            )  # fmt: skip
            if hh.address == "-":
                self.count("register_address_dash")
            if not p.alive:
                self.count("register_dead")
            elif p.age >= 18 and (p.sex == "L" or self.rng.random() < 0.05):
                self.offer_wbp(p, hh, desa)

    # -- the BPJS master ------------------------------------------------------------------
    def write_membership(self, kec: Wilayah, desa: Wilayah, hh: _Household) -> None:
        rng = self.rng
        faskes = f"PUSKESMAS {kec.name.upper()}" if rng.random() < 0.75 else rng.choice(CLINICS)
        for p in hh.members:
            if p.alive:
                self.count("alive_residents")
            if hh.segment is None or rng.random() < NOT_ENROLLED_PERSON_RATE:
                continue
            if p.age == 0 and rng.random() < NEWBORN_NOT_ENROLLED_RATE:
                continue
            if p.alive:
                self.count("enrolled_residents")
            desa_code = self.moved(desa.code)
            self.membership_row(p, hh.segment, desa_code, faskes)
            if rng.random() < DUPLICATE_CARD_RATE:
                self.count("membership_duplicate_card")
                old = "PBPU" if hh.segment != "PBPU" else "PBI APBD"
                self.membership_row(p, old, desa_code, faskes, duplicate=True)

    def moved(self, desa_code: str) -> str:
        r = self.rng.random()
        if r < MOVED_DESA_RATE:
            self.count("membership_moved_desa")
            other = self.rng.choice(self._kukar_desa)
            return other.code if other.code != desa_code else self._kukar_desa[0].code
        if r < MOVED_DESA_RATE + MOVED_DISTRICT_RATE:
            self.count("membership_moved_district")
            return self.rng.choice(self.other_desa).code
        return desa_code

    def status(self, p: _Person, segment: str, duplicate: bool) -> tuple[str, str]:
        if not p.alive:
            if self.rng.random() < DEAD_STILL_ACTIVE_SHARE:
                self.count("membership_dead_still_active")
                return "AKTIF", ""
            return "NON AKTIF", "MENINGGAL"
        if duplicate:  # the older record: mostly left inactive, sometimes both active
            return ("AKTIF", "") if self.rng.random() < 0.3 else ("NON AKTIF", "MUTASI")
        share, reason = INACTIVE[segment]
        return ("NON AKTIF", reason) if self.rng.random() < share else ("AKTIF", "")

    def source_nik(self, nik: str, missing: float, mistyped: float, dataset: str) -> str:
        r = self.rng.random()
        if r < missing:
            self.count(f"{dataset}_nik_missing")
            return ""
        if r < missing + mistyped:
            self.count(f"{dataset}_nik_mistyped")
            return mistype(nik, self.rng)
        return nik

    def source_name(self, p: _Person, rate: float, dataset: str) -> str:
        if self.rng.random() < rate:
            variant, kind = names.name_variant(p.name, p.sex, p.age, self.rng)
            self.count(f"{dataset}_name_variant")
            self.count(f"{dataset}_name_variant_{kind}")
            return variant
        return p.name

    def membership_row(self, p, segment, desa_code, faskes, *, duplicate=False) -> None:
        status, reason = self.status(p, segment, duplicate)
        self.count("membership_active" if status == "AKTIF" else "membership_inactive")
        nik = self.source_nik(p.nik, BPJS_NIK_MISSING_RATE, BPJS_NIK_MISTYPED_RATE, "membership")
        since = max(p.birth.toordinal(), JKN_START)
        tmt = date.fromordinal(self.rng.randint(since, self.ref)) if since < self.ref else p.birth
        row = [
            self.card(), nik, self.source_name(p, BPJS_NAME_VARIANT_RATE, "membership"),
            _ymd(p.birth), p.sex, segment, status, reason, _ymd(tmt), faskes, desa_code,
        ]  # fmt: skip
        self.writer.membership(row, p.row)

    def not_in_register(self, kec: Wilayah, desa: Wilayah, n: int) -> None:
        """BPJS members with an address in `desa` that the register does not have (moved
        away, died before, never registered here)."""
        rng = self.rng
        prefix = kec.code.replace(".", "")
        for _ in range(n):
            group = rng.choices(names.GROUPS, names.GROUP_WEIGHTS)[0]
            sex, age = rng.choice("LP"), rng.randint(0, 85)
            birth = self.birth(age)
            nik = self.nik.make(prefix, sex, birth, "outside")
            name = names.person_name(rng, group, sex, birth.year, rng.random() < 0.9)
            segment = rng.choice(("PBI APBN", "PBPU", "PPU", "PBI APBD"))
            status, reason = ("AKTIF", "") if rng.random() < 0.45 else (
                "NON AKTIF", rng.choice(("MUTASI", "MENINGGAL", "MENUNGGAK IURAN"))
            )  # fmt: skip
            self.count("membership_not_in_register")
            self.count("membership_active" if status == "AKTIF" else "membership_inactive")
            tmt = date.fromordinal(rng.randint(max(birth.toordinal(), JKN_START), self.ref))
            row = [self.card(), nik, name, _ymd(birth), sex, segment, status, reason,
                   _ymd(tmt), f"PUSKESMAS {kec.name.upper()}", desa.code]  # fmt: skip
            self.writer.membership(row, 0)

    # -- DTSEN and WBP --------------------------------------------------------------------
    def write_dtsen(self, desa: Wilayah, hh: _Household) -> None:
        if self.rng.random() >= DTSEN_LISTED_SHARE[hh.desil - 1]:
            return
        self.count("dtsen_households")
        for p in hh.members:
            if not p.alive:
                continue
            if hh.desil <= 4 and hh.segment not in ("PBI APBN", "PBI APBD"):
                self.count("dtsen_desil_1_4_not_pbi")
            nik = self.source_nik(p.nik, DTSEN_NIK_MISSING_RATE, DTSEN_NIK_MISTYPED_RATE, "dtsen")
            name = self.source_name(p, DTSEN_NAME_VARIANT_RATE, "dtsen")
            row = [nik, hh.kk, name, _ymd(p.birth), p.sex, desa.code, hh.desil]
            self.writer.dtsen(row, p.row)

    def offer_wbp(self, p: _Person, hh: _Household, desa: Wilayah) -> None:
        """Reservoir sampling of the register's adult residents into the WBP list."""
        if p.age > 55:
            return
        self.wbp_seen += 1
        item = (p, f"{hh.address} RT {hh.rt} RW {hh.rw}", desa.code, hh.segment is not None)
        if len(self.wbp_pool) < self.wbp_inside:
            self.wbp_pool.append(item)
        else:
            j = self.rng.randrange(self.wbp_seen)
            if j < self.wbp_inside:
                self.wbp_pool[j] = item

    def wbp_outsiders(self) -> list[tuple]:
        """Prisoners whose home is in another Kaltim kab/kota (not in the Kukar register)."""
        rng, out = self.rng, []
        for _ in range(self.wbp_outside):
            desa = rng.choice(self.other_desa)
            group = rng.choices(names.GROUPS, names.GROUP_WEIGHTS)[0]
            sex = "L" if rng.random() < 0.93 else "P"
            age = rng.randint(18, 55)
            birth = self.birth(age)
            nik = self.nik.make(desa.kecamatan_code.replace(".", ""), sex, birth, "wbp")
            name = names.person_name(rng, group, sex, birth.year, names.MUSLIM[group] > 0.5)
            p = _Person(nik, "", name, sex, birth, age, "")
            address = f"{rng.choice(names.STREETS)} RT {rng.randint(1, 40):03d}"
            out.append((p, address, desa.code, None))
        return out

    def write_wbp(self, path: Path) -> None:
        import xlsxwriter

        rows = list(self.wbp_pool) + self.wbp_outsiders()
        self.rng.shuffle(rows)
        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        book.set_properties({"created": datetime(self.extract.year, self.extract.month, 1)})
        try:
            sheet = book.add_worksheet("WBP")
            sheet.write_row(0, 0, WBP_HEADER)
            for i, (p, address, desa_code, enrolled) in enumerate(rows, start=1):
                nik = self.source_nik(p.nik, WBP_NIK_MISSING_RATE, WBP_NIK_MISTYPED_RATE, "wbp")
                if self.rng.random() < 0.04:
                    desa_code = ""  # home desa unknown
                    self.count("wbp_desa_missing")
                values = [i, nik, self.source_name(p, WBP_NAME_VARIANT_RATE, "wbp"),
                          "LAKI-LAKI" if p.sex == "L" else "PEREMPUAN", _ymd(p.birth),
                          address, desa_code, WBP_FACILITIES[self.rng.random() < 0.35]]  # fmt: skip
                sheet.write_number(i, 0, i)
                for col, value in enumerate(values[1:], start=1):
                    sheet.write_string(i, col, value)  # NIK as text: 16 digits exceed Excel's
                self.writer.rows["wbp"] += 1
                self.writer.csv["truth"].writerow(("wbp", i, p.row or ""))
                self.count("wbp_in_register" if p.row else "wbp_outside_register")
                if enrolled is False:
                    self.count("wbp_in_register_not_enrolled")
        finally:
            book.close()

    # -- the whole kabupaten --------------------------------------------------------------
    def run(self, progress: Callable[[str], None] | None) -> PersonFiles:
        self.prepare()
        layout = desa_layout(self.residents, self.seed)
        self._kukar_desa = [d for _, d, _ in layout]
        current = None
        try:
            for kec, desa, n in layout:
                if kec is not current:
                    self._done(current, progress)
                    current = kec
                    self.nik.next_pass()
                self.desa(kec, desa, n)
            self._done(current, progress)
            self.writer.close(keep=("truth",))
            self.write_wbp(self.writer.paths["wbp"])
        finally:
            for f in self.writer.files.values():
                f.close()  # closing twice is harmless
        for key, value in self.writer.rows.items():
            self.counts[f"{key}_rows"] = value
        p = self.writer.paths
        return PersonFiles(p["register"], p["membership"], p["dtsen"], p["wbp"], p["truth"],
                           dict(sorted(self.counts.items())))  # fmt: skip

    def _done(self, kec: Wilayah | None, progress: Callable[[str], None] | None) -> None:
        if kec is not None and progress is not None:
            rows = self.writer.rows["register"]
            progress(f"  {kec.code} {kec.name} written ({rows:,} residents so far)")

    def desa(self, kec: Wilayah, desa: Wilayah, n: int) -> None:
        room = n
        while room > 0:
            hh = self.household(kec, desa, room)
            room -= len(hh.members)
            self.write_register(kec, desa, hh)
            self.write_membership(kec, desa, hh)
            self.write_dtsen(desa, hh)
        extra = n * NOT_IN_REGISTER_RATE
        self.not_in_register(kec, desa, int(extra) + (self.rng.random() < extra % 1))


def generate_persons(
    out_dir: str | Path,
    *,
    residents: int,
    seed: int = DEFAULT_SEED,
    period: str = "2025-06",
    progress: Callable[[str], None] | None = None,
) -> PersonFiles:
    """Write the synthetic Kukar's person files to `out_dir` (see the module docstring)."""
    if residents < 1_000:
        raise ValueError("residents: at least 1,000 (the 237 desa need people)")
    if len(period) != 7 or period[4] != "-":
        raise ValueError(f"period must be YYYY-MM, not {period!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return _Kabupaten(out, residents=residents, seed=seed, period=period).run(progress)


__all__ = ["generate_persons", "PersonFiles", "file_names", "DEFAULT_SEED"]
