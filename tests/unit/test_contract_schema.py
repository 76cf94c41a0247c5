"""The JSON Schema of contract YAML files: committed, current, and agreeing with the model."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from cakupan.sources import cli
from cakupan.sources.contracts import (
    CONTRACTS_DIR,
    SCHEMA_FILE,
    contract_schema_text,
    parse_contract,
)
from cakupan.sources.errors import ContractError

MODELINE = "# yaml-language-server: $schema=contract.schema.json"
CONTRACT_FILES = sorted(CONTRACTS_DIR.glob("*.yml"))

BASE = {
    "name": "x_rows",
    "kind": "csv",
    "path": "x/*.csv",
    "raw_table": "raw.x_rows",
    "fields": {"region": {"aliases": ["Wilayah"], "required": True}, "value": "Nilai"},
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_committed_schema_is_current():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == contract_schema_text(), (
        "the contract model changed: run"
        " `cakupan sources schema --out include/cakupan/contracts/contract.schema.json`"
    )


def test_schema_command_prints_and_writes_it(tmp_path, capsys):
    assert cli.main(["schema"]) == 0
    assert capsys.readouterr().out == contract_schema_text()
    out = tmp_path / "contract.schema.json"
    assert cli.main(["schema", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == contract_schema_text()


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.name)
def test_packaged_contract_names_and_passes_the_schema(path, validator):
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == MODELINE
    validator.validate(yaml.safe_load(text))


@pytest.mark.parametrize(
    "change",
    [
        {"colour": "red"},
        {"kind": "pdf"},
        {"name": "Bad Name"},
        {"raw_table": "staging.x"},
        {"fields": {"Region": {"required": True}}},
        {"fields": {"a": {"type": "money", "required": True}}},
        {"fields": {"a": {"required": True, "alias": ["A"]}}},
        {"header": {"rows": 3}},
        {"period": {"from": "calendar"}},
        {"period": {"from": "cell", "cell": "2A"}},
        {"region": {"field": "region"}},
        {"limits": {"max_cells": 0}},
        {"delimiter": ";;"},
        {"kind": "bps_api", "path": None, "fields": None},
    ],
)
def test_schema_and_model_refuse_alike(change, validator):
    data = {k: v for k, v in dict(BASE, **change).items() if v is not None}
    with pytest.raises(ContractError):
        parse_contract(data, "x.yml")
    assert list(validator.iter_errors(data))


def test_schema_and_model_accept_alike(validator):
    for data in [
        BASE,
        dict(BASE, delimiter="tab", thousands=".", decimal="comma", key="region"),
        {"name": "ckan_x", "kind": "ckan_datastore", "connection": "ckan", "raw_table": "raw.x"},
    ]:
        parse_contract(data)
        validator.validate(data)
