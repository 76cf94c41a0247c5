"""Source contracts: what a source file looks like, declared as YAML data.

One YAML file per contract in `include/cakupan/contracts/` (see `docs/CONTRACTS.md`). This
module reads and validates them into frozen dataclasses; `extract.py` applies them. It never
touches a file other than the contract YAML, a database or Airflow.
"""

from __future__ import annotations

import codecs
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import yaml

from cakupan.sources.errors import ContractError, SourceFileError

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"

FILE_KINDS = frozenset({"xlsx", "xls", "ods", "csv"})
API_KINDS = frozenset({"bps_api", "ckan_datastore"})
KINDS = FILE_KINDS | API_KINDS
FIELD_TYPES = frozenset({"text", "integer", "number", "percent", "date", "month"})
REGION_SYSTEMS = frozenset({"kemendagri", "bps", "name"})
PERIOD_SOURCES = frozenset({"filename", "cell", "column"})
DEFAULT_MAX_CELLS = 20_000_000
DEFAULT_MAX_SEARCH_ROWS = 30

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_RAW_TABLE = re.compile(r"raw\.[a-z][a-z0-9_]*")
_CELL = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]*)")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "text"
    aliases: tuple[str, ...] = ()
    required: bool = False

    def all_aliases(self) -> tuple[str, ...]:
        """The aliases, plus the canonical name itself (a CSV may use it as its header)."""
        return (*self.aliases, self.name)


@dataclass(frozen=True)
class HeaderSpec:
    rows: int = 1
    max_search_rows: int = DEFAULT_MAX_SEARCH_ROWS


@dataclass(frozen=True)
class PeriodSpec:
    source: str  # filename | cell | column (YAML key `from`)
    pattern: str | None = None
    field: str | None = None
    cell: str | None = None  # optional fixed address for `from: cell`, e.g. A2

    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern, re.IGNORECASE) if self.pattern else None

    def cell_position(self) -> tuple[int, int] | None:
        """(row index, column index), 0-based, of `cell`."""
        if not self.cell:
            return None
        m = _CELL.fullmatch(self.cell)
        assert m is not None
        col = 0
        for ch in m[1].upper():
            col = col * 26 + ord(ch) - 64
        return int(m[2]) - 1, col - 1


@dataclass(frozen=True)
class RegionSpec:
    field: str
    system: str
    type_field: str | None = None
    province_field: str | None = None


@dataclass(frozen=True)
class SkipRule:
    field: str
    pattern: str

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    max_cells: int = DEFAULT_MAX_CELLS


@dataclass(frozen=True)
class Contract:
    name: str
    kind: str
    raw_table: str
    description: str = ""
    path: str | None = None
    sheets: tuple[str, ...] = ()
    header: HeaderSpec = field(default_factory=HeaderSpec)
    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    period: PeriodSpec | None = None
    region: RegionSpec | None = None
    skip_rows: tuple[SkipRule, ...] = ()
    key: tuple[str, ...] = ()
    decimal: str = "comma"
    thousands: str | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    limits: Limits = field(default_factory=Limits)
    url: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    connection: str | None = None
    contract_file: str | None = None

    @property
    def is_file(self) -> bool:
        return self.kind in FILE_KINDS

    def field_types(self) -> dict[str, str]:
        """Field name -> type, in declaration order (the raw table's columns)."""
        return {name: spec.type for name, spec in self.fields.items()}

    def required_fields(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.required]


