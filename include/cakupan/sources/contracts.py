"""Source contracts: what a source file looks like, declared as YAML data.

One YAML file per contract in `include/cakupan/contracts/` (see `docs/CONTRACTS.md`). The
contract format is the pydantic model `Contract` below: its parts are frozen models that refuse
unknown keys, their field docstrings are the descriptions of the JSON Schema that editors use
(`contract.schema.json`, written by `cakupan sources schema`), and the rules across keys are
model validators. `parse_contract` turns a validation error into one `ContractError` line naming
the file and each key's path (`x.yml: fields.pbi.type: Input should be 'text', ...`).

To extend the format: add a model (a `_Part`) and a field of `Contract`; a rule within the part
is a validator of the part, a rule that needs other keys (a field name it refers to, the kind)
is a step of `Contract._check_rules`. `extract.py` applies contracts. This module never touches
a file other than the contract YAML, a database or Airflow.
"""

from __future__ import annotations

import codecs
import fnmatch
import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cakupan.sources.errors import ContractError, NoContractMatches, SourceFileError

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
SCHEMA_FILE = CONTRACTS_DIR / "contract.schema.json"
MEASURES_FILE = CONTRACTS_DIR.parent / "reference" / "measures.yml"

FileKind = Literal["xlsx", "xls", "ods", "csv"]
ApiKind = Literal["bps_api", "ckan_datastore"]
Kind = Literal[FileKind, ApiKind]
FieldType = Literal["text", "integer", "number", "percent", "date", "month"]
RegionSystem = Literal["kemendagri", "bps", "name"]
PeriodSource = Literal["filename", "cell", "column", "request"]
Level = Literal["province", "district"]
Grain = Literal["month", "semester", "year"]
Coverage = Literal["national", "partial"]
PersonDataset = Literal["register", "membership", "dtsen", "wbp"]
PersonAttribute = Literal[
    "nik", "kk", "card_no", "full_name", "sex", "birth_place", "birth_date", "address", "rt",
    "rw", "desa_code", "kecamatan_code", "alive", "died_on", "segment", "active",
    "inactive_reason", "registered_on", "fktp", "desil", "facility",
]  # fmt: skip

FILE_KINDS = frozenset(get_args(FileKind))
API_KINDS = frozenset(get_args(ApiKind))
KINDS = FILE_KINDS | API_KINDS
FIELD_TYPES = frozenset(get_args(FieldType))
REGION_SYSTEMS = frozenset(get_args(RegionSystem))
PERIOD_SOURCES = frozenset(get_args(PeriodSource))
DEFAULT_MAX_CELLS = 20_000_000
# a CSV line longer than this is refused as it is read: the csv module's own field limit, so no
# field of an accepted line can be over it
DEFAULT_MAX_LINE_BYTES = 131_072
# the largest count an integer field takes unless its `max` says otherwise: Indonesia's order of
# magnitude (about 285 million people in 2025, a peak near 330 million projected): no count of
# its people is larger, while the faults it must catch are (a NIK or phone number in a count
# column, a misread separator that multiplies a province's count by 1,000)
DEFAULT_MAX_COUNT = 500_000_000
DEFAULT_MAX_SEARCH_ROWS = 30
# person-level contracts (`persons:`) land in this one table (cakupan.landing.persons)
PERSON_TABLE = "restricted.person_records"
PERSON_ATTRIBUTES = get_args(PersonAttribute)
PERSON_DATES = frozenset({"birth_date", "died_on", "registered_on"})
PERSON_BOOLEANS = frozenset({"alive", "active"})
# what each dataset must carry, and the attributes only one dataset has
PERSON_REQUIRED: dict[str, tuple[str, ...]] = {
    "register": ("nik", "full_name", "desa_code"),
    "membership": ("card_no", "full_name"),
    "dtsen": ("nik", "desil"),
    "wbp": ("full_name", "facility"),
}
PERSON_ONLY_IN: dict[str, str] = {
    "alive": "register",
    "died_on": "register",
    "card_no": "membership",
    "segment": "membership",
    "active": "membership",
    "inactive_reason": "membership",
    "registered_on": "membership",
    "fktp": "membership",
    "desil": "dtsen",
    "facility": "wbp",
}
# the codes a value map may give per attribute (the rest map to free text)
PERSON_CODES: dict[str, tuple[Any, ...]] = {
    "sex": ("L", "P"),
    "alive": (True, False),
    "active": (True, False),
    "segment": ("PBI APBN", "PBI APBD", "PPU", "PBPU", "BP"),
}
_DATE_FORMAT = re.compile(r"(DD?|MM?|YYYY)([-./ ]?)(DD?|MM?|YYYY)\2(DD?|MM?|YYYY)")

