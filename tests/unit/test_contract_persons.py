"""Person-level contracts (`persons:`): each field's person attribute, value maps, date layouts,
and the clear errors of a contract that cannot work."""

from __future__ import annotations

import copy

import pytest
from cakupan.sources.contracts import PERSON_TABLE, load_contracts, parse_contract
from cakupan.sources.errors import ContractError

REGISTER = {
    "name": "x_register",
    "kind": "csv",
    "path": "persons/x_*.csv",
    "persons": {"dataset": "register"},
    "fields": {
        "nik": {"aliases": ["NIK"], "person": "nik", "required": True},
        "full_name": {"aliases": ["NAMA_LGKP"], "person": "full_name", "required": True},
        "desa_code": {"aliases": ["KODE_DESA"], "person": "desa_code"},
        "sex": {"aliases": ["JENIS_KLMIN"], "person": "sex", "values": {"LAKI-LAKI": "L"}},
        "birth_date": {"aliases": ["TGL_LHR"], "person": "birth_date", "format": "DD-MM-YYYY"},
    },
    "period": {"from": "filename", "pattern": r"_(\d{4}-\d{2})\.csv$"},
}


def _with(path: str, value) -> dict:
    data = copy.deepcopy(REGISTER)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is None:
        node.pop(last)
    else:
        node[last] = value
    return data


def test_a_register_contract_lands_in_the_person_table():
    contract = parse_contract(REGISTER)
    assert contract.raw_table == PERSON_TABLE
    assert contract.persons.dataset == "register"
    assert list(contract.person_fields()) == ["nik", "full_name", "desa_code", "sex", "birth_date"]
    assert contract.person_fields()["birth_date"].date_layout() == "DD-MM-YYYY"


def test_the_four_person_contracts_are_packaged():
    contracts = load_contracts()
    datasets = {
        name: contracts[name].persons.dataset
        for name in ("dukcapil_register", "bpjs_membership_master", "dtsen_individuals", "wbp_list")
    }
    assert datasets == {
        "dukcapil_register": "register",
        "bpjs_membership_master": "membership",
        "dtsen_individuals": "dtsen",
        "wbp_list": "wbp",
    }
    sex = contracts["dukcapil_register"].person_fields()["sex"].values
    assert sex["LAKI-LAKI"] == "L" and sex["PEREMPUAN"] == "P"
    active = contracts["bpjs_membership_master"].person_fields()["active"].values
    assert active["NON AKTIF"] is False and active["AKTIF"] is True


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "fields.nik",
            None,
            "a register source needs a field for each of nik, full_name, desa_code (missing: nik)",
        ),
        ("fields.desa_code", None, "(missing: desa_code)"),
        (
            "fields.nik.person",
            ["nik", "kk"],
            "fields.nik.person: a field carries one person attribute, not several",
        ),
        ("fields.sex.person", "nik", "fields.sex.person: fields 'nik' and 'sex' both carry nik"),
        ("fields.sex.values", {"PRIA": "M"}, "fields.sex.values.PRIA: sex takes L, P, not 'M'"),
        ("fields.birth_date.format", "DD-MM-YY", "is not a date layout such as DD-MM-YYYY"),
        ("fields.sex.format", "DD-MM-YYYY", "fields.sex.format: only for the dates"),
        ("fields.desa_code.person", "desil", "desil is for a dtsen source, not register"),
        ("fields.desa_code.person", "alive", "alive needs its map to true/false"),
        ("fields.nik.person", None, "fields.nik.person: every field of a person-level contract"),
        ("fields.nik.type", "integer", "a person attribute's type is implied (nik)"),
        ("raw_table", "raw.x", "raw_table: not for a person-level contract"),
        ("period", None, "period: a person-level file needs its period"),
        ("persons.dataset", "census", "persons.dataset: Input should be 'register'"),
        ("persons", None, "fields.nik.person: a field carries a person attribute only under"),
    ],
)
def test_person_contract_errors_are_clear(path, value, message):
    with pytest.raises(ContractError) as err:
        parse_contract(_with(path, value), "x_register.yml")
    assert message in str(err.value)


def test_sources_check_of_a_person_file_checks_its_layout_and_shows_no_row(tmp_path, capsys):
    from cakupan.sources import cli

    header = "NIK,NO_KK,NAMA_LGKP,JENIS_KLMIN,TGL_LHR,KODE_DESA"
    row = "6402014507900001,6402010101200001,SITI CONTOH,PEREMPUAN,05-07-1990,64.02.01.2001"
    path = tmp_path / "persons" / "dukcapil_register_6402_2025-06.csv"
    path.parent.mkdir()
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    assert cli.main(["check", str(path), "--contract", "dukcapil_register"]) == 0
    out = capsys.readouterr().out
    assert "period:   2025-06" in out
    assert "persons:  dataset register; a load replaces kab/kota 64.02 of its period" in out
    assert "rows:     not checked here" in out
    assert "6402014507900001" not in out and "SITI" not in out and "05-07-1990" not in out
    wrong = path.with_name("dukcapil_register_2025-06.csv")  # no kab/kota in its name
    path.rename(wrong)
    assert cli.main(["check", str(wrong), "--contract", "dukcapil_register"]) == 2
    assert "no kab/kota in the file name" in capsys.readouterr().err