class _Reader:
    """Validates one contract mapping, naming the file and key in every error."""

    def __init__(self, data: Any, where: str):
        self.where = where
        if not isinstance(data, dict):
            self.fail("", "the contract must be a mapping")
        self.data = data

    def fail(self, key: str, problem: str):
        raise ContractError(f"{self.where}: {key + ': ' if key else ''}{problem}")

    def only(self, mapping: Mapping[str, Any], allowed: set[str], key: str) -> None:
        unknown = sorted(set(mapping) - allowed)
        if unknown:
            self.fail(
                key or "contract",
                f"unknown key(s) {', '.join(map(repr, unknown))};"
                f" allowed: {', '.join(sorted(allowed))}",
            )

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must be a mapping")
        return value

    def text(self, value: Any, key: str, *, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.fail(key, "is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(key, "must be a non-empty string")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a string or a list of strings")
        return tuple(value)

    def regex(self, value: Any, key: str, *, groups: int | None = None) -> str:
        text = self.text(value, key, required=True)
        try:
            compiled = re.compile(text, re.IGNORECASE)
        except re.error as exc:
            self.fail(key, f"not a valid regular expression: {exc}")
        if groups is not None and compiled.groups != groups:
            self.fail(key, f"must have exactly {groups} capturing group (has {compiled.groups})")
        return text


_TOP_KEYS = {
    "name",
    "description",
    "kind",
    "path",
    "sheets",
    "header",
    "fields",
    "period",
    "region",
    "skip_rows",
    "key",
    "raw_table",
    "decimal",
    "thousands",
    "encoding",
    "delimiter",
    "limits",
    "url",
    "params",
    "connection",
}


def parse_contract(data: Any, where: str = "<contract>") -> Contract:
    """Validate one contract mapping (as read from YAML) into a `Contract`."""
    r = _Reader(data, where)
    d = r.data
    r.only(d, _TOP_KEYS, "")
    name = r.text(d.get("name"), "name", required=True)
    if not _NAME.fullmatch(name):
        r.fail("name", f"{name!r} must be lower case letters, digits and underscores")
    kind = r.text(d.get("kind"), "kind", required=True)
    if kind not in KINDS:
        r.fail("kind", f"{kind!r} is not one of {', '.join(sorted(KINDS))}")
    raw_table = r.text(d.get("raw_table"), "raw_table", required=True)
    if not _RAW_TABLE.fullmatch(raw_table):
        r.fail("raw_table", f"{raw_table!r} must be raw.<source>_<entity> (lower case)")
    is_file = kind in FILE_KINDS

    path = r.text(d.get("path"), "path", required=is_file)
    if path is not None and (path.startswith("/") or ".." in PurePath(path).parts):
        r.fail("path", "must be a glob relative to the sources folder")

    # fields
    fields_data = r.mapping(d.get("fields"), "fields")
    if is_file and not fields_data:
        r.fail("fields", "a file contract needs at least one field")
    fields: dict[str, FieldSpec] = {}
    for fname, spec in fields_data.items():
        key = f"fields.{fname}"
        if not isinstance(fname, str) or not _NAME.fullmatch(fname):
            r.fail(key, "field names are lower case letters, digits and underscores")
        if spec is None:
            spec = {}
        elif isinstance(spec, list | str):
            spec = {"aliases": spec}
        spec = r.mapping(spec, key)
        r.only(spec, {"aliases", "type", "required"}, key)
        ftype = spec.get("type", "text")
        if ftype not in FIELD_TYPES:
            r.fail(f"{key}.type", f"{ftype!r} is not one of {', '.join(sorted(FIELD_TYPES))}")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            r.fail(f"{key}.required", "must be true or false")
        fields[fname] = FieldSpec(
            fname, ftype, r.strings(spec.get("aliases"), f"{key}.aliases"), required
        )
    if is_file and not any(f.required for f in fields.values()):
        r.fail("fields", "at least one field must be required: the header is found by them")

    def field_ref(value: Any, key: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        text = r.text(value, key, required=True)
        if text not in fields:
            r.fail(key, f"{text!r} is not a declared field")
        return text

    # header
    header_data = r.mapping(d.get("header"), "header")
    r.only(header_data, {"rows", "max_search_rows"}, "header")
    rows = header_data.get("rows", 1)
    if rows not in (1, 2):
        r.fail("header.rows", "must be 1 or 2")
    max_search = header_data.get("max_search_rows", DEFAULT_MAX_SEARCH_ROWS)
    if (
        not isinstance(max_search, int)
        or isinstance(max_search, bool)
        or not (1 <= max_search <= 1000)
    ):
        r.fail("header.max_search_rows", "must be an integer between 1 and 1000")
    header = HeaderSpec(rows=rows, max_search_rows=max_search)

    # period
    period = None
    if d.get("period") is not None:
        p = r.mapping(d["period"], "period")
        r.only(p, {"from", "pattern", "field", "cell"}, "period")
        source = r.text(p.get("from"), "period.from", required=True)
        if source not in PERIOD_SOURCES:
            r.fail("period.from", f"{source!r} is not one of filename, cell, column")
        pattern = field_name = cell = None
        if source == "column":
            field_name = field_ref(p.get("field"), "period.field")
            if fields[field_name].type not in ("month", "date", "text"):
                r.fail("period.field", "the period column must be of type month, date or text")
            if p.get("pattern") is not None:
                pattern = r.regex(p["pattern"], "period.pattern", groups=1)
        else:
            if p.get("field") is not None:
                r.fail("period.field", f"only for from: column (this is from: {source})")
            if source == "filename":
                pattern = r.regex(p.get("pattern"), "period.pattern", groups=1)
            elif p.get("pattern") is not None:
                pattern = r.regex(p["pattern"], "period.pattern", groups=1)
            if source == "cell" and p.get("cell") is not None:
                cell = r.text(p["cell"], "period.cell", required=True)
                if not _CELL.fullmatch(cell):
                    r.fail("period.cell", f"{cell!r} is not a cell address like A2")
            elif p.get("cell") is not None:
                r.fail("period.cell", "only for from: cell")
        period = PeriodSpec(source, pattern, field_name, cell)

    # region
    region = None
    if d.get("region") is not None:
        g = r.mapping(d["region"], "region")
        r.only(g, {"field", "system", "type_field", "province_field"}, "region")
        system = r.text(g.get("system"), "region.system", required=True)
        if system not in REGION_SYSTEMS:
            r.fail("region.system", f"{system!r} is not one of kemendagri, bps, name")
        region = RegionSpec(
            field=field_ref(g.get("field"), "region.field"),
            system=system,
            type_field=field_ref(g.get("type_field"), "region.type_field", optional=True),
            province_field=field_ref(
                g.get("province_field"), "region.province_field", optional=True
            ),
        )

    # skip rules
    skip_data = d.get("skip_rows") or []
    if not isinstance(skip_data, list):
        r.fail("skip_rows", "must be a list of {field, pattern}")
    skip_rows = []
    for i, rule in enumerate(skip_data):
        key = f"skip_rows[{i}]"
        rule = r.mapping(rule, key)
        r.only(rule, {"field", "pattern"}, key)
        skip_rows.append(
            SkipRule(
                field_ref(rule.get("field"), f"{key}.field"),
                r.regex(rule.get("pattern"), f"{key}.pattern"),
            )
        )

    key_fields = r.strings(d.get("key"), "key")
    for i, kname in enumerate(key_fields):
        field_ref(kname, f"key[{i}]")

    decimal = d.get("decimal", "comma")
    if decimal not in ("comma", "point"):
        r.fail("decimal", "must be comma or point")
    thousands = d.get("thousands")
    if thousands is not None and (
        not isinstance(thousands, str) or len(thousands) != 1 or thousands.isalnum()
    ):
        r.fail("thousands", "must be one separator character such as '.', ',' or ' '")
    if thousands is not None and thousands == ("," if decimal == "comma" else "."):
        r.fail("thousands", "cannot be the decimal mark")

    encoding = d.get("encoding", "auto")
    if not isinstance(encoding, str):
        r.fail("encoding", "must be auto or a codec name")
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            r.fail("encoding", f"unknown encoding {encoding!r}")
    delimiter = d.get("delimiter", "auto")
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    if not isinstance(delimiter, str) or (delimiter != "auto" and len(delimiter) != 1):
        r.fail("delimiter", "must be auto, tab or one character")

    limits_data = r.mapping(d.get("limits"), "limits")
    r.only(limits_data, {"max_cells"}, "limits")
    max_cells = limits_data.get("max_cells", DEFAULT_MAX_CELLS)
    if not isinstance(max_cells, int) or isinstance(max_cells, bool) or max_cells < 1:
        r.fail("limits.max_cells", "must be a positive integer")

    url = r.text(d.get("url"), "url")
    connection = r.text(d.get("connection"), "connection")
    params = r.mapping(d.get("params"), "params")
    if kind in API_KINDS and not (url or connection):
        r.fail("url", f"a {kind} contract needs url or connection")
    if is_file and (url or connection or params):
        r.fail("url", "url, params and connection are for API kinds (bps_api, ckan_datastore)")

    sheets = r.strings(d.get("sheets"), "sheets")
    if sheets and kind == "csv":
        r.fail("sheets", "a csv file has no sheets")

    return Contract(
        name=name,
        kind=kind,
        raw_table=raw_table,
        description=r.text(d.get("description"), "description") or "",
        path=path,
        sheets=sheets,
        header=header,
        fields=fields,
        period=period,
        region=region,
        skip_rows=tuple(skip_rows),
        key=key_fields,
        decimal=decimal,
        thousands=thousands,
        encoding=encoding,
        delimiter=delimiter,
        limits=Limits(max_cells=max_cells),
        url=url,
        params=params,
        connection=connection,
        contract_file=where,
    )


def load_contract(path: str | Path) -> Contract:
    """Read and validate one contract YAML file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None
    return parse_contract(data, str(path))


def load_contracts(directory: str | Path | None = None) -> dict[str, Contract]:
    """All contracts of a folder (default: the package's `contracts/`), by name.

    A contract's `name` must equal its file name without `.yml`.
    """
    folder = Path(directory) if directory is not None else CONTRACTS_DIR
    contracts: dict[str, Contract] = {}
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        contract = load_contract(path)
        if contract.name != path.stem:
            raise ContractError(
                f"{path}: name: {contract.name!r} must equal the file name {path.stem!r}"
            )
        if contract.name in contracts:
            raise ContractError(f"{path}: name: {contract.name!r} is declared twice")
        contracts[contract.name] = contract
    return contracts


def _glob_matches(path: Path, pattern: str) -> bool:
    try:
        return PurePath(path.as_posix()).match(pattern)
    except ValueError:
        return False


def match_contract(
    path: str | Path,
    contracts: Mapping[str, Contract] | Iterable[Contract],
    *,
    sources_dir: str | Path | None = None,
) -> Contract:
    """The one file contract whose `path` glob matches the file.

    The glob is matched against the path relative to `sources_dir` (or, failing that, the
    path's last components, as `PurePath.match` does); when nothing matches that way, against
    the file name alone with the glob's last component. No match or several matches raise
    `SourceFileError`.
    """
    path = Path(path)
    items = list(contracts.values()) if isinstance(contracts, Mapping) else list(contracts)
    candidates = [c for c in items if c.is_file and c.path]
    rel = path
    if sources_dir is not None:
        try:
            rel = path.resolve().relative_to(Path(sources_dir).resolve())
        except ValueError:
            rel = path
    found = [c for c in candidates if _glob_matches(rel, c.path)]
    if not found:
        found = [c for c in candidates if fnmatch.fnmatchcase(path.name, PurePath(c.path).name)]
    if not found:
        raise SourceFileError(
            path,
            "no source contract matches this file name (contracts: "
            + ", ".join(f"{c.name} {c.path}" for c in candidates)
            + ")",
        )
    if len(found) > 1:
        raise SourceFileError(
            path,
            "several source contracts match this file: "
            + ", ".join(c.name for c in found)
            + "; pass --contract",
        )
    return found[0]
