"""Contracts feed canonical measures: the `feeds` section and each field's measure and group,
checked against reference/measures.yml with errors that name the key."""

from __future__ import annotations

import copy

import pytest
from cakupan.sources.contracts import load_contracts, measure_catalogue, parse_contract
from cakupan.sources.errors import ContractError

BRANCH = {
    "name": "bpjs_branch_example",
    "publisher": "bpjs_kesehatan",
    "kind": "csv",
    "path": "branch/*.csv",
    "fields": {
        "kabupaten": {"required": True},
        "peserta": {"type": "integer", "required": True, "measure": "participants"},
        "aktif": {"type": "integer", "measure": "participants_active"},
        "cakupan": {"type": "percent", "measure": "coverage_pct_published"},
    },
    "period": {"from": "filename", "pattern": r"_(\d{4}-\d{2})\.csv$"},
    "region": {"field": "kabupaten", "system": "name"},
    "feeds": {"dataset": "jkn_membership", "grain": "month", "coverage": "partial"},
    "raw_table": "raw.bpjs_branch_example",
}


def _with(**changes):
    data = copy.deepcopy(BRANCH)
    for path, value in changes.items():
        target = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return data


def test_a_branch_layout_feeds_known_measures():
    contract = parse_contract(BRANCH)
    assert contract.feeds.dataset == "jkn_membership"
    assert contract.feeds.coverage == "partial"
    assert contract.source_publisher == "bpjs_kesehatan"
    assert {n: (f.measure, f.group) for n, f in contract.measure_fields().items()} == {
        "peserta": ("participants", "all"),
        "aktif": ("participants_active", "all"),
        "cakupan": ("coverage_pct_published", "all"),
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"feeds__dataset": "jkn"}, "feeds.dataset: unknown dataset 'jkn'"),
        (
            {"fields__peserta__measure": "peserta_total"},
            "fields.peserta.measure: unknown measure 'peserta_total' of dataset 'jkn_membership'",
        ),
        (
            {"fields__peserta__group": "sex_male"},
            "fields.peserta.group: 'sex_male' is not a group of 'participants'",
        ),
        ({"feeds__grain": "year"}, "feeds.grain: 'year' does not fit dataset 'jkn_membership'"),
        (
            {"fields__aktif__measure": "participants"},
            "fields.aktif.measure: fields 'peserta' and 'aktif' both feed participants (all)",
        ),
        (
            {"fields__kabupaten__measure": "participants_inactive"},
            "fields.kabupaten.type: a field feeding a measure is a number, not 'text'",
        ),
        ({"region": None}, "feeds.coverage: a partial source needs `region`"),
        ({"feeds": None}, "fields.peserta.measure: a field feeds a measure only under `feeds:`"),
        ({"feeds__detail": "nope"}, "feeds.detail: 'nope' is not a declared field"),
        ({"feeds__detail": "kabupaten"}, "feeds.detail: 'kabupaten' must be one of the contract's"),
        ({"period": None}, "feeds: a source feeding measures needs a `period`"),
    ],
)
def test_feeds_errors_name_the_key(changes, message):
    with pytest.raises(ContractError) as err:
        parse_contract(_with(**changes), "branch.yml")
    assert f"branch.yml: {message}" in str(err.value)


def test_every_project_contract_that_holds_figures_feeds_measures():
    contracts = load_contracts()
    # reference lists, and yearly participant counts no canonical measure takes
    reference = {
        "kemendagri_regions",
        "kemendagri_region_history",
        "bps_region_bridge",
        "satudata_kaltim_jkn_participants",
    }
    for name, contract in contracts.items():
        if name in reference:
            assert contract.feeds is None, name
        elif contract.persons is not None:  # person-level: keyed rows, no measures
            assert contract.feeds is None and contract.raw_table == "restricted.person_records"
        else:
            assert contract.feeds is not None, name
            assert contract.feeds.dataset in measure_catalogue()
            assert contract.measure_fields(), name
    assert contracts["bpjs_membership"].feeds.coverage == "national"
    assert contracts["bpjs_branch_pekalongan"].feeds.coverage == "partial"
    assert contracts["bps_population"].feeds.year_field == "year"
    assert contracts["dukcapil_residents"].feeds.grain == "semester"