_NAME = r"[a-z][a-z0-9_]*"
_CELL = re.compile(r"([A-Za-z]{1,3})([1-9][0-9]*)")


# ---- errors ----------------------------------------------------------------------------------


def _fail(at: str, problem: str):
    """Refuse a value: `at` is the key's path below the validated part ("" for the part)."""
    raise PydanticCustomError("contract", problem, {"at": at})


def _error_path(error: Mapping[str, Any]) -> str:
    """`('fields', 'pbi', 'type')` -> `fields.pbi.type`, `('key', 0)` -> `key[0]`."""
    parts = [p for p in error["loc"] if p != "[key]"]  # a dict key's own error: its entry
    at = (error.get("ctx") or {}).get("at")
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    if at:
        path += at if at.startswith("[") or not path else f".{at}"
    return path


# pydantic's messages that name a Python type, in YAML's words
_YAML_WORDS = {
    "model_type": "Input should be a mapping",
    "dict_type": "Input should be a mapping",
    "tuple_type": "Input should be a list",
    "list_type": "Input should be a list",
}


def describe_errors(exc: ValidationError) -> str:
    """A validation error on one line: `path: problem` per error, joined with `; `."""
    problems = []
    for error in exc.errors(include_url=False):
        path = _error_path(error)
        message = _YAML_WORDS.get(error["type"], error["msg"])
        problems.append(f"{path}: {message}" if path else message)
    return "; ".join(problems)


# ---- value types -----------------------------------------------------------------------------


def _matching(regex: str, problem: str, *, in_schema: bool = True) -> Any:
    """A string matching `regex` in full; `problem` follows its repr in the error. The regex
    goes in the JSON Schema too (`in_schema=False` for a mapping's keys, checked there by
    `propertyNames`)."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            _fail("", f"{value!r} {problem}")
        return value

    schema = [Field(json_schema_extra={"pattern": f"^{regex}$"})] if in_schema else []
    return Annotated[StrictStr, AfterValidator(check), *schema]


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        _fail("", f"not a valid regular expression: {exc}")
    return pattern


def _one_group(pattern: str) -> str:
    groups = re.compile(pattern, re.IGNORECASE).groups
    if groups != 1:
        _fail("", f"must have exactly 1 capturing group (has {groups})")
    return pattern


def _relative_glob(path: str) -> str:
    if path.startswith("/") or ".." in PurePath(path).parts:
        _fail("", "must be a glob relative to the sources folder")
    return path


def _separator(value: str) -> str:
    if len(value) != 1 or value.isalnum():
        _fail("", "must be one separator character such as '.', ',' or ' '")
    return value


def _codec(value: str) -> str:
    if value != "auto":
        try:
            codecs.lookup(value)
        except LookupError:
            _fail("", f"unknown encoding {value!r}")
    return value


def _delimiter(value: str) -> str:
    value = "\t" if value in ("tab", "\\t") else value
    if value != "auto" and len(value) != 1:
        _fail("", "must be auto, tab or one character")
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_LOWER = "must be lower case letters, digits and underscores"
Name = _matching(_NAME, _LOWER)
FieldName = _matching(_NAME, _LOWER, in_schema=False)
RawTable = _matching(r"raw\.[a-z][a-z0-9_]*", "must be raw.<source>_<entity> (lower case)")
CellAddress = _matching(_CELL.pattern, "is not a cell address like A2")
Regex = Annotated[StrictStr, AfterValidator(_compiles)]
OneGroupRegex = Annotated[Regex, AfterValidator(_one_group)]
Strings = Annotated[
    tuple[StrictStr, ...],
    BeforeValidator(_one_or_many, json_schema_input_type=str | list[str]),
]


def _one_attribute(value: Any) -> Any:
    if isinstance(value, list | tuple):
        _fail("", "a field carries one person attribute, not several: declare one field each")
    return value


def _date_format_ok(layout: str) -> bool:
    m = _DATE_FORMAT.fullmatch(layout)
    return m is not None and sorted(t[0] for t in (m[1], m[3], m[4])) == ["D", "M", "Y"]


# ---- the parts of a contract -----------------------------------------------------------------


class _Part(BaseModel):
    """A part of a contract: immutable; an unknown key is refused (naming the allowed ones),
    a key given as null (`key:` with nothing after it) is as if absent."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = sorted(f.alias or name for name, f in cls.model_fields.items())
        unknown = sorted(map(str, set(data) - set(allowed)))
        if unknown:
            _fail(
                "",
                f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}",
            )
        return {k: v for k, v in data.items() if v is not None}


