"""BPS WebAPI client: key concatenation, availability, errors, masking (real local HTTP server)."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest
from cakupan.sources.bps import (
    BpsAmbiguousKey,
    BpsClient,
    BpsRecord,
    bps_data_url,
    fetch_bps_data,
    parse_bps_data,
)
from cakupan.sources.http import ApiClient, ApiError, ApiNoData, RetryPolicy
from pytest_httpserver import HTTPServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"
SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DATA_PATH = "/v1/api/list/model/data/lang/ind/domain/6400/var/1975/"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def by(records: list[BpsRecord], **match) -> BpsRecord:
    found = [r for r in records if all(getattr(r, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


@pytest.fixture
def api():
    """The run's ApiClient: 3 attempts, waits recorded in `api.waits` instead of slept."""
    waits: list[float] = []
    with ApiClient(retry=RetryPolicy(max_attempts=3, jitter=0), sleep=waits.append) as api:
        api.waits = waits
        yield api


@pytest.fixture
def client(httpserver: HTTPServer, api: ApiClient) -> BpsClient:
    return BpsClient(SECRET, http=api, base_url=httpserver.url_for("/v1/api"))


# --------------------------------------------------------------------------- URL


def test_data_url_puts_parameters_and_key_in_the_path():
    assert bps_data_url("6400", 1975, SECRET) == (
        "https://webapi.bps.go.id/v1/api/list/model/data/lang/ind/domain/6400/var/1975/"
        f"key/{SECRET}/"
    )
    assert bps_data_url("6400", "1975", "k/y", th="123;124", lang="eng") == (
        "https://webapi.bps.go.id/v1/api/list/model/data/lang/eng/domain/6400/var/1975/"
        "th/123;124/key/k%2Fy/"
    )
    with pytest.raises(ValueError, match="4 digits"):
        bps_data_url("64", 1975, SECRET)
    with pytest.raises(ValueError, match="tahun code"):
        bps_data_url("6400", 1975, SECRET, th="2023/x")


def test_client_repr_and_url_hide_the_key():
    bps = BpsClient(SECRET)
    assert SECRET not in repr(bps)
    assert bps.url("6400", 1975, th=124) == (
        "https://webapi.bps.go.id/v1/api/list/model/data/lang/ind/domain/6400/var/1975/"
        "th/124/key/***/"
    )


# --------------------------------------------------------------------------- parsing


def test_population_by_kabkota_of_kalimantan_timur():
    records = parse_bps_data(load("bps_population_kaltim_6400_var1975.json"))
    assert len(records) == 22  # (10 kab/kota + the province row 9999) x 2 years
    kukar = by(records, vervar_code="6403", year=2023)
    assert kukar == BpsRecord(
        vervar_code="6403",
        vervar_label="Kutai Kartanegara",
        var_code="1975",
        turvar_code="0",
        turvar_label="Tidak ada",
        year=2023,
        turtahun_code="0",
        value=752340,
        turtahun_label="Tahun",
        tahun_code="123",
        var_label="Jumlah Penduduk Menurut Kabupaten/Kota di Provinsi Kalimantan Timur",
        unit="Jiwa",
    )
    assert by(records, vervar_code="6474", year=2024).value == 188237
    assert by(records, vervar_code="6411", year=2024).vervar_label == "Mahakam Ulu"
    assert {r.year for r in records} == {2023, 2024}
    kabkota = sorted({r.vervar_code for r in records} - {"9999"})
    assert kabkota == [
        "6401", "6402", "6403", "6404", "6405", "6409", "6411", "6471", "6472", "6474",
    ]  # fmt: skip
    for year, total in ((2023, 3945186), (2024, 4006095)):
        assert by(records, vervar_code="9999", year=year).value == total
        assert sum(r.value for r in records if r.year == year and r.vervar_code != "9999") == total


def test_keys_of_mixed_code_lengths_are_looked_up_not_split():
    payload = load("bps_age_sex_6400_var45_1999_2000.json")
    records = parse_bps_data(payload)
    assert len(records) == 48  # 12 age groups x 2 sexes x 2 years
    # vervar "1" with tahun 100 and vervar "10" with tahun 99 give keys of the same length
    # (8 characters), so no fixed-width split can tell them apart; exact lookup can.
    assert len("1" + "45" + "1" + "100" + "0") == len("10" + "45" + "1" + "99" + "0") == 8
    assert payload["datacontent"]["14511000"] == 62.6
    assert payload["datacontent"]["10451990"] == 142.1
    a = by(records, vervar_code="1", turvar_code="1", year=2000)
    assert (a.vervar_label, a.turvar_label, a.tahun_code, a.value) == (
        "0-4",
        "Laki-laki",
        "100",
        62.6,
    )
    b = by(records, vervar_code="10", turvar_code="1", year=1999)
    assert (b.vervar_label, b.tahun_code, b.value) == ("45-49", "99", 142.1)
    c = by(records, vervar_code="10", turvar_code="1", year=2000)
    assert (c.tahun_code, c.value) == ("100", 104.1)
    d = by(records, vervar_code="11", turvar_code="2", year=1999)
    assert (d.vervar_label, d.turvar_label, d.value) == ("50-54", "Perempuan", 159.2)
    e = by(records, vervar_code="1", turvar_code="1", year=1999)
    assert e.value == 88.6
    assert all(r.unit == "Ribu Jiwa" for r in records)
    # a naive split taking the first two characters as the vervar code would read "14"
    assert "14" not in {r.vervar_code for r in records}


