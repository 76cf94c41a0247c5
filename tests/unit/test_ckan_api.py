"""CKAN datastore_search client: paging, short reads, repeated pages, errors (real local server)."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import urllib.parse
from pathlib import Path

import pytest
from cakupan.sources.ckan import CkanClient, CkanResult, datastore_search_all
from cakupan.sources.http import ApiClient, ApiError, RetryPolicy
from pytest_httpserver import HTTPServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"
RID = "5b6c7d1e-2f3a-4b5c-9d8e-7f6a5b4c3d2e"
PATH = "/api/3/action/datastore_search"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.ckan-token"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def page(offset: int) -> dict:
    return load(f"ckan_jkn_kaltim_offset{offset}.json")


def query(offset: int, limit: int = 4, resource_id: str = RID) -> dict[str, str]:
    return {"resource_id": resource_id, "limit": str(limit), "offset": str(offset), "sort": "_id"}


def serve_pages(server: HTTPServer, pages: dict[int, dict], limit: int = 4) -> None:
    for offset, body in pages.items():
        server.expect_request(PATH, query_string=query(offset, limit)).respond_with_json(body)


@pytest.fixture
def api():
    """The run's ApiClient: 3 attempts, waits recorded in `api.waits` instead of slept."""
    waits: list[float] = []
    with ApiClient(retry=RetryPolicy(max_attempts=3, jitter=0), sleep=waits.append) as api:
        api.waits = waits
        yield api


@pytest.fixture
def client(httpserver: HTTPServer, api: ApiClient) -> CkanClient:
    return CkanClient(httpserver.url_for("/"), http=api, page_size=4)


def test_pages_by_offset_until_total(httpserver: HTTPServer, client: CkanClient):
    serve_pages(httpserver, {0: page(0), 4: page(4), 8: page(8)})
    result = client.datastore_search_all(RID)
    assert isinstance(result, CkanResult)
    assert result.total == 10
    assert result.total_was_estimated is False
    assert result.pages == 3
    assert result.offsets == [0, 4, 8]
    assert [r["_id"] for r in result.records] == list(range(1, 11))
    assert result.records[2]["kode_kabupaten_kota"] == "6403"
    assert result.records[2]["nama_kabupaten_kota"] == "KUTAI KARTANEGARA"
    assert result.records[2]["jumlah_peserta_jkn"] == 701455
    assert result.records[9]["nama_kabupaten_kota"] == "KOTA BONTANG"
    assert sum(r["jumlah_peserta_jkn"] for r in result.records) == 3743334
    assert [f["id"] for f in result.fields] == [
        "_id", "kode_provinsi", "nama_provinsi", "kode_kabupaten_kota",
        "nama_kabupaten_kota", "jumlah_peserta_jkn", "satuan", "tahun",
    ]  # fmt: skip
    assert len(httpserver.log) == 3


def test_api_key_goes_in_authorization_header_and_never_in_logs(httpserver: HTTPServer, caplog):
    httpserver.expect_oneshot_request(
        PATH, query_string=query(0, 100), headers={"Authorization": TOKEN}
    ).respond_with_data("Bad Gateway", status=502)
    for offset in (0, 4, 8):
        body = page(offset)
        body["result"]["limit"] = 100
        httpserver.expect_request(
            PATH, query_string=query(offset, 100), headers={"Authorization": TOKEN}
        ).respond_with_json(body)
    with (
        caplog.at_level(logging.WARNING, logger="cakupan.sources.http"),
        ApiClient(sleep=lambda s: None) as api,
    ):
        result = datastore_search_all(
            httpserver.url_for("/"), RID, http=api, api_key=TOKEN, page_size=100
        )
    # the server returns 4 rows per page whatever the limit (like CKAN's rows_max): the client
    # advances by the rows received, not by the limit asked for
    assert len(result.records) == 10
    assert result.offsets == [0, 4, 8]
    messages = [r.getMessage() for r in caplog.records if r.name == "cakupan.sources.http"]
    assert len(messages) == 1
    assert "HTTP 502" in messages[0]
    assert TOKEN not in " ".join(messages)
    assert TOKEN not in repr(CkanClient("https://x.test", api_key=TOKEN))