class FieldSpec(_Part):
    """A field: a column of the raw table, found in the header by its aliases."""

    type: FieldType = "text"
    """How its values are parsed (`text` default, `integer`, `number`, `percent`, `date`,
    `month`)."""
    aliases: Strings = ()
    """Header texts of its column (one or a list); the field name itself is always one."""
    required: StrictBool = False
    """A required field's column must be in the header (the header is found by them), and every
    row must have a value: a blank cell or `-` is a reject. An optional field may be missing
    and is null."""
    max: StrictInt | None = Field(default=None, ge=0, le=10**18)
    """`integer` fields (counts): the largest plausible value (default 500,000,000, Indonesia's
    order of magnitude); a count above it, or below 0, is a reject."""
    measure: Name | None = None
    """The canonical measure its values feed (`reference/measures.yml`, the dataset of the
    contract's `feeds`), e.g. `participants_active`; none: the field is only kept in the raw
    table."""
    group: Name = "all"
    """The population group of the measure's value: `all`, a JKN segment (`pbi_apbn`...) or a
    sex (`sex_male`, `sex_female`), as the measure allows."""
    person: (
        Annotated[PersonAttribute, BeforeValidator(_one_attribute, json_schema_input_type=str)]
        | None
    ) = None
    """Person-level contracts (`persons:`): the person attribute the column carries (`nik`,
    `kk`, `card_no`, `full_name`, `sex`, `birth_place`, `birth_date`, `address`, `rt`, `rw`,
    `desa_code`, `kecamatan_code`, `alive`, `died_on`, `segment`, `active`, `inactive_reason`,
    `registered_on`, `fktp`, `desil`, `facility`)."""
    values: dict[StrictStr, StrictStr | StrictBool] = Field(default_factory=dict)
    """Person attributes: the source's codes -> the warehouse's (case- and space-insensitive):
    `sex` to `L`/`P`, `alive`/`active` to true/false, `segment` to `PBI APBN`, `PBI APBD`,
    `PPU`, `PBPU`, `BP`. A value the map lacks is a reject; no map: the text as it is."""
    format: StrictStr | None = None
    """Person dates (`birth_date`, `died_on`, `registered_on`): the text's layout, tokens
    `DD`/`D`, `MM`/`M`, `YYYY` with one separator (`DD-MM-YYYY`, `YYYY-MM-DD`, `DD/MM/YYYY`,
    `YYYYMMDD`); default `YYYY-MM-DD`. Date cells of a workbook are dates whatever it says."""

    @model_validator(mode="after")
    def _max_for_counts(self) -> FieldSpec:
        if self.max is not None and self.type != "integer":
            _fail("max", f"only for integer fields (counts); this field is {self.type}")
        self._check_person()
        return self

    def _check_person(self) -> None:
        person = self.person
        if person is None:
            for key in ("values", "format"):
                if getattr(self, key):
                    _fail(key, "only for a field that carries a person attribute (`person:`)")
            return
        if self.type != "text":
            _fail("type", f"a person attribute's type is implied ({person}); leave `type` out")
        if self.format is not None:
            if person not in PERSON_DATES:
                _fail("format", f"only for the dates {', '.join(sorted(PERSON_DATES))}")
            if not _date_format_ok(self.format):
                _fail("format", f"{self.format!r} is not a date layout such as DD-MM-YYYY")
        codes = PERSON_CODES.get(person)
        if self.values and person in PERSON_DATES | {"desil"}:
            _fail("values", f"not for {person}")
        for source, code in self.values.items():
            if codes is not None and code not in codes:
                allowed = ", ".join(map(str, codes))
                _fail(f"values.{source}", f"{person} takes {allowed}, not {code!r}")
            if codes is None and not isinstance(code, str):
                _fail(f"values.{source}", f"{person} is text: map to text")
        if person in PERSON_BOOLEANS and not self.values:
            _fail("values", f"{person} needs its map to true/false (HIDUP: true, MATI: false)")

    def date_layout(self) -> str:
        return self.format or "YYYY-MM-DD"

    def count_bound(self) -> int:
        """The largest count an `integer` field accepts."""
        return DEFAULT_MAX_COUNT if self.max is None else self.max

    _name: str = PrivateAttr(default="")

    @property
    def name(self) -> str:
        return self._name

    def all_aliases(self) -> tuple[str, ...]:
        """The aliases, plus the canonical name itself (a CSV may use it as its header)."""
        return (*self.aliases, self.name)