def _tiny(vervar, turvar, tahun, datacontent, var=(1,)):
    return {
        "status": "OK",
        "data-availability": "available",
        "var": [{"val": v, "label": "Var", "unit": "Jiwa"} for v in var],
        "turvar": [{"val": t, "label": f"T{t}"} for t in turvar],
        "labelvervar": "Wilayah",
        "vervar": [{"val": v, "label": f"V{v}"} for v in vervar],
        "tahun": [{"val": code, "label": label} for code, label in tahun],
        "turtahun": [{"val": 0, "label": "Tahun"}],
        "datacontent": datacontent,
    }


def test_two_code_tuples_with_the_same_key_raise_naming_both():
    # vervar 1 + var 1 + turvar 10 + tahun 1 + turtahun 0 = "111010"
    # vervar 11 + var 1 + turvar 0 + tahun 1 + turtahun 0 = "111010"
    payload = _tiny([1, 11], [0, 10], [(1, "2001")], {"111010": 5})
    with pytest.raises(BpsAmbiguousKey) as info:
        parse_bps_data(payload, source="test table")
    message = str(info.value)
    assert "'111010'" in message
    assert "vervar=1, var=1, turvar=10, tahun=1, turtahun=0" in message
    assert "vervar=11, var=1, turvar=0, tahun=1, turtahun=0" in message
    assert isinstance(info.value, ApiError)


def test_datacontent_key_matching_no_codes_is_an_error():
    payload = load("bps_population_kaltim_6400_var1975.json")
    payload["datacontent"]["6403197501250"] = 1  # tahun code 125 is not in `tahun`
    with pytest.raises(
        ApiError, match=r"1 datacontent key\(s\) match no combination.*'6403197501250'"
    ):
        parse_bps_data(payload)


def test_missing_cells_are_skipped_and_numeric_strings_read():
    payload = _tiny([1, 2], [0], [(123, "2023")], {"1101230": "1234.5", "2101230": None})
    records = parse_bps_data(payload)
    assert [(r.vervar_code, r.year, r.value) for r in records] == [("1", 2023, 1234.5)]


def test_non_numeric_value_is_an_error():
    payload = _tiny([1], [0], [(123, "2023")], {"1101230": "n.a."})
    with pytest.raises(ApiError, match=r"datacontent\['1101230'\] = 'n.a.' is not a number"):
        parse_bps_data(payload)


def test_tahun_label_must_be_a_year():
    payload = _tiny([1], [0], [(123, "2023 Semester 1")], {"1101230": 1})
    with pytest.raises(ApiError, match="tahun 123 has label '2023 Semester 1', not a year"):
        parse_bps_data(payload)


def test_empty_datacontent_is_no_data():
    payload = _tiny([1], [0], [(123, "2023")], [])
    with pytest.raises(ApiNoData, match="datacontent is empty"):
        parse_bps_data(payload)


def test_parse_does_not_modify_the_payload():
    payload = load("bps_population_kaltim_6400_var1975.json")
    before = copy.deepcopy(payload)
    parse_bps_data(payload)
    assert payload == before


# --------------------------------------------------------------------------- over HTTP


def test_fetch_over_http(httpserver: HTTPServer, client: BpsClient):
    httpserver.expect_request(f"{DATA_PATH}th/123;124/key/{SECRET}/").respond_with_json(
        load("bps_population_kaltim_6400_var1975.json")
    )
    records = client.data("6400", 1975, th="123;124")
    assert len(records) == 22
    assert by(records, vervar_code="6472", year=2024).value == 861878
    assert by(records, vervar_code="6472", year=2024).vervar_label == "Samarinda"


def test_list_not_available_raises_no_data(httpserver: HTTPServer, client: BpsClient):
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_json(
        load("bps_list_not_available.json")
    )
    with pytest.raises(ApiNoData) as info:
        client.data("6400", 1975)
    message = str(info.value)
    assert "list-not-available" in message
    assert f"{DATA_PATH}key/***/" in message
    assert SECRET not in message
    assert len(httpserver.log) == 1