def test_repeated_page_is_refused(httpserver: HTTPServer, client: CkanClient):
    # a server that ignores `offset` and answers the first page again
    serve_pages(httpserver, {0: page(0), 4: page(0)})
    with pytest.raises(ApiError) as info:
        client.datastore_search_all(RID)
    message = str(info.value)
    assert f"resource {RID}" in message
    assert "the page at offset 4 repeats record _id 1 of the page at offset 0" in message
    assert "pages at offsets 0, 4" in message
    assert len(httpserver.log) == 2


def test_short_read_is_refused(httpserver: HTTPServer, client: CkanClient):
    last = page(8)
    last["result"]["records"] = []  # total says 10 but the rows run out after 8
    serve_pages(httpserver, {0: page(0), 4: page(4), 8: last})
    with pytest.raises(ApiError) as info:
        client.datastore_search_all(RID)
    message = str(info.value)
    assert f"resource {RID}" in message
    assert "short read: got 8 of total 10 records" in message
    assert "the page at offset 8 returned 0" in message
    assert "pages at offsets 0, 4, 8" in message


def test_short_last_page_then_nothing_is_refused(httpserver: HTTPServer, client: CkanClient):
    short = page(8)
    short["result"]["records"] = short["result"]["records"][:1]
    after = page(8)
    after["result"]["records"] = []
    serve_pages(httpserver, {0: page(0), 4: page(4), 8: short, 9: after})
    with pytest.raises(ApiError, match="short read: got 9 of total 10 records"):
        client.datastore_search_all(RID)
    assert len(httpserver.log) == 4


def test_more_rows_than_total_is_refused(httpserver: HTTPServer, client: CkanClient):
    pages = {0: page(0), 4: page(4), 8: page(8)}
    for body in pages.values():
        body["result"]["total"] = 9
    serve_pages(httpserver, pages)
    with pytest.raises(ApiError, match="got 10 records, more than total 9"):
        client.datastore_search_all(RID)


def test_total_changing_between_pages_is_refused(httpserver: HTTPServer, client: CkanClient):
    second = page(4)
    second["result"]["total"] = 11
    serve_pages(httpserver, {0: page(0), 4: second})
    with pytest.raises(ApiError, match="total changed from 10 to 11 at offset 4"):
        client.datastore_search_all(RID)


def test_empty_resource_is_an_empty_result(httpserver: HTTPServer, client: CkanClient):
    serve_pages(httpserver, {0: load("ckan_empty.json")})
    result = client.datastore_search_all(RID)
    assert result.records == []
    assert result.total == 0
    assert result.pages == 1
    assert result.total_was_estimated is False
    assert [f["id"] for f in result.fields][:2] == ["_id", "kode_provinsi"]


def test_estimated_total_is_noted_and_paging_stops_at_a_short_page(
    httpserver: HTTPServer, client: CkanClient
):
    pages = {0: page(0), 4: page(4), 8: page(8)}
    for body in pages.values():
        body["result"]["total"] = 12000
        body["result"]["total_was_estimated"] = True
    serve_pages(httpserver, pages)
    result = client.datastore_search_all(RID)
    assert result.total_was_estimated is True
    assert result.total == 12000
    assert len(result.records) == 10
    assert result.offsets == [0, 4, 8]


def test_not_found_is_an_error_with_the_ckan_message(httpserver: HTTPServer, client: CkanClient):
    httpserver.expect_request(
        PATH, query_string=query(0, resource_id="0000-missing")
    ).respond_with_json(load("ckan_not_found.json"), status=404)
    with pytest.raises(ApiError) as info:
        client.datastore_search_all("0000-missing")
    message = str(info.value)
    assert "resource 0000-missing at offset 0" in message
    assert 'Not Found Error: Not found: Resource "0000-missing" was not found.' in message
    assert "HTTP 404" in message
    assert info.value.status == 404
    assert len(httpserver.log) == 1  # a 404 is not retried


def test_success_false_with_http_200_is_an_error(httpserver: HTTPServer, client: CkanClient):
    serve_pages(httpserver, {0: load("ckan_authorization_error.json")})
    with pytest.raises(ApiError) as info:
        client.datastore_search_all(RID)
    assert f"Authorization Error: Access denied: User not authorized to read resource {RID}" in str(
        info.value
    )


def test_validation_error_without_message_lists_the_fields(
    httpserver: HTTPServer, client: CkanClient
):
    serve_pages(
        httpserver,
        {
            0: {
                "success": False,
                "error": {"__type": "Validation Error", "limit": ["Must be a natural number"]},
            }
        },
    )
    with pytest.raises(ApiError, match="Validation Error: limit: Must be a natural number"):
        client.datastore_search_all(RID)


