"""Source contracts as YAML data: the demo contracts, validation, matching files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cakupan.sources.contracts import (
    CONTRACTS_DIR,
    Contract,
    load_contract,
    load_contracts,
    match_contract,
    parse_contract,
)
from cakupan.sources.errors import ContractError, NoContractMatches, SourceFileError

SEGMENTS = ["pbi_apbn", "pbi_apbd", "ppu_pn", "ppu_bu", "pbpu", "bp"]


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    return load_contracts()


def test_demo_contracts_are_declared(contracts):
    for name, raw in [
        ("bpjs_membership", "raw.bpjs_membership"),
        ("dukcapil_residents", "raw.dukcapil_residents"),
        ("kemendagri_regions", "raw.kemendagri_regions"),
        ("bps_region_bridge", "raw.bps_region_bridge"),
        ("bpjs_branch_pekalongan", "raw.bpjs_branch_pekalongan"),
    ]:
        assert contracts[name].raw_table == raw
        assert (CONTRACTS_DIR / f"{name}.yml").is_file()


def test_bpjs_membership_fields(contracts):
    c = contracts["bpjs_membership"]
    expected = ["province_name", "region_name"]
    for seg in SEGMENTS:
        expected += [f"{seg}_active", f"{seg}_inactive"]
    expected += ["participants_total", "residents_published", "coverage_pct_published"]
    assert list(c.fields) == expected
    assert c.field_types()["coverage_pct_published"] == "percent"
    assert c.field_types()["pbpu_inactive"] == "integer"
    # both label generations are aliases
    assert "PBI APBN / Aktif" in c.fields["pbi_apbn_active"].aliases
    assert "PBI JK / Aktif" in c.fields["pbi_apbn_active"].aliases
    assert "Didaftarkan Pemda / Non Aktif" in c.fields["pbi_apbd_inactive"].aliases
    assert "PBPU / Mandiri / Aktif" in c.fields["pbpu_active"].aliases
    assert "Bukan Pekerja / Non Aktif" in c.fields["bp_inactive"].aliases
    assert c.header.rows == 2
    assert (c.period.source, c.region.system, c.region.province_field) == (
        "cell",
        "name",
        "province_name",
    )


def test_dukcapil_and_codes(contracts):
    d = contracts["dukcapil_residents"]
    assert (d.kind, d.period.source, d.region.system) == ("csv", "filename", "kemendagri")
    assert set(d.field_types()) >= {"male", "female", "residents"}
    k = contracts["kemendagri_regions"]
    assert k.period is None and k.region.field == "code"
    b = contracts["bps_region_bridge"]
    assert b.region.field == "kemendagri_code" and b.region.system == "kemendagri"


def test_every_packaged_contract_is_valid(contracts):
    for name, contract in contracts.items():
        assert contract.name == name
        assert contract.raw_table.startswith("raw.") or (
            contract.persons is not None and contract.raw_table == "restricted.person_records"
        )


BASE = {
    "name": "x_rows",
    "kind": "csv",
    "path": "x/*.csv",
    "raw_table": "raw.x_rows",
    "fields": {
        "region": {"aliases": ["Wilayah"], "required": True},
        "value": {"aliases": "Nilai", "type": "number"},
    },
}


def test_minimal_contract_and_defaults():
    c = parse_contract(BASE)
    assert c.fields["value"].aliases == ("Nilai",)
    assert c.fields["value"].all_aliases() == ("Nilai", "value")
    assert (c.decimal, c.encoding, c.delimiter, c.limits.max_cells) == (
        "comma",
        "auto",
        "auto",
        20_000_000,
    )
    assert (c.header.rows, c.header.max_search_rows, c.sheets, c.key) == (1, 30, (), ())
    assert c.required_fields() == ["region"]


def test_a_count_is_bounded_by_its_max_or_the_default():
    from cakupan.sources.contracts import DEFAULT_MAX_COUNT

    c = parse_contract(
        {
            "name": "counts",
            "kind": "csv",
            "path": "*.csv",
            "raw_table": "raw.counts",
            "fields": {
                "district": {"required": True},
                "residents": {"type": "integer", "max": 20_000_000},
                "participants": {"type": "integer"},
            },
        }
    )
    assert c.fields["residents"].count_bound() == 20_000_000
    assert c.fields["participants"].count_bound() == DEFAULT_MAX_COUNT == 500_000_000
    assert c.limits.max_line_bytes == 131_072


def test_api_kinds_are_accepted():
    c = parse_contract(
        {
            "name": "bps_api_population",
            "kind": "bps_api",
            "url": "https://webapi.bps.go.id/v1/api/list",
            "params": {"var": 12},
            "raw_table": "raw.bps_api_population",
        }
    )
    assert not c.is_file and c.params == {"var": 12}
    c = parse_contract(
        {
            "name": "ckan_x",
            "kind": "ckan_datastore",
            "connection": "ckan",
            "raw_table": "raw.ckan_x",
        }
    )
    assert c.connection == "ckan"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "pdf"}, "kind: Input should be 'xlsx', 'xls', 'ods', 'csv', 'bps_api' or"),
        ({"raw_table": "staging.x"}, "raw_table: 'staging.x' must be raw.<source>_<entity>"),
        ({"path": None}, "path: is required"),
        ({"path": "../x/*.csv"}, "path: must be a glob relative to the sources folder"),
        ({"colour": "red"}, "x.yml: unknown key(s) 'colour'; allowed: connection, decimal,"),
        (
            {"fields": {"a": {"type": "money", "required": True}}},
            "fields.a.type: Input should be 'text', 'integer', 'number', 'percent',",
        ),
        ({"fields": {"a": {"aliases": ["A"]}}}, "fields: at least one field must be required"),
        ({"fields": {"a": {"required": True, "alias": ["A"]}}}, "fields.a: unknown key(s) 'alias'"),
        ({"period": {"from": "filename"}}, "period.pattern: is required"),
        (
            {"period": {"from": "filename", "pattern": "(a)(b)"}},
            "period.pattern: must have exactly 1 capturing group (has 2)",
        ),
        ({"period": {"from": "column", "field": "nope"}}, "period.field: 'nope' is not a"),
        ({"period": {"from": "cell", "cell": "2A"}}, "period.cell: '2A' is not a cell"),
        ({"period": {"from": "calendar"}}, "period.from: Input should be 'filename', 'cell'"),
        ({"region": {"field": "region", "system": "iso"}}, "region.system: Input should be"),
        ({"region": {"field": "wilayah", "system": "name"}}, "region.field: 'wilayah' is not"),
        (
            {"skip_rows": [{"field": "region", "pattern": "("}]},
            "skip_rows[0].pattern: not a valid regular expression",
        ),
        ({"key": ["nope"]}, "key[0]: 'nope' is not a declared field"),
        ({"decimal": "dot"}, "decimal: Input should be 'comma' or 'point'"),
        ({"thousands": ","}, "thousands: cannot be the decimal mark"),
        ({"encoding": "klingon"}, "encoding: unknown encoding 'klingon'"),
        ({"delimiter": ";;"}, "delimiter: must be auto, tab or one character"),
        ({"limits": {"max_cells": 0}}, "limits.max_cells: Input should be greater than or equal"),
        ({"limits": {"max_line_bytes": 0}}, "limits.max_line_bytes: Input should be greater"),
        (
            {"fields": {"a": {"required": True, "max": 10}}},
            "fields.a.max: only for integer fields (counts); this field is text",
        ),
        (
            {"fields": {"a": {"type": "integer", "required": True, "max": -1}}},
            "fields.a.max: Input should be greater than or equal to 0",
        ),
        (
            {"fields": {"a": {"type": "percent", "required": True, "max": 100}}},
            "fields.a.max: only for integer fields (counts); this field is percent",
        ),
        ({"header": {"rows": 3}}, "header.rows: Input should be 1 or 2"),
        ({"sheets": ["Data"]}, "sheets: a csv file has no sheets"),
        ({"url": "https://example.org"}, "url: url, params and connection are for API kinds"),
        ({"name": "Bad Name"}, "name: 'Bad Name' must be lower case"),
        ({"path": "/data/*.csv"}, "path: must be a glob relative to the sources folder"),
        ({"fields": {"Region": {"required": True}}}, "fields.Region: 'Region' must be lower case"),
        ({"fields": {"a": {"required": "yes"}}}, "fields.a.required: Input should be a valid bool"),
        ({"fields": {"a": {"aliases": ["A", 3]}}}, "fields.a.aliases[1]: Input should be a valid"),
        ({"fields": {"a": 3}}, "fields.a: Input should be a mapping"),
        ({"fields": {}}, "fields: a file contract needs at least one field"),
        ({"header": {"max_search_rows": True}}, "header.max_search_rows: Input should be a valid"),
        ({"header": {"max_search_rows": 1001}}, "header.max_search_rows: Input should be less"),
        ({"period": {"from": "column"}}, "period.field: is required for from: column"),
        (
            {"period": {"from": "cell", "field": "value"}},
            "period.field: only for from: column (this is from: cell)",
        ),
        (
            {"period": {"from": "column", "field": "value"}},
            "period.field: the period column must be of type month, date or text",
        ),
        ({"period": {"from": "filename", "pattern": "(x)", "cell": "A1"}}, "period.cell: only for"),
        (
            {"region": {"field": "region", "system": "name", "province_field": "prov"}},
            "region.province_field: 'prov' is not a declared field",
        ),
        ({"skip_rows": [{"field": "nope", "pattern": "x"}]}, "skip_rows[0].field: 'nope' is not"),
        ({"skip_rows": "total"}, "skip_rows: Input should be a list"),
        ({"thousands": "ab"}, "thousands: must be one separator character"),
        ({"decimal": "point", "thousands": "."}, "thousands: cannot be the decimal mark"),
        ({"encoding": 8}, "encoding: Input should be a valid string"),
        ({"params": {"var": 1}}, "url: url, params and connection are for API kinds"),
    ],
)
def test_invalid_contracts_name_the_key(change, message):
    data = dict(BASE, **change)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ContractError) as info:
        parse_contract(data, "x.yml")
    assert str(info.value).startswith("x.yml: ")
    assert message in str(info.value)


def test_api_kind_needs_url_or_connection():
    with pytest.raises(ContractError, match="a bps_api contract needs url or connection"):
        parse_contract({"name": "b", "kind": "bps_api", "raw_table": "raw.b"})


def test_load_contracts_checks_names(tmp_path: Path):
    (tmp_path / "x_rows.yml").write_text(yaml.safe_dump(BASE))
    assert list(load_contracts(tmp_path)) == ["x_rows"]
    (tmp_path / "other.yml").write_text(yaml.safe_dump(BASE))
    with pytest.raises(ContractError, match="must equal the file name 'other'"):
        load_contracts(tmp_path)
    (tmp_path / "other.yml").write_text("name: [unclosed")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(tmp_path / "other.yml")


def test_match_contract(contracts, tmp_path: Path):
    assert (
        match_contract(Path("bpjs/rekap_peserta_jkn_2022_05.xlsx"), contracts).name
        == "bpjs_membership"
    )
    # a file outside its folder still matches by name
    assert (
        match_contract(tmp_path / "penduduk_kabkota_2023_s1.csv", contracts).name
        == "dukcapil_residents"
    )
    sources = tmp_path / "sources"
    (sources / "kemendagri").mkdir(parents=True)
    path = sources / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv"
    assert match_contract(path, contracts, sources_dir=sources).name == "kemendagri_regions"
    with pytest.raises(NoContractMatches, match="no source contract's path glob matches") as info:
        match_contract(Path("notes.txt"), contracts)
    assert str(info.value).endswith(
        "; `cakupan sources check FILE` ranks the contracts whose fields fit its header"
    )
    twins = [parse_contract(dict(BASE, name="a")), parse_contract(dict(BASE, name="b"))]
    with pytest.raises(SourceFileError, match="several source contracts match this file: a, b"):
        match_contract(Path("x/1.csv"), twins)


def test_shorthands_and_null_keys():
    c = parse_contract(
        dict(
            BASE,
            fields={"region": {"required": True}, "a": ["A", "Aa"], "b": "B", "c": None},
            header=None,
            key="region",
            sheets=None,
            delimiter="tab",
        )
    )
    assert {n: f.aliases for n, f in c.fields.items()} == {
        "region": (),
        "a": ("A", "Aa"),
        "b": ("B",),
        "c": (),
    }
    assert [f.name for f in c.fields.values()] == ["region", "a", "b", "c"]
    assert (c.header.rows, c.key, c.sheets, c.delimiter) == (1, ("region",), (), "\t")


def test_every_problem_on_one_line_with_the_file():
    with pytest.raises(ContractError) as info:
        parse_contract(
            dict(BASE, decimal="dot", fields={"a": {"type": "money", "required": True}}),
            "contracts/x.yml",
        )
    message = str(info.value)
    assert "\n" not in message and "pydantic" not in message
    assert message.startswith("contracts/x.yml: fields.a.type: Input should be 'text',")
    assert "; decimal: Input should be 'comma' or 'point'" in message


def test_contract_is_frozen_and_knows_its_file():
    c = parse_contract(BASE, "x.yml")
    assert c.contract_file == "x.yml"
    with pytest.raises(ValueError):
        c.name = "other"  # type: ignore[misc]