def _field_shorthand(value: Any) -> Any:
    """`name:` (nothing) is a text field; `name: [A, B]` or `name: A` gives its aliases."""
    if value is None:
        return {}
    return {"aliases": value} if isinstance(value, list | str) else value


FieldEntry = Annotated[
    FieldSpec,
    BeforeValidator(_field_shorthand, json_schema_input_type=FieldSpec | list[str] | str | None),
]


class HeaderSpec(_Part):
    """Where the header is."""

    rows: Literal[1, 2] = 1
    """1, or 2: a two-row header is flattened per column as `"<top> / <bottom>"`, the top cell
    of a merged range carried right over the columns it spans."""
    max_search_rows: StrictInt = Field(default=DEFAULT_MAX_SEARCH_ROWS, ge=1, le=1000)
    """The header is searched in the first N rows: the row (pair) mapping all required fields
    and the most fields wins; rows above it are title rows."""


class PeriodSpec(_Part):
    """Where the period of the rows is. No `period`: rows have no period."""

    source: PeriodSource = Field(alias="from")
    """`filename` (`pattern` searched in the file name), `cell` (the first cell above the header
    matching `pattern`, or the fixed `cell`; without a pattern the first cell naming a month),
    `column` (the `field` of each row), `request` (API kinds: the period asked for, a year such
    as `2024` or a month `2024-03`: `cakupan load --source NAME --period 2024`)."""
    pattern: OneGroupRegex | None = None
    """A regular expression (case-insensitive) with one group: the period's text."""
    field: StrictStr | None = None
    """For `from: column`: a `month`, `date` or `text` field."""
    cell: CellAddress | None = None
    """For `from: cell`: a fixed cell address such as A2."""

    @model_validator(mode="after")
    def _keys_of_source(self) -> PeriodSpec:
        if self.source == "filename" and self.pattern is None:
            _fail("pattern", "is required for from: filename")
        if self.source == "column" and self.field is None:
            _fail("field", "is required for from: column")
        if self.source != "column" and self.field is not None:
            _fail("field", f"only for from: column (this is from: {self.source})")
        if self.source != "cell" and self.cell is not None:
            _fail("cell", "only for from: cell")
        if self.source == "request" and self.pattern is not None:
            _fail("pattern", "not for from: request (the period is the one asked for)")
        return self

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


class RegionSpec(_Part):
    """Where the region of a row is."""

    field: StrictStr
    """The field holding the region."""
    system: RegionSystem
    """`kemendagri` (`64.02`, also `6402`; old codes mapped to current ones), `bps` (`6403`,
    through the BPS-Kemendagri bridge), `name` (`Kab. Bogor`)."""
    type_field: StrictStr | None = None
    """A field with `Kabupaten`/`Kota`, put before a bare name."""
    province_field: StrictStr | None = None
    """A province field that narrows a name found in several provinces."""


class SkipRule(_Part):
    """A row whose cell in `field` matches `pattern` (case-insensitive) is skipped."""

    field: StrictStr
    pattern: Regex

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE)


