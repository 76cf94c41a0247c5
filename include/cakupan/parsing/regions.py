"""Resolve region names and codes to current Kemendagri codes, without guessing.

`RegionResolver` is built from the reference CSVs in `include/cakupan/reference/`:

* `regions.csv` (`code,name,level,district_type,province_code,bps_code`): the current list;
* `region_aliases.csv` (`alias,code`): spellings sources use (`palangka raya`, `mahakam hulu`);
* `region_codes_history.csv` (`code,name,decree_year,current_code`): codes and names of earlier
  decrees (the 2022 Papua split moved `92.01` Kabupaten Sorong to `96.01`).

Names are normalised by `normalize_region_name`: lower case, the prefix `Kab.`, `Kab`,
`Kabupaten`, `Kota`, `Kota Adm.`, `Kota Administrasi` (or `Provinsi`) stripped while the type
it implies is kept, punctuation dropped, spaced letters joined (`S I A K` -> `siak`), spaces
collapsed, `Kep.` read as `Kepulauan`. Names are then compared without spaces, so
`Palangka Raya` and `Palangkaraya` meet. A name is resolved only when exactly one region fits
its (name, type); a name without type that fits a kabupaten and a kota (`Bogor`) is ambiguous and
refused; an unknown name is refused with the three closest regions in the reason.

Kept here because no library holds Kemendagri's codes, their decrees' history or the spellings
offices use; fuzzy matchers (rapidfuzz) are not used on purpose: a near name is a reject with
suggestions, never a guess.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"

KABUPATEN, KOTA, PROVINSI = "kabupaten", "kota", "provinsi"
_PREFIXES = [
    (re.compile(r"^kota\s*(?:adm(?:inistrasi|\.|\b)|administratif\b)\.?\s*"), KOTA),
    (re.compile(r"^kab(?:upaten|\.|\b)\.?\s*(?:adm(?:inistrasi|\.|\b)\.?\s*)?"), KABUPATEN),
    (re.compile(r"^kota(?:\.\s*|\s+)"), KOTA),
    (re.compile(r"^(?:provinsi|propinsi|prov\.?|prop\.)\s*"), PROVINSI),
]
_PUNCT = re.compile(r"[^\w\s]|_")
_EXPAND = {"kep": "kepulauan", "kab": "kabupaten"}


def normalize_region_name(text: Any) -> tuple[str, str | None]:
    """(normalised name, type its prefix implies or None).

    `Kab. S I A K` -> ('siak', 'kabupaten'); `Palangka Raya` -> ('palangka raya', None).
    """
    s = " ".join(str(text).replace("\u00a0", " ").lower().split())
    rtype = None
    for pattern, kind in _PREFIXES:
        m = pattern.match(s)
        if m and m.end() < len(s):
            s, rtype = s[m.end() :], kind
            break
    s = _PUNCT.sub(" ", s)
    tokens = s.split()
    joined: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if len(run) >= 2:
            joined.append("".join(run))
        else:
            joined.extend(run)
        run = []
        if token:
            joined.append(_EXPAND.get(token, token))
    return " ".join(joined), rtype


def _compact(name: str) -> str:
    return name.replace(" ", "")


@dataclass(frozen=True)
class Resolution:
    """`code` when resolved, else `reason`; `candidates` are `code Label` strings."""

    code: str | None
    reason: str | None = None
    candidates: tuple[str, ...] = ()
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.code is not None


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str  # province | district
    district_type: str | None
    province_code: str
    bps_code: str | None

    @property
    def kind(self) -> str:
        return self.district_type or PROVINSI

    @property
    def label(self) -> str:
        if self.level == "province":
            return f"{self.code} {self.name}"
        return f"{self.code} {self.district_type.capitalize()} {self.name}"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


_KEMENDAGRI = re.compile(r"\d{2}(?:\.\d{2})?")
_KEMENDAGRI_NODOT = re.compile(r"\d{4}")
_BPS = re.compile(r"\d{2}(?:\d{2})?")


def _code_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    return str(value).strip()


class RegionResolver:
    """Names and codes -> current Kemendagri codes (see the module docstring)."""

    def __init__(
        self,
        regions: Iterable[Mapping[str, str]],
        aliases: Iterable[Mapping[str, str]] = (),
        history: Iterable[Mapping[str, str]] = (),
    ):
        self.regions: dict[str, Region] = {}
        self._by_bps: dict[str, str] = {}
        for row in regions:
            code = row["code"].strip()
            level = (row.get("level") or ("province" if "." not in code else "district")).strip()
            dtype = (row.get("district_type") or "").strip().lower() or None
            if level == "district" and dtype is None:
                dtype = KOTA if code[3:4] == "7" else KABUPATEN
            region = Region(
                code=code,
                name=row["name"].strip(),
                level=level,
                district_type=dtype if level == "district" else None,
                province_code=(row.get("province_code") or code[:2]).strip(),
                bps_code=(row.get("bps_code") or "").strip() or None,
            )
            self.regions[code] = region
            if region.bps_code:
                self._by_bps[region.bps_code] = code
        # (compact name, kind) -> codes; kind is kabupaten | kota | provinsi
        self._typed: dict[tuple[str, str], set[str]] = {}
        for region in self.regions.values():
            name, _ = normalize_region_name(region.name)
            self._add(_compact(name), region.kind, region.code)
        for row in aliases:
            code = row["code"].strip()
            region = self.regions.get(code)
            if region is None:
                continue
            name, rtype = normalize_region_name(row["alias"])
            self._add(_compact(name), rtype or region.kind, code)
        self._old_codes: dict[str, tuple[set[str], str, str]] = {}
        history_names: dict[tuple[str, str], set[str]] = {}
        for row in history:
            old, current = row["code"].strip(), row["current_code"].strip()
            if current not in self.regions:
                continue
            if old != current and old not in self.regions:
                codes, _, _ = self._old_codes.setdefault(
                    old, (set(), row.get("name", "").strip(), row.get("decree_year", ""))
                )
                codes.add(current)
            name, rtype = normalize_region_name(row.get("name", ""))
            if name:
                kind = rtype or self.regions[current].kind
                history_names.setdefault((_compact(name), kind), set()).add(current)
        for key, codes in history_names.items():
            if key not in self._typed:  # current names and aliases win over old names
                self._typed[key] = set(codes)
        self._untyped: dict[str, set[str]] = {}
        for (key, kind), codes in self._typed.items():
            if kind != PROVINSI:
                self._untyped.setdefault(key, set()).update(codes)
        self._cache: dict[tuple[str, str | None], Resolution] = {}

    def _add(self, key: str, kind: str, code: str) -> None:
        self._typed.setdefault((key, kind), set()).add(code)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_files(
        cls,
        regions: str | Path | None = None,
        aliases: str | Path | None = None,
        history: str | Path | None = None,
    ) -> RegionResolver:
        """Read the three CSVs (defaults: the package's reference files; missing optional
        alias/history files are skipped)."""
        regions_path = Path(regions) if regions else REFERENCE_DIR / "regions.csv"
        aliases_path = Path(aliases) if aliases else REFERENCE_DIR / "region_aliases.csv"
        history_path = Path(history) if history else REFERENCE_DIR / "region_codes_history.csv"
        return cls(
            _read_csv(regions_path),
            _read_csv(aliases_path) if aliases or aliases_path.exists() else (),
            _read_csv(history_path) if history or history_path.exists() else (),
        )

    @classmethod
    @functools.cache
    def default(cls) -> RegionResolver:
        """The resolver over the package's reference files (built once per process)."""
        return cls.from_files()

    # -- names ----------------------------------------------------------------------------
    def _labels(self, codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.regions[c].label for c in sorted(codes))

    def province_code(self, hint: Any) -> str | None:
        """A province code from a code (`32`) or a name (`Jawa Barat`, `Prov. Jawa Barat`)."""
        if hint is None:
            return None
        text = _code_text(hint)
        if not text:
            return None
        if text in self.regions and self.regions[text].level == "province":
            return text
        name, _ = normalize_region_name(text)
        codes = self._typed.get((_compact(name), PROVINSI), set())
        return next(iter(codes)) if len(codes) == 1 else None

    def resolve_name(self, text: Any, province_hint: Any = None) -> Resolution:
        """A kab/kota name (`Kab. Aceh Selatan`, `KOTA PALANGKA RAYA`) -> its current code.

        `Provinsi X` resolves a province. `province_hint` (code or name) only narrows a name
        that fits several regions; it never rejects a unique match (provinces split).
        """
        key = (
            text if isinstance(text, str) else _code_text(text),
            _code_text(province_hint) if province_hint not in (None, "") else None,
        )
        cached = self._cache.get(key)
        if cached is None:
            cached = self._resolve_name(*key)
            if len(self._cache) < 100_000:
                self._cache[key] = cached
        return cached

    def _resolve_name(self, text: str, province_hint: str | None) -> Resolution:
        shown = " ".join(text.split())
        if not shown:
            return Resolution(None, "empty region name")
        name, rtype = normalize_region_name(text)
        key = _compact(name)
        if not key:
            return Resolution(None, f"not a region name: {shown!r}")
        if rtype is not None:
            codes = set(self._typed.get((key, rtype), ()))
            if not codes and rtype == KOTA:  # `Kota Baru` may be the kabupaten Kotabaru
                codes = set(self._untyped.get(KOTA + key, ()))
        else:
            codes = set(self._untyped.get(key, ()))
            if not codes:
                codes = set(self._typed.get((key, PROVINSI), ()))
        if len(codes) > 1 and province_hint is not None:
            province = self.province_code(province_hint)
            if province is not None:
                narrowed = {c for c in codes if self.regions[c].province_code == province}
                if narrowed:
                    codes = narrowed
        if len(codes) == 1:
            return Resolution(next(iter(codes)))
        if codes:
            labels = self._labels(codes)
            return Resolution(None, f"ambiguous region name {shown!r}: {', '.join(labels)}", labels)
        labels = self._closest(key, rtype)
        return Resolution(
            None,
            f"unknown region name {shown!r}; closest: {', '.join(labels) or 'none'}",
            labels,
        )

    def _closest(self, key: str, rtype: str | None, n: int = 3) -> tuple[str, ...]:
        scored: dict[str, float] = {}
        for (name, kind), codes in self._typed.items():
            if rtype == PROVINSI and kind != PROVINSI:
                continue
            if rtype != PROVINSI and kind == PROVINSI:
                continue
            ratio = difflib.SequenceMatcher(None, key, name).ratio()
            if rtype is not None and kind != rtype:
                ratio -= 0.05
            for code in codes:
                if ratio > scored.get(code, -1.0):
                    scored[code] = ratio
        best = sorted(scored, key=lambda c: (-scored[c], c))[:n]
        return tuple(self.regions[c].label for c in best)

    # -- codes ----------------------------------------------------------------------------
    def resolve_code(self, text: Any, system: str = "kemendagri") -> Resolution:
        """A code in `system` (`kemendagri`: `64.02`, also `6402` and old codes; `bps`:
        `6403` via the bridge column; `name`: see `resolve_name`) -> current code."""
        if system == "name":
            return self.resolve_name(text)
        key = (_code_text(text), system)
        cached = self._cache.get(key)
        if cached is None:
            if system == "kemendagri":
                cached = self._resolve_kemendagri(key[0])
            elif system == "bps":
                cached = self._resolve_bps(key[0])
            else:
                raise ValueError(f"unknown region system {system!r}")
            if len(self._cache) < 100_000:
                self._cache[key] = cached
        return cached

    def _resolve_kemendagri(self, s: str) -> Resolution:
        if not s:
            return Resolution(None, "empty region code")
        code = s
        if _KEMENDAGRI_NODOT.fullmatch(s):
            code = f"{s[:2]}.{s[2:]}"  # the same Kemendagri code written without its dot
        elif not _KEMENDAGRI.fullmatch(s):
            return Resolution(None, f"not a Kemendagri province or kab/kota code: {s!r}")
        if code in self.regions:
            return Resolution(code)
        old = self._old_codes.get(code)
        if old is not None:
            codes, name, year = old
            if len(codes) == 1:
                current = next(iter(codes))
                return Resolution(
                    current,
                    note=f"old Kemendagri code {code} ({name}, decree {year}) is now {current}",
                )
            labels = self._labels(codes)
            return Resolution(
                None, f"ambiguous old Kemendagri code {s!r}: {', '.join(labels)}", labels
            )
        return Resolution(None, f"unknown Kemendagri code {s!r}")

    def _resolve_bps(self, s: str) -> Resolution:
        if not s:
            return Resolution(None, "empty region code")
        if not _BPS.fullmatch(s):
            return Resolution(
                None,
                f"not a BPS province or kab/kota code: {s!r}"
                " (BPS codes are 2 or 4 digits, without a dot)",
            )
        code = self._by_bps.get(s)
        if code is None:
            return Resolution(None, f"unknown BPS code {s!r}")
        return Resolution(code)


__all__ = ["RegionResolver", "Resolution", "Region", "normalize_region_name"]
