"""Build the committed reference CSVs in include/cakupan/reference/ from the public facts.

Run from the repository root:

    .venv/bin/python scripts/build_reference.py [--shared ../shared/data/reference]

Only this script reads the shared reference files; its outputs are committed files of the
project and the product reads those, never the shared folder.

Outputs (all codes are text: `64.02`, `64`):

- regions.csv: `code,name,level,district_type,province_code,bps_code` for the 38 provinces and
  514 kab/kota of the 2025 decree. `name` is the decree's own spelling without the type prefix
  (`Kabupaten Administrasi Kepulauan Seribu` -> `Kepulauan Seribu`, `Kota Palangkaraya` ->
  `Palangkaraya`); spelling variants are in region_aliases.csv. `province_code` of a province row
  is its own code. `bps_code` comes from the 2020 BPS-Kemendagri bridge; kab/kota whose
  Kemendagri code changed in the 2022 Papua split keep their 2020 BPS code; the new Papua
  provinces (93..96) have no BPS province code (empty).
- region_codes_history.csv: `code,name,decree_year,current_code`: every kab/kota code of the
  decree lists 2018, 2020, 2022, 2023 and 2025 with the 2025 code it corresponds to (the same
  code, or its successor after the Papua split, matched by clean name and type).
- region_aliases.csv: `alias,code`: normalised spelling variants seen in real files (BPS 2020
  names, older decree lists, known variants) that differ from the normalised 2025 decree name.
- bps_bridge_2020.csv: `bps_code,bps_name,kemendagri_code_2020,code`: the 2020 bridge (kab/kota
  and provinces) with the dotted 2020 Kemendagri code and the 2025 code it corresponds to.
- population_2025.csv: `code,male,female,total`: population per province and kab/kota from the
  2025 decree.
- wilayah_2025.csv: `code,name,level,district_code`: every kecamatan (`64.02.01`) and
  desa/kelurahan (`64.02.01.2001`) of Kalimantan Timur, Kota Palangka Raya and Kota Pekanbaru
  from the 2025 decree's wilayah list (all its kecamatan, desa and kelurahan rows; its province
  and kab/kota rows are in regions.csv). `level` is `kecamatan`, `desa` (the fourth part starts
  with 2) or `kelurahan` (it starts with 1); `district_code` is the kab/kota (`64.02`).

Alias normalisation (`normalise_name`), applied to both sides before comparing:
1. lower case, strip; `.` and `,` become spaces (`KAB.` -> `kab`); runs of spaces become one;
2. a leading type prefix is removed: `kabupaten administrasi`, `kabupaten adm`, `kab adm`,
   `kota administrasi`, `kota adm`, `kabupaten`, `kab`, `kota` (the type is carried by the code:
   kota codes are `xx.7x`);
3. runs of single letters separated by spaces are joined (`s i a k` -> `siak`,
   `p a p u a` -> `papua`);
4. runs of spaces become one again, strip.
Hyphens and other characters are kept (`tojo una-una`). An alias text maps to exactly one code; a
name shared by a kabupaten and a kota (Bogor, Sorong) is never an alias, as it needs its type.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data" / "reference"
OUT_DIR = REPO / "include" / "cakupan" / "reference"

DECREE_YEARS = (2018, 2020, 2022, 2023, 2025)
PAPUA_PROVINCES = {"91", "92", "93", "94", "95", "96"}

_PREFIXES = (
    "kabupaten administrasi ",
    "kabupaten adm ",
    "kab adm ",
    "kota administrasi ",
    "kota adm ",
    "kabupaten ",
    "kab ",
    "kota ",
)
_SPACED = re.compile(r"\b(?:[a-z] ){2,}[a-z]\b")

# Variants seen in real files that no list above carries (alias text before normalisation).
EXTRA_ALIASES = {
    "Palangka Raya": "62.71",
    "Palangkaraya": "62.71",
    "Mahakam Hulu": "64.11",
    "Mahakam Ulu": "64.11",
    "S I A K": "14.08",
    "Siak": "14.08",
}


def normalise_name(text: str) -> str:
    """Normalised comparison text of a region name (see the module docstring)."""
    s = text.lower().strip().replace(".", " ").replace(",", " ")
    s = re.sub(r"\s+", " ", s).strip()
    for prefix in _PREFIXES:
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    s = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), s)
    return re.sub(r"\s+", " ", s).strip()


def clean_name(text: str) -> tuple[str, str]:
    """(`name`, `district_type`) of a decree name: `Kabupaten Kutai Kartanegara`."""
    s = re.sub(r"\s+", " ", text).strip()
    for prefix, kind in (
        ("Kabupaten Administrasi ", "kabupaten"),
        ("Kota Administrasi ", "kota"),
        ("Kabupaten ", "kabupaten"),
        ("Kota ", "kota"),
    ):
        if s.startswith(prefix):
            return s[len(prefix) :], kind
    raise ValueError(f"no kabupaten/kota prefix: {text!r}")


def district_type_of(code: str) -> str:
    """Kemendagri kab/kota code -> type: kota codes are `xx.7x`."""
    return "kota" if code.split(".")[1].startswith("7") else "kabupaten"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(f)]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def dotted(code: str) -> str:
    return code if len(code) <= 2 else f"{code[:2]}.{code[2:]}"


def build(shared: Path, out: Path) -> None:
    decree = read_csv(shared / "kepmendagri_2025_regions.csv")
    provinces = [r for r in decree if "." not in r["kode"]]
    districts = [r for r in decree if "." in r["kode"]]
    assert len(provinces) == 38 and len(districts) == 514, (len(provinces), len(districts))

    # clean 2025 names; (normalised name, type) -> code, within all / within Papua
    current: dict[str, tuple[str, str]] = {}
    by_key: dict[tuple[str, str], list[str]] = {}
    for r in districts:
        name, kind = clean_name(r["nama"])
        assert kind == district_type_of(r["kode"]), r
        current[r["kode"]] = (name, kind)
        by_key.setdefault((normalise_name(name), kind), []).append(r["kode"])

    def successor(code: str, raw_name: str) -> str:
        """2025 code of a kab/kota code of an earlier decree (same code or Papua successor)."""
        kind = district_type_of(code)
        key = (normalise_name(raw_name), kind)
        if code in current and (normalise_name(current[code][0]), kind) == key:
            return code
        candidates = by_key.get(key, [])
        if code[:2] in PAPUA_PROVINCES:
            candidates = [c for c in candidates if c[:2] in PAPUA_PROVINCES]
        else:
            candidates = [c for c in candidates if c[:2] == code[:2]]
        if len(candidates) == 1:
            return candidates[0]
        if code in current:  # same code, spelling changed (Palangkaraya, Mahakam Ulu)
            return code
        raise ValueError(f"no 2025 successor for {code} {raw_name!r}: {candidates}")

    # history
    history_rows: list[list[str]] = []
    decree_names: dict[int, dict[str, str]] = {}
    for year in DECREE_YEARS:
        rows = read_csv(shared / f"kepmendagri_{year}_regions.csv")
        decree_names[year] = {r["kode"]: r["nama"] for r in rows}
        for r in rows:
            if "." not in r["kode"]:
                continue
            history_rows.append([r["kode"], r["nama"], str(year), successor(r["kode"], r["nama"])])

    # BPS bridges
    bridge = read_csv(shared / "bps_kemendagri_bridge_2020_kabkota.csv")
    assert len(bridge) == 514
    bps_of: dict[str, str] = {}
    bridge_rows: list[list[str]] = []
    bps_names: list[tuple[str, str]] = []  # (nama_bps, 2025 code)
    for r in bridge:
        code_2020 = dotted(r["kode_dagri"])
        code = successor(code_2020, decree_names[2020][code_2020])
        assert code not in bps_of, (code, r)
        bps_of[code] = r["kode_bps"]
        bridge_rows.append([r["kode_bps"], r["nama_bps"], code_2020, code])
        bps_names.append((r["nama_bps"], code))
    assert set(bps_of) == set(current), set(current) ^ set(bps_of)

    prov_bridge = read_csv(shared / "bps_kemendagri_bridge_2020_provinsi.csv")
    prov_bps = {r["kode_dagri"]: r["kode_bps"] for r in prov_bridge}
    prov_names = {r["kode"]: re.sub(r"\s+", " ", r["nama"]).strip() for r in provinces}
    for r in prov_bridge:
        bridge_rows.append([r["kode_bps"], r["nama_bps"], r["kode_dagri"], r["kode_dagri"]])
        bps_names.append((r["nama_bps"], r["kode_dagri"]))
    bridge_rows.sort(key=lambda row: (row[3].replace(".", ""), row[0]))

    # regions.csv
    region_rows: list[list[str]] = []
    for r in provinces:
        code = r["kode"]
        region_rows.append([code, prov_names[code], "province", "", code, prov_bps.get(code, "")])
    for r in districts:
        code = r["kode"]
        name, kind = current[code]
        assert code[:2] in prov_names, code
        region_rows.append([code, name, "district", kind, code[:2], bps_of[code]])
    region_rows.sort(key=lambda row: (row[4], row[2] != "province", row[0]))

    # aliases: every variant whose normalised text differs from the 2025 normalised name
    canonical = {code: normalise_name(name) for code, (name, _) in current.items()}
    canonical.update({code: normalise_name(name) for code, name in prov_names.items()})
    ambiguous = {k[0] for k, v in by_key.items() if len(v) > 1}
    ambiguous |= {n for n, kind in by_key if kind == "kota" and (n, "kabupaten") in by_key}
    aliases: dict[str, str] = {}

    def add_alias(text: str, code: str) -> None:
        alias = normalise_name(text)
        if not alias or alias in ambiguous:
            return
        if alias == canonical[code] and text not in EXTRA_ALIASES:
            return
        owners = {c for c, n in canonical.items() if n == alias and c != code}
        owners = {c for c in owners if ("." in c) == ("." in code)}
        if owners:
            raise ValueError(f"alias {alias!r} of {code} is the name of {owners}")
        if alias in aliases and aliases[alias] != code:
            raise ValueError(f"alias {alias!r} maps to {aliases[alias]} and {code}")
        aliases[alias] = code

    for name, code in bps_names:
        add_alias(name, code)
    # (the bridge's `nama_dagri` is not used: some are truncated, `KAB. OGAN KOMERING ULU` for
    # 16.08 Ogan Komering Ulu Timur)
    for names in decree_names.values():
        for code, name in names.items():
            if "." in code:
                add_alias(name, successor(code, name))
            elif code in canonical:
                add_alias(name, code)
    for text, code in EXTRA_ALIASES.items():
        add_alias(text, code)
    alias_rows = sorted([[a, c] for a, c in aliases.items()], key=lambda r: (r[1], r[0]))

    # population
    population = read_csv(shared / "kepmendagri_2025_population.csv")
    pop_rows = []
    for r in population:
        assert int(r["pria"]) + int(r["wanita"]) == int(r["total"]), r
        pop_rows.append([r["kode"], r["pria"], r["wanita"], r["total"]])
    assert {r[0] for r in pop_rows} == {r[0] for r in region_rows}

    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        out / "regions.csv",
        ["code", "name", "level", "district_type", "province_code", "bps_code"],
        region_rows,
    )
    write_csv(
        out / "region_codes_history.csv",
        ["code", "name", "decree_year", "current_code"],
        history_rows,
    )
    write_csv(out / "region_aliases.csv", ["alias", "code"], alias_rows)
    write_csv(
        out / "bps_bridge_2020.csv",
        ["bps_code", "bps_name", "kemendagri_code_2020", "code"],
        bridge_rows,
    )
    write_csv(out / "population_2025.csv", ["code", "male", "female", "total"], pop_rows)
    print(
        f"regions {len(region_rows)}, history {len(history_rows)}, aliases {len(alias_rows)}, "
        f"bridge {len(bridge_rows)}, population {len(pop_rows)} -> {out}"
    )


WILAYAH_LEVELS = ("kecamatan", "desa", "kelurahan")


def build_wilayah(shared: Path, out: Path) -> int:
    """Write wilayah_2025.csv (see the module docstring); returns its row count."""
    rows = []
    for r in read_csv(shared / "kepmendagri_2025_wilayah_kaltim_palangkaraya_pekanbaru.csv"):
        parts = r["code"].split(".")
        if len(parts) == 3:
            level = "kecamatan"
        elif len(parts) == 4 and parts[3][:1] in ("1", "2"):
            level = "desa" if parts[3].startswith("2") else "kelurahan"
        else:
            continue  # province and kab/kota rows: regions.csv has them
        assert r["level"] in (level, ""), r
        rows.append([r["code"], r["name"], level, r["code"][:5]])
    assert len({row[0] for row in rows}) == len(rows), "duplicate wilayah codes"
    write_csv(out / "wilayah_2025.csv", ["code", "name", "level", "district_code"], rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    build(args.shared, args.out)
    print(f"wilayah {build_wilayah(args.shared, args.out)} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