def test_429_on_a_page_is_retried_after_retry_after(httpserver: HTTPServer, client, api):
    httpserver.expect_oneshot_request(PATH, query_string=query(4)).respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "2"}
    )
    serve_pages(httpserver, {0: page(0), 4: page(4), 8: page(8)})
    result = client.datastore_search_all(RID)
    assert api.waits == [2.0]
    assert len(result.records) == 10
    assert result.pages == 3
    assert len(httpserver.log) == 4


def test_500_then_a_truncated_page_then_the_page(httpserver: HTTPServer, client, api):
    whole = (FIXTURES / "ckan_jkn_kaltim_offset8.json").read_text(encoding="utf-8")
    httpserver.expect_oneshot_request(PATH, query_string=query(8)).respond_with_data(
        "Internal Server Error", status=500
    )
    httpserver.expect_oneshot_request(PATH, query_string=query(8)).respond_with_data(
        whole[:100], content_type="application/json"
    )
    serve_pages(httpserver, {0: page(0), 4: page(4), 8: page(8)})
    result = client.datastore_search_all(RID)
    assert [r["_id"] for r in result.records] == list(range(1, 11))
    assert (
        result.records[9]["jumlah_peserta_jkn"]
        == page(8)["result"]["records"][1]["jumlah_peserta_jkn"]
    )
    assert api.waits == [1.0, 2.0]
    assert len(httpserver.log) == 5


def test_a_page_failing_every_time_ends_in_one_error(httpserver: HTTPServer, client):
    serve_pages(httpserver, {0: page(0)})
    httpserver.expect_request(PATH, query_string=query(4)).respond_with_data("", status=503)
    with pytest.raises(ApiError) as info:
        client.datastore_search_all(RID)
    message = str(info.value)
    assert "failed after 3 attempts" in message
    assert "offset=4" in message
    assert "last status 503" in message
    assert info.value.attempts == 3
    assert len(httpserver.log) == 4


def test_filters_are_sent_as_json(httpserver: HTTPServer, client: CkanClient):
    body = page(8)
    body["result"]["total"] = 2
    httpserver.expect_request(
        PATH, query_string={**query(0), "filters": '{"tahun":2024,"kode_provinsi":"64"}'}
    ).respond_with_json(body)
    result = client.datastore_search_all(RID, filters={"tahun": 2024, "kode_provinsi": "64"})
    assert [r["kode_kabupaten_kota"] for r in result.records] == ["6472", "6474"]


# --------------------------------------------------------------------------- one connection


class KeepAliveCkan(http.server.ThreadingHTTPServer):
    """A real CKAN stand-in on localhost that keeps connections open (HTTP/1.1 keep-alive,
    which pytest-httpserver's werkzeug server never does) and notes each request's client port.
    """

    daemon_threads = True

    def __init__(self) -> None:
        self.ports: list[int] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                outer.ports.append(self.client_address[1])
                body = json.dumps(page(int(query["offset"][0]))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def keep_alive_ckan():
    server = KeepAliveCkan()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_pages_reuse_the_run_clients_connection(keep_alive_ckan: KeepAliveCkan):
    base = f"http://127.0.0.1:{keep_alive_ckan.server_address[1]}"
    with ApiClient() as api:
        first = CkanClient(base, http=api, page_size=4).datastore_search_all(RID)
        again = datastore_search_all(base, RID, http=api, page_size=4)
    assert first.records == again.records
    assert first.offsets == again.offsets == [0, 4, 8]
    assert len(keep_alive_ckan.ports) == 6
    assert len(set(keep_alive_ckan.ports)) == 1  # one TCP connection for all six pages


def test_without_a_run_client_each_read_opens_its_own_connection(
    keep_alive_ckan: KeepAliveCkan,
):
    # the control for the test above: the server does tell connections apart
    base = f"http://127.0.0.1:{keep_alive_ckan.server_address[1]}"
    datastore_search_all(base, RID, page_size=4)
    datastore_search_all(base, RID, page_size=4)
    ports = keep_alive_ckan.ports
    assert len(ports) == 6
    assert len(set(ports[:3])) == 1 and len(set(ports[3:])) == 1  # pages of one read: one
    assert ports[0] != ports[3]  # two reads: two connections
