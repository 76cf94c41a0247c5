"""The person landing's checks as polars expressions (`cakupan.landing.person_frame`), on
values: date layouts with the year checked apart, workbook date cells, and the keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import polars as pl
import pytest
from cakupan.landing.person_frame import date_days, date_key, date_value
from cakupan.warehouse.person_key import Keyer


@pytest.mark.parametrize(
    ("layout", "texts"),
    [
        ("DD-MM-YYYY", ["29-02-2000", "29-02-1900", "31-04-2001", "01-01-1899", "1-1-2001"]),
        ("YYYY-MM-DD", ["2000-02-29", "1900-02-29", "2001-04-31", "2099-12-31", "2001-1-1"]),
        ("D/M/YYYY", ["29/2/2000", "29/02/1900", "31/4/2001", "1/1/2001", "01/01/2001"]),
        ("DD.YYYY.MM", ["29.2000.02", "29.1900.02", "31.2001.04", "01.2001.01", "01.2001.01.5"]),
        ("DDMMYYYY", ["29022000", "29021900", "31042001", "01012001", "0101201"]),
        ("D-M-YYYY", ["29-2-2000", "29-2-1900", "31-4-2001", "1-1-2001", "01-1-2001"]),
    ],
)
def test_a_date_is_read_in_its_layout_with_its_year_apart(layout, texts):
    """A real day of 1900-2099 in the layout (29 February only in a leap year; 1900 is not
    one); a padded part needs its two digits, an unpadded one takes one or two."""
    frame = pl.DataFrame({"k": texts})
    value = date_value(pl.col("k"), layout, date_days(layout))
    got = [None if v is None else v.isoformat() for v in frame.select(value)[:, 0].to_list()]
    unpadded = layout.startswith("D/") or layout.startswith("D-")  # `D` and `M`: one digit or two
    assert got[:3] == ["2000-02-29", None, None]
    assert got[3] == {"YYYY-MM-DD": "2099-12-31", "DD-MM-YYYY": None}.get(layout, "2001-01-01")
    assert got[4] == ("2001-01-01" if unpadded else None)


def test_a_workbook_date_cell_or_serial_day_is_a_date_whatever_the_layout():
    """`\\x01d` (a date cell), `\\x01t` (a date and time), `\\x01f` (an Excel serial day) are
    written in the layout; text stays text (trimmed; blank is no date)."""
    cells = ["\x01d1990-05-17", "\x01t1990-05-17T00:00:00", "\x01f33010", " 17-05-1990 ", "  ",
             "\x01fx", None]  # fmt: skip
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    keys = frame.select(date_key(pl.col("c"), "DD-MM-YYYY", marks=True))[:, 0].to_list()
    assert keys == ["17-05-1990", "17-05-1990", "17-05-1990", "17-05-1990", None, None, None]
    value = date_value(pl.col("k"), "DD-MM-YYYY", date_days("DD-MM-YYYY"))
    dates = pl.DataFrame({"k": keys}, schema={"k": pl.String}).select(value)[:, 0].to_list()
    assert dates[:4] == [dt.date(1990, 5, 17)] * 4


@pytest.mark.parametrize(
    "secret",
    [
        b"unit-test-person-key-0123456789abcdef",
        b"k" * 100,  # longer than a block: hashed first (RFC 2104)
        "kunci-rahasia-\u00f1-\u20ac-0123456789abcdef".encode(),  # not ASCII
    ],
)
def test_keys_are_hmac_sha256_of_the_values_and_null_stays_null(secret):
    values = pl.Series("v", ["3171234567890001", None, "3171234567890001", "6402010101900001"])
    got = pl.select(Keyer(secret).expr(pl.lit(values)))[:, 0].to_list()
    want = [hmac.new(secret, v.encode(), hashlib.sha256).hexdigest() if v else None
            for v in values.to_list()]  # fmt: skip
    assert got == want


def test_the_key_is_not_in_the_keying_expression_nor_its_errors():
    secret = "unit-test-person-key-never-shown-0123456789"
    expr = Keyer(secret.encode()).expr(pl.col("v"))
    frame = pl.DataFrame({"v": [1]}).lazy().select(expr)
    assert (
        secret not in str(expr)
        and secret not in frame.explain()
        and secret not in repr(Keyer(secret.encode()))
    )
    with pytest.raises(pl.exceptions.PolarsError) as failed:  # a number is no text to key
        frame.collect()
    assert "hmac_sha256" in str(failed.value) and secret not in str(failed.value)


def test_the_nik_rule_agrees_with_the_oracle_on_every_register_row(tmp_path):
    """The synthetic kabupaten's register (its flawed NIKs included) checked by the product's
    polars rule and by the one-NIK-at-a-time oracle (`tests/unit/nik_rule.py`): the same
    verdict for every row."""
    from cakupan.demo.persons import file_names, generate_persons
    from cakupan.landing.person_frame import Column, Plan, check, csv_batches
    from cakupan.landing.persons import _lookups
    from cakupan.sources.contracts import load_contracts
    from nik_rule import nik_problem

    generate_persons(tmp_path, residents=3000)
    path = tmp_path / file_names("2025-06")["register"]
    contract = load_contracts()["dukcapil_register"]
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    columns = {}
    for spec in contract.fields.values():
        found = [i for i, h in enumerate(header) if h in spec.all_aliases()]
        if found and spec.person:
            columns[spec.person] = Column(spec.person, f"c{found[0] + 1}", header[found[0]])
    plan = Plan(contract, columns, _lookups(), Keyer(b"k" * 32))
    batches = csv_batches(path, skip_lines=1, width=len(header), delimiter=",")
    rows = pl.concat([check(b, plan) for b in batches])
    assert rows.height == len(path.read_text(encoding="utf-8").splitlines()) - 1
    verdicts = {"valid": 0, "invalid": 0, "missing": 0}
    for nik, sex, born, status in rows.select("nik", "sex", "birth_date", "nik_status").iter_rows():
        problem = None if nik is None else nik_problem(nik.strip(), sex, born)
        want = "missing" if nik is None else ("valid" if problem is None else "invalid")
        assert status.split(":")[0] == want, (status, problem)
        verdicts[want] += 1
    assert verdicts["valid"] > 2000 and verdicts["invalid"] > 0 and verdicts["missing"] > 0


def test_a_sheet_sends_only_the_record_columns_its_contract_can_fill():
    """A register has no card, segment or facility: those columns are not in its COPY (they
    stay null); a BPJS master's card and its key are."""
    from cakupan.landing.person_frame import RECORD_COLUMNS, Column, Plan
    from cakupan.landing.persons import _lookups
    from cakupan.sources.contracts import load_contracts

    def sent(name: str) -> tuple[str, ...]:
        contract = load_contracts()[name]
        columns = {spec.person: Column(spec.person, f"c{i}", spec.person)
                   for i, spec in enumerate(contract.fields.values()) if spec.person}  # fmt: skip
        return Plan(contract, columns, _lookups(), Keyer(b"k" * 32)).sent_columns()

    register, master = sent("dukcapil_register"), sent("bpjs_membership_master")
    assert {"card_no", "card_key", "segment", "facility", "desil"}.isdisjoint(register)
    assert {"district_code", "desa_code", "nik", "nik_key", "nik_status", "kk_key"} <= set(register)
    assert {"card_no", "card_key", "segment", "active"} <= set(master)
    assert [c for c in RECORD_COLUMNS if c in register] == list(register)  # in COPY order