class FeedsSpec(_Part):
    """What the rows mean in the warehouse's own terms: the canonical dataset their measures
    belong to, at which region level and period grain, and which regions a load covers."""

    dataset: Name
    """A dataset of `reference/measures.yml` (`jkn_membership`, `residents`, ...)."""
    level: Level = "district"
    """The region level of the rows that feed it (`district`: kab/kota, `province`); rows of
    another level stay in the raw table only."""
    grain: Grain = "month"
    """`month`, `semester` (applies to its six months) or `year` (to its twelve)."""
    coverage: Coverage = "national"
    """`national`: a load says everything its source says for its periods, and replaces the
    source's earlier loads of those periods. `partial` (a branch office's table, a province's
    file): a load replaces the source's earlier values only for the regions it gives."""
    detail: StrictStr | None = None
    """A field whose text breaks the measures down further (an age band, a facility, a
    decile)."""
    year_field: StrictStr | None = None
    """For `grain: year` without a `period`: the integer field holding the year."""


class PersonsSpec(_Part):
    """A person-level source (one row per person): its rows land, keyed, in
    `restricted.person_records` (docs/PERSONS.md), instead of feeding measures."""

    dataset: PersonDataset
    """`register` (Dukcapil population register), `membership` (BPJS membership master),
    `dtsen` (DTSEN/DTKS individuals), `wbp` (prisoners of a facility)."""
    district_pattern: OneGroupRegex | None = None
    """A regular expression with one group: the kab/kota a file is for, in its name (`6402` or
    `64.02`). A load then replaces the source's earlier load of its period for that kab/kota
    only; without it, a load replaces the source's whole period."""


class Limits(_Part):
    max_cells: StrictInt = Field(default=DEFAULT_MAX_CELLS, ge=1)
    """A sheet (or CSV: lines x columns) over this many cells is refused."""
    max_line_bytes: StrictInt = Field(default=DEFAULT_MAX_LINE_BYTES, ge=1)
    """CSV: a line longer than this many bytes is refused as it is read (default 131,072)."""


# ---- the contract ----------------------------------------------------------------------------