def test_status_error_is_an_api_error_with_the_api_message(httpserver: HTTPServer, client):
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_json(
        load("bps_status_error.json")
    )
    with pytest.raises(ApiError) as info:
        client.data("6400", 1975)
    assert not isinstance(info.value, ApiNoData)
    message = str(info.value)
    assert "answered status 'Error': Invalid API Key or API Key not registered" in message
    assert f"{DATA_PATH}key/***/" in message
    assert SECRET not in message


def test_status_error_sent_with_http_400(httpserver: HTTPServer, client: BpsClient):
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_json(
        {"status": "Error", "message": "Var not found"}, status=400
    )
    with pytest.raises(ApiError) as info:
        client.data("6400", 1975)
    assert info.value.status == 400
    assert "answered status 'Error': Var not found (HTTP 400)" in str(info.value)
    assert SECRET not in str(info.value)
    assert len(httpserver.log) == 1


def test_list_not_available_sent_with_http_404(httpserver: HTTPServer, client: BpsClient):
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_json(
        {"status": "ERROR", "data-availability": "list-not-available"}, status=404
    )
    with pytest.raises(ApiNoData, match=r"list-not-available.*\(HTTP 404\)"):
        client.data("6400", 1975)


def test_retry_logs_mask_the_path_key(httpserver: HTTPServer, caplog):
    httpserver.expect_oneshot_request(f"{DATA_PATH}key/{SECRET}/").respond_with_data(
        "Service Unavailable", status=503
    )
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_json(
        load("bps_population_kaltim_6400_var1975.json")
    )
    waits: list[float] = []
    retry = RetryPolicy(jitter=0, backoff_base=0.25)
    with (
        caplog.at_level(logging.WARNING, logger="cakupan.sources.http"),
        ApiClient(retry=retry, sleep=waits.append) as api,
    ):
        records = fetch_bps_data(
            "6400", 1975, SECRET, http=api, base_url=httpserver.url_for("/v1/api")
        )
    assert len(records) == 22
    assert waits == [0.25]
    ours = [r.getMessage() for r in caplog.records if r.name == "cakupan.sources.http"]
    assert len(ours) == 1
    assert f"{DATA_PATH}key/***/" in ours[0]
    assert "HTTP 503" in ours[0]
    assert SECRET not in ours[0]


def test_repeated_503_names_masked_url(httpserver: HTTPServer, client: BpsClient, api):
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_data("", status=503)
    with pytest.raises(ApiError) as info:
        client.data("6400", 1975)
    message = str(info.value)
    assert "failed after 3 attempts" in message
    assert "last status 503" in message
    assert f"{DATA_PATH}key/***/" in message
    assert SECRET not in message
    assert len(httpserver.log) == 3
    assert api.waits == [1.0, 2.0]


def test_429_with_retry_after_then_the_table(httpserver: HTTPServer, client: BpsClient, api):
    httpserver.expect_oneshot_request(f"{DATA_PATH}key/{SECRET}/").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "4"}
    )
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_json(
        load("bps_population_kaltim_6400_var1975.json")
    )
    records = client.data("6400", 1975)
    assert by(records, vervar_code="6403", year=2024).value == 764132
    assert api.waits == [4.0]
    assert len(httpserver.log) == 2


def test_truncated_table_is_retried_then_read(httpserver: HTTPServer, client: BpsClient, api):
    whole = (FIXTURES / "bps_population_kaltim_6400_var1975.json").read_text(encoding="utf-8")
    httpserver.expect_oneshot_request(f"{DATA_PATH}key/{SECRET}/").respond_with_data(
        whole[: len(whole) // 2], content_type="application/json"
    )
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_data(
        whole, content_type="application/json"
    )
    records = client.data("6400", 1975)
    assert len(records) == 22
    assert by(records, vervar_code="9999", year=2023).value == 3945186
    assert api.waits == [1.0]


def test_truncated_table_every_time_ends_in_one_error(httpserver: HTTPServer, client: BpsClient):
    whole = (FIXTURES / "bps_population_kaltim_6400_var1975.json").read_text(encoding="utf-8")
    httpserver.expect_request(f"{DATA_PATH}key/{SECRET}/").respond_with_data(
        whole[:-40], content_type="application/json"
    )
    with pytest.raises(ApiError) as info:
        client.data("6400", 1975)
    assert info.value.status == "invalid JSON"
    assert info.value.attempts == 3
    assert f"{DATA_PATH}key/***/" in str(info.value)
    assert SECRET not in str(info.value)
