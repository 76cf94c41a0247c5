"""The pure parts of API sources: the period asked for, credentials, contract rules."""

from __future__ import annotations

import datetime as dt

import pytest
from cakupan.parsing.periods import parse_period
from cakupan.sources.api import (
    ApiCredentials,
    ApiSourceError,
    credentials_from_env,
    credentials_from_fields,
    parse_request_period,
    plan_request,
    uses_period,
)
from cakupan.sources.contracts import load_contracts, parse_contract
from cakupan.sources.errors import ContractError


def test_a_year_or_a_month_is_a_request_period():
    year = parse_request_period("2024")
    assert (year.text, year.first, year.grain, year.year) == (
        "2024",
        dt.date(2024, 1, 1),
        "year",
        2024,
    )
    month = parse_request_period("2024-3")
    assert (month.text, month.first, month.grain) == ("2024-03", dt.date(2024, 3, 1), "month")
    for bad in ("24", "2024-13", "1850", "2024/03", "tahun"):
        with pytest.raises(ValueError, match="expected a year \\(2024\\) or a month"):
            parse_request_period(bad)


def test_a_year_is_a_period_of_a_cell_or_file_name():
    assert parse_period("2024") == dt.date(2024, 1, 1)
    assert parse_period("Tahun 2023") == dt.date(2023, 1, 1)
    assert parse_period(2022) == dt.date(2022, 1, 1)
    assert parse_period("2023_s2") == dt.date(2023, 7, 1)  # semesters as before
    assert parse_period("202401") == dt.date(2024, 1, 1)  # a month, not a year


def test_credentials_from_an_airflow_connection_variable():
    env = {
        "AIRFLOW_CONN_BPS_WEBAPI": '{"conn_type": "http", "host": "https://webapi.bps.go.id/v1/api",'
        ' "password": "k3y-value"}'
    }
    creds = credentials_from_env("bps_webapi", env)
    assert creds == ApiCredentials(url="https://webapi.bps.go.id/v1/api", key="k3y-value")
    assert "k3y-value" not in repr(creds)
    uri = {"AIRFLOW_CONN_BPS_WEBAPI": "https://:k%2Fy@mirror.example.go.id:8443/v1/api"}
    assert credentials_from_env("bps_webapi", uri) == ApiCredentials(
        url="https://mirror.example.go.id:8443/v1/api", key="k/y"
    )
    assert credentials_from_env("bps_webapi", {}) == ApiCredentials()
    assert credentials_from_env(None, env) == ApiCredentials()
    with pytest.raises(ApiSourceError, match="not valid JSON \\(its text is not shown\\)"):
        credentials_from_env("bps_webapi", {"AIRFLOW_CONN_BPS_WEBAPI": '{"password": "k3y'})


def test_credentials_from_connection_fields():
    assert credentials_from_fields("http", "127.0.0.1", 8080, "v1/api", "k") == ApiCredentials(
        url="http://127.0.0.1:8080/v1/api", key="k"
    )
    assert (
        credentials_from_fields("generic", "data.example.go.id").url == "https://data.example.go.id"
    )
    assert credentials_from_fields(password="") == ApiCredentials()


def test_which_requests_are_for_one_period():
    contracts = load_contracts()
    assert uses_period(contracts["bps_population_kaltim_api"])
    assert not uses_period(contracts["satudata_kaltim_jkn_participants"])
    ckan = parse_contract(
        {
            "name": "c",
            "kind": "ckan_datastore",
            "url": "https://data.example.go.id",
            "params": {"resource_id": "r", "filters": {"tahun": "{year}"}},
            "fields": {"v": {"required": True}},
            "raw_table": "raw.c",
        }
    )
    assert uses_period(ckan)
    planned = plan_request(ckan, parse_request_period("2023"), ApiCredentials())
    assert planned.params == {"resource_id": "r", "filters": {"tahun": 2023}}
    assert planned.location == (
        "https://data.example.go.id/api/3/action/datastore_search?resource_id=r"
        "&filters=%7B%22tahun%22%3A2023%7D"
    )
    with pytest.raises(ApiSourceError, match="c: its request is for one period: pass --period"):
        plan_request(ckan, None, ApiCredentials())


def test_the_bps_request_asks_for_the_years_tahun_code_without_showing_the_key():
    contract = load_contracts()["bps_population_kaltim_api"]
    planned = plan_request(contract, parse_request_period("2024"), ApiCredentials(key="k3y-value"))
    assert planned.endpoint == "https://webapi.bps.go.id/v1/api/list/model/data"
    assert planned.params == {"lang": "ind", "domain": "6400", "var": "1975", "th": "124"}
    assert "k3y" not in planned.location
    with pytest.raises(ApiSourceError, match="asked for by year: --period 2024, not 2024-03"):
        plan_request(contract, parse_request_period("2024-03"), ApiCredentials(key="k"))
    with pytest.raises(
        ApiSourceError, match="no BPS WebAPI key: set the Airflow connection 'bps_webapi'"
    ):
        plan_request(contract, parse_request_period("2024"), ApiCredentials())


@pytest.mark.parametrize(
    ("kind", "period", "says"),
    [
        ("csv", {"from": "request"}, "period.from: request is for API kinds"),
        ("bps_api", {"from": "filename", "pattern": "(\\d{4})"}, "an API source has no filename"),
        ("bps_api", {"from": "request", "pattern": "(\\d{4})"}, "not for from: request"),
    ],
)
def test_request_periods_are_for_api_kinds(kind, period, says):
    data = {
        "name": "x",
        "kind": kind,
        "period": period,
        "fields": {"v": {"required": True}},
        "raw_table": "raw.x",
    }
    data.update({"path": "x/*.csv"} if kind == "csv" else {"url": "https://example.go.id"})
    with pytest.raises(ContractError, match=says):
        parse_contract(data)