class Contract(_Part):
    """A Cakupan source contract: what one kind of source file (or API source) looks like and
    how its rows become rows of a raw table (docs/CONTRACTS.md)."""

    # for editors, the JSON Schema also says which keys each kind needs
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"enum": sorted(FILE_KINDS)}}},
            "then": {"required": ["path", "fields"]},
            "else": {"anyOf": [{"required": ["url"]}, {"required": ["connection"]}]},
            "anyOf": [{"required": ["raw_table"]}, {"required": ["persons"]}],
        }
    )

    name: Name
    """Equal to the file name without `.yml`; the `source` of `raw.loads`."""
    publisher: Name | None = None
    """Who publishes the source (`bpjs_kesehatan`, `dukcapil`, `bps`, ...); default the
    contract's name. Precedence between sources is data (`source_precedence` seed)."""
    description: StrictStr = ""
    """One paragraph for people."""
    kind: Kind
    """File kinds are read by Cakupan; API kinds are extracted by its API clients."""
    path: Annotated[StrictStr, AfterValidator(_relative_glob)] | None = None
    """File kinds: a glob relative to the sources folder (`bpjs/rekap_peserta_jkn_*.xlsx`); it
    also picks the contract of a file."""
    sheets: Strings = ()
    """Sheet name globs (case-insensitive), every matching sheet is read; default: the first
    visible sheet. Not for csv."""
    header: HeaderSpec = HeaderSpec()
    fields: dict[FieldName, FieldEntry] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": f"^{_NAME}$"}}
    )
    """File kinds: the raw table's columns in order, canonical field name -> spec (or its
    aliases); at least one is required."""
    period: PeriodSpec | None = None
    region: RegionSpec | None = None
    skip_rows: tuple[SkipRule, ...] = ()
    """Rows to skip, such as total rows; blank rows are always skipped."""
    key: Strings = ()
    """Fields that, with period and region, make a row unique; later duplicates are rejected."""
    raw_table: RawTable | None = None
    """The table the rows land in (every contract but a person-level one, whose rows land in
    `restricted.person_records`)."""
    decimal: Literal["comma", "point"] = "comma"
    """`comma`: `1.234` is 1234 and `95,98` is 95.98; `point`: `1.234` is 1.234."""
    thousands: Annotated[StrictStr, AfterValidator(_separator)] | None = None
    """An explicit thousands separator character, removed before parsing."""
    encoding: Annotated[StrictStr, AfterValidator(_codec)] = "auto"
    """`auto` (UTF-8 with or without BOM, else cp1252) or a codec name."""
    delimiter: Annotated[
        StrictStr,
        AfterValidator(_delimiter),
        Field(json_schema_extra={"pattern": r"^(auto|tab|\\t|.)$"}),
    ] = "auto"
    """CSV: `auto` (sniffed among `;`, `,`, tab, `|`), `tab` or one character."""
    limits: Limits = Limits()
    persons: PersonsSpec | None = None
    """A person-level source: which dataset, and each field's `person` attribute."""
    feeds: FeedsSpec | None = None
    """The canonical measures the fields feed (a field's `measure`); none: a reference or
    raw-only source."""
    url: StrictStr | None = None
    """API kinds: the endpoint (or `connection`)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """API kinds: the request. bps_api: `domain` (4 digits), `var` (table id), optional `th`
    (tahun codes; default: the requested year's), `lang`; ckan_datastore: `resource_id`,
    optional `filters` (a mapping; a value `{year}` or `{period}` takes the requested
    period), `page_size`."""
    connection: StrictStr | None = None
    """API kinds: an Airflow connection id holding the API key as its password (and, as its
    host, a base URL that overrides `url`); outside Airflow the variable `AIRFLOW_CONN_<ID>`."""

    _contract_file: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_rules(self) -> Contract:
        """The rules across keys, in steps."""
        for name, spec in self.fields.items():
            spec._name = name
        self._check_kind()
        self._check_file_fields()
        self._check_references()
        _check_feeds(self)
        _check_persons(self)
        if self.thousands is not None and self.thousands == self._decimal_mark():
            _fail("thousands", "cannot be the decimal mark")
        return self

    def _check_kind(self) -> None:
        if self.is_file and self.path is None:
            _fail("path", f"is required for a file contract (kind {self.kind})")
        if self.is_file and (self.url or self.connection or self.params):
            _fail("url", "url, params and connection are for API kinds (bps_api, ckan_datastore)")
        if not self.is_file and not (self.url or self.connection):
            _fail("url", f"a {self.kind} contract needs url or connection")
        if self.sheets and self.kind == "csv":
            _fail("sheets", "a csv file has no sheets")
        source = self.period.source if self.period is not None else None
        if self.is_file and source == "request":
            _fail("period.from", "request is for API kinds (bps_api, ckan_datastore)")
        if not self.is_file and source in ("filename", "cell"):
            _fail("period.from", f"an API source has no {source}: use request or column")

    def _check_file_fields(self) -> None:
        if self.is_file and not self.fields:
            _fail("fields", "a file contract needs at least one field")
        if self.is_file and not self.required_fields():
            _fail("fields", "at least one field must be required: the header is found by them")

    def _check_references(self) -> None:
        """Every key that names a field names a declared one."""
        if self.period is not None and self.period.field is not None:
            self.declared("period.field", self.period.field)
            if self.fields[self.period.field].type not in ("month", "date", "text"):
                _fail("period.field", "the period column must be of type month, date or text")
        if self.region is not None:
            for key in ("field", "type_field", "province_field"):
                self.declared(f"region.{key}", getattr(self.region, key))
        for i, rule in enumerate(self.skip_rows):
            self.declared(f"skip_rows[{i}].field", rule.field)
        for i, name in enumerate(self.key):
            self.declared(f"key[{i}]", name)

    def declared(self, at: str, name: str | None) -> None:
        if name is not None and name not in self.fields:
            _fail(at, f"{name!r} is not a declared field")

    def _decimal_mark(self) -> str:
        return "," if self.decimal == "comma" else "."

    @property
    def is_file(self) -> bool:
        return self.kind in FILE_KINDS

    @property
    def contract_file(self) -> str | None:
        """Where the contract was read from (`parse_contract`'s `where`)."""
        return self._contract_file

    def field_types(self) -> dict[str, str]:
        """Field name -> type, in declaration order (the raw table's columns)."""
        return {name: spec.type for name, spec in self.fields.items()}

    def required_fields(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.required]

    @property
    def source_publisher(self) -> str:
        return self.publisher or self.name

    def file_district(self, file_name: str) -> str:
        """The kab/kota a person-level file is for (`persons.district_pattern` on its name, as
        `64.02`), or `*` (the whole period) without a pattern; `SourceFileError` when the name
        does not match."""
        pattern = self.persons.district_pattern if self.persons else None
        if pattern is None:
            return "*"
        m = re.search(pattern, PurePath(file_name).name, re.IGNORECASE)
        digits = m[1].replace(".", "") if m else ""
        if len(digits) != 4 or not digits.isdigit():
            raise SourceFileError(
                Path(file_name), f"no kab/kota in the file name: it does not match /{pattern}/"
            )
        return f"{digits[:2]}.{digits[2:]}"

    def person_fields(self) -> dict[str, FieldSpec]:
        """Person attribute -> its field (person-level contracts)."""
        return {spec.person: spec for spec in self.fields.values() if spec.person is not None}

    def measure_fields(self) -> dict[str, FieldSpec]:
        """The fields that feed a measure, in declaration order."""
        return {name: spec for name, spec in self.fields.items() if spec.measure}


# ---- canonical measures ----------------------------------------------------------------------


@functools.cache
def measure_catalogue() -> dict[str, Any]:
    """`reference/measures.yml`: dataset -> its levels, grains and measures (-> groups)."""
    return yaml.safe_load(MEASURES_FILE.read_text(encoding="utf-8"))["datasets"]


def _check_feeds(contract: Contract) -> None:
    """The `feeds` section and the fields' `measure`/`group` against the catalogue."""
    feeds, fed = contract.feeds, contract.measure_fields()
    if feeds is None:
        if fed:
            name = next(iter(fed))
            _fail(f"fields.{name}.measure", "a field feeds a measure only under `feeds:`")
        return
    catalogue = measure_catalogue()
    if feeds.dataset not in catalogue:
        _fail("feeds.dataset", f"unknown dataset {feeds.dataset!r}; known: {', '.join(catalogue)}")
    dataset = catalogue[feeds.dataset]
    for key, allowed in (("level", dataset["levels"]), ("grain", dataset["grains"])):
        if getattr(feeds, key) not in allowed:
            _fail(
                f"feeds.{key}",
                f"{getattr(feeds, key)!r} does not fit dataset {feeds.dataset!r}"
                f" (it takes {', '.join(allowed)})",
            )
    for key in ("detail", "year_field"):
        contract.declared(f"feeds.{key}", getattr(feeds, key))
    if feeds.detail is not None and feeds.detail not in contract.key:
        # one value per measure, region, period and detail: a repeated detail is a reject
        _fail("feeds.detail", f"{feeds.detail!r} must be one of the contract's `key` fields")
    _check_period_of_feeds(contract, feeds)
    if feeds.coverage == "partial" and contract.region is None:
        _fail("feeds.coverage", "a partial source needs `region`: its loads replace by region")
    if not fed:
        _fail("feeds", "no field feeds a measure: give at least one field a `measure`")
    _check_measure_fields(fed, feeds.dataset, dataset["measures"])


def _check_persons(contract: Contract) -> None:
    """The `persons` block: its fields' attributes, what its dataset needs, no raw table."""
    persons = contract.persons
    carried = {n: f.person for n, f in contract.fields.items() if f.person is not None}
    if persons is None:
        if carried:
            name = next(iter(carried))
            _fail(
                f"fields.{name}.person", "a field carries a person attribute only under `persons:`"
            )
        if contract.raw_table is None:
            _fail("raw_table", "is required (raw.<source>_<entity>)")
        return
    for key in ("raw_table", "feeds", "region", "key"):
        if getattr(contract, key):
            _fail(key, f"not for a person-level contract (its rows land in {PERSON_TABLE})")
    if not contract.is_file:
        _fail("persons", "person-level sources are files (csv, xlsx, ods, xls)")
    if contract.period is None or contract.period.source == "column":
        _fail("period", "a person-level file needs its period from its file name or a cell")
    seen: dict[str, str] = {}
    for name, spec in contract.fields.items():
        if spec.person is None:
            _fail(f"fields.{name}.person", "every field of a person-level contract names the"
                  " person attribute it carries")  # fmt: skip
        other = seen.setdefault(spec.person, name)
        if other != name:
            _fail(
                f"fields.{name}.person", f"fields {other!r} and {name!r} both carry {spec.person}"
            )
        only = PERSON_ONLY_IN.get(spec.person)
        if only is not None and only != persons.dataset:
            _fail(f"fields.{name}.person", f"{spec.person} is for a {only} source, not"
                  f" {persons.dataset}")  # fmt: skip
    missing = [a for a in PERSON_REQUIRED[persons.dataset] if a not in seen]
    if missing:
        needed = ", ".join(PERSON_REQUIRED[persons.dataset])
        _fail(
            "fields",
            f"a {persons.dataset} source needs a field for each of {needed}"
            f" (missing: {', '.join(missing)})",
        )
    object.__setattr__(contract, "raw_table", PERSON_TABLE)  # where its rows land, for the log


def _check_period_of_feeds(contract: Contract, feeds: FeedsSpec) -> None:
    if feeds.year_field is not None:
        if feeds.grain != "year":
            _fail("feeds.year_field", "only for grain: year")
        if contract.fields[feeds.year_field].type != "integer":
            _fail("feeds.year_field", "the year field must be of type integer")
    elif contract.period is None:
        _fail(
            "feeds",
            "a source feeding measures needs a `period` (grain year: or a year_field)",
        )


def _check_measure_fields(fed: dict[str, FieldSpec], dataset: str, measures: dict) -> None:
    seen: dict[tuple[str, str], str] = {}
    for name, spec in fed.items():
        at = f"fields.{name}"
        if spec.measure not in measures:
            _fail(
                f"{at}.measure",
                f"unknown measure {spec.measure!r} of dataset {dataset!r};"
                f" known: {', '.join(measures)}",
            )
        groups = (measures[spec.measure] or {}).get("groups", ["all"])
        if spec.group not in groups:
            _fail(
                f"{at}.group",
                f"{spec.group!r} is not a group of {spec.measure!r} (it takes {', '.join(groups)})",
            )
        if spec.type not in ("integer", "number", "percent"):
            _fail(f"{at}.type", f"a field feeding a measure is a number, not {spec.type!r}")
        other = seen.setdefault((spec.measure, spec.group), name)
        if other != name:
            _fail(
                f"{at}.measure",
                f"fields {other!r} and {name!r} both feed {spec.measure} ({spec.group})",
            )


def parse_contract(data: Any, where: str = "<contract>") -> Contract:
    """Validate one contract mapping (as read from YAML) into a `Contract`.

    Raises `ContractError` with one line: `<where>: <key path>: <problem>` per problem."""
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(f"{where}: {describe_errors(exc)}") from None
    contract._contract_file = where
    return contract


def contract_schema_text() -> str:
    """The JSON Schema of contract YAML files, as `contract.schema.json` holds it."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Contract.model_json_schema(),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def load_contract(path: str | Path) -> Contract:
    """Read and validate one contract YAML file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None
    return parse_contract(data, str(path))


def load_contracts(directory: str | Path | None = None) -> dict[str, Contract]:
    """All contracts of a folder by name; default: the package's `contracts/` and the folders of
    `CAKUPAN_CONTRACTS_DIR` (an office's own contracts).

    A contract's `name` must equal its file name without `.yml`, and be declared once.
    """
    from cakupan import config

    folders = [Path(directory)] if directory is not None else [CONTRACTS_DIR]
    if directory is None:
        folders += config.extra_contract_dirs()
    contracts: dict[str, Contract] = {}
    for folder in folders:
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
        raise NoContractMatches(
            path,
            "no source contract's path glob matches this file (contracts: "
            + ", ".join(f"{c.name} {c.path}" for c in candidates)
            + "); `cakupan sources check FILE` ranks the contracts whose fields fit its header",
        )
    if len(found) > 1:
        raise SourceFileError(
            path,
            "several source contracts match this file: "
            + ", ".join(c.name for c in found)
            + "; pass --contract",
        )
    return found[0]
