"""ApiClient against real local HTTP servers: retries, backoff, Retry-After, timeouts, masking.

Waits are recorded instead of slept (`sleep=` a recorder) except where the time budget itself is
under test; then the waits are real and short.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import socketserver
import threading
import time
from email.utils import formatdate

import pytest
from cakupan.sources.http import (
    ApiClient,
    ApiError,
    RetryPolicy,
    build_url,
    mask_url,
    parse_retry_after,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SECRET = "s3cr3t-bps-key-9f8e7d"


class SleepRecorder:
    """Stands in for time.sleep: records the waits, sleeps not at all."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def slept() -> SleepRecorder:
    return SleepRecorder()


def fetch_json(
    url: str,
    params: dict | None = None,
    *,
    sleep=time.sleep,
    timeout: float = 30.0,
    headers: dict | None = None,
    **retry,
) -> dict:
    """One request through a fresh ApiClient (as a run would make it)."""
    with ApiClient(retry=RetryPolicy(**retry), timeout=timeout, sleep=sleep) as api:
        return api.get_json(url, params, headers=headers)


@pytest.fixture(scope="module")
def threaded_server():
    """A server that answers concurrently, so a slow handler does not block the next request."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def fresh_threaded(threaded_server):
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()


def _no_secret(text: str) -> None:
    assert SECRET not in text


def ours(caplog) -> list[logging.LogRecord]:
    """Records of the client's logger (the test server's own access log is not ours)."""
    return [r for r in caplog.records if r.name == "cakupan.sources.http"]


# --------------------------------------------------------------------------- helpers


def test_mask_url_masks_query_and_bps_path_keys():
    assert (
        mask_url(f"https://example.test/api?resource_id=abc&key={SECRET}&limit=5")
        == "https://example.test/api?resource_id=abc&key=***&limit=5"
    )
    bps = (
        "https://webapi.bps.go.id/v1/api/list/model/data/lang/ind/domain/6400/var/1975/"
        f"th/123/key/{SECRET}/"
    )
    assert mask_url(bps) == (
        "https://webapi.bps.go.id/v1/api/list/model/data/lang/ind/domain/6400/var/1975/"
        "th/123/key/***/"
    )
    assert mask_url("https://u:pw@example.test/x?a=1") == "https://***@example.test/x?a=1"


def test_build_url_appends_params_and_drops_none():
    assert (
        build_url("https://example.test/a?x=1", {"limit": 4, "offset": 0, "q": None, "b": True})
        == "https://example.test/a?x=1&limit=4&offset=0&b=true"
    )


def test_parse_retry_after_seconds_and_http_date():
    now = 1_700_000_000.0
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("-3", now=now) == 0.0
    assert parse_retry_after(formatdate(now + 42, usegmt=True), now=now) == 42.0
    assert parse_retry_after(formatdate(now - 100, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("", now=now) is None


# --------------------------------------------------------------------------- success, retries


def test_success_sends_params_and_accept_header(httpserver: HTTPServer, slept):
    httpserver.expect_request(
        "/api/data",
        query_string={"domain": "6400", "key": SECRET},
        headers={"Accept": "application/json"},
    ).respond_with_json({"status": "OK", "n": 3})
    payload = fetch_json(
        httpserver.url_for("/api/data"), {"domain": "6400", "key": SECRET}, sleep=slept
    )
    assert payload == {"status": "OK", "n": 3}
    assert slept.calls == []
    assert len(httpserver.log) == 1
    assert httpserver.log[0][0].headers["User-Agent"].startswith("cakupan/")


def test_429_with_retry_after_seconds_sleeps_that_long_then_succeeds(
    httpserver: HTTPServer, slept, caplog
):
    httpserver.expect_oneshot_request("/rate").respond_with_json(
        {"message": "Too Many Requests"}, status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_request("/rate").respond_with_json({"status": "OK", "value": 123})
    with caplog.at_level(logging.WARNING, logger="cakupan.sources.http"):
        payload = fetch_json(
            httpserver.url_for("/rate"), {"key": SECRET}, sleep=slept, backoff_base=1.0
        )
    assert payload == {"status": "OK", "value": 123}
    assert slept.calls == [7.0]
    assert len(httpserver.log) == 2
    assert len(ours(caplog)) == 1
    record = ours(caplog)[0]
    assert record.levelno == logging.WARNING
    assert "HTTP 429" in record.getMessage()
    assert "Retry-After" in record.getMessage()
    assert "key=***" in record.getMessage()
    _no_secret(caplog.text)


def test_429_with_retry_after_http_date(httpserver: HTTPServer, slept):
    when = formatdate(time.time() + 30, usegmt=True)
    httpserver.expect_oneshot_request("/rate").respond_with_data(
        "slow down", status=429, headers={"Retry-After": when}
    )
    httpserver.expect_request("/rate").respond_with_json({"ok": True})
    assert fetch_json(httpserver.url_for("/rate"), sleep=slept) == {"ok": True}
    assert len(slept.calls) == 1
    # an HTTP date has 1 s resolution and the clock moved a little since
    assert 28.0 <= slept.calls[0] <= 30.5


def test_503_with_retry_after_is_honoured_too(httpserver: HTTPServer, slept):
    httpserver.expect_oneshot_request("/m").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": "3"}
    )
    httpserver.expect_request("/m").respond_with_json({"ok": True})
    assert fetch_json(httpserver.url_for("/m"), sleep=slept, jitter=0) == {"ok": True}
    assert slept.calls == [3.0]


def test_500_then_success_uses_backoff_base(httpserver: HTTPServer, slept):
    httpserver.expect_oneshot_request("/flaky").respond_with_data("oops", status=500)
    httpserver.expect_request("/flaky").respond_with_json({"records": [1, 2]})
    payload = fetch_json(httpserver.url_for("/flaky"), sleep=slept, backoff_base=0.5, jitter=0)
    assert payload == {"records": [1, 2]}
    assert slept.calls == [0.5]


def test_backoff_doubles_and_jitter_is_bounded(httpserver: HTTPServer, slept):
    for _ in range(3):
        httpserver.expect_oneshot_request("/b").respond_with_data("busy", status=502)
    httpserver.expect_request("/b").respond_with_json({"ok": 1})
    fetch_json(httpserver.url_for("/b"), sleep=slept, backoff_base=1.0, jitter=0.25)
    # each wait is base * 2**n plus up to `jitter` seconds
    assert len(slept.calls) == 3
    for wait, floor in zip(slept.calls, (1.0, 2.0, 4.0), strict=True):
        assert floor <= wait <= floor + 0.25


def test_backoff_is_capped_by_max_backoff(httpserver: HTTPServer, slept):
    for _ in range(3):
        httpserver.expect_oneshot_request("/c").respond_with_data("busy", status=503)
    httpserver.expect_request("/c").respond_with_json({"ok": 1})
    fetch_json(httpserver.url_for("/c"), sleep=slept, backoff_base=2.0, max_backoff=3.0, jitter=0)
    assert slept.calls == [2.0, 3.0, 3.0]


def test_repeated_503_gives_up_at_attempt_bound_naming_masked_url(
    httpserver: HTTPServer, slept, caplog
):
    httpserver.expect_request("/down").respond_with_data("maintenance", status=503)
    url = httpserver.url_for("/down")
    with caplog.at_level(logging.WARNING, logger="cakupan.sources.http"):
        with pytest.raises(ApiError) as info:
            fetch_json(
                url, {"resource": "pop", "key": SECRET}, max_attempts=3, sleep=slept, jitter=0
            )
    err = info.value
    message = str(err)
    assert f"GET {url}?resource=pop&key=*** failed after 3 attempts" in message
    assert "last status 503" in message
    assert message.endswith("gave up after max_attempts=3")
    _no_secret(message)
    assert err.status == 503
    assert err.attempts == 3
    assert err.url == f"{url}?resource=pop&key=***"
    assert len(httpserver.log) == 3
    assert slept.calls == [1.0, 2.0]
    assert [r.levelno for r in ours(caplog)] == [logging.WARNING, logging.WARNING]
    assert "retry 1 of 2" in ours(caplog)[0].getMessage()
    assert "retry 2 of 2" in ours(caplog)[1].getMessage()
    _no_secret(caplog.text)


def test_other_4xx_fails_at_once(httpserver: HTTPServer, slept):
    httpserver.expect_request("/missing").respond_with_json(
        {"success": False, "error": {"message": "Not found"}}, status=404
    )
    with pytest.raises(ApiError) as info:
        fetch_json(httpserver.url_for("/missing"), {"key": SECRET}, sleep=slept)
    assert info.value.status == 404
    assert info.value.attempts == 1
    assert info.value.payload == {"success": False, "error": {"message": "Not found"}}
    assert "HTTP 404" in str(info.value)
    assert len(httpserver.log) == 1
    assert slept.calls == []


@pytest.mark.parametrize("status", [400, 401, 403, 408, 409, 422])
def test_no_4xx_but_429_is_retried(httpserver: HTTPServer, slept, status):
    httpserver.expect_request("/no").respond_with_data("no", status=status)
    with pytest.raises(ApiError) as info:
        fetch_json(httpserver.url_for("/no"), sleep=slept)
    assert info.value.status == status
    assert len(httpserver.log) == 1
    assert slept.calls == []


def test_secret_echoed_in_error_body_is_scrubbed(httpserver: HTTPServer, slept):
    httpserver.expect_request(f"/v1/list/key/{SECRET}/").respond_with_data(
        f"bad key {SECRET} for this domain", status=401
    )
    with pytest.raises(ApiError) as info:
        fetch_json(httpserver.url_for(f"/v1/list/key/{SECRET}/"), sleep=slept)
    message = str(info.value)
    assert "/v1/list/key/***/" in message
    assert "bad key *** for this domain" in message
    _no_secret(message)


def test_authorization_header_value_never_in_messages(httpserver: HTTPServer, slept, caplog):
    token = "ckan-api-token-0123456789"
    httpserver.expect_oneshot_request("/h", headers={"Authorization": token}).respond_with_data(
        f"overloaded, token {token}", status=503
    )
    httpserver.expect_request("/h", headers={"Authorization": token}).respond_with_data(
        f"token {token} rejected", status=403
    )
    with caplog.at_level(logging.DEBUG, logger="cakupan.sources.http"):
        with pytest.raises(ApiError) as info:
            fetch_json(httpserver.url_for("/h"), headers={"Authorization": token}, sleep=slept)
    assert info.value.status == 403
    assert "token *** rejected" in str(info.value)
    assert token not in str(info.value)
    assert len(ours(caplog)) == 1
    assert "HTTP 503" in ours(caplog)[0].getMessage()
    assert token not in " ".join(r.getMessage() for r in ours(caplog))


def test_no_logger_at_any_level_sees_the_key(httpserver: HTTPServer, slept, caplog):
    # httpx itself logs each request URL at INFO; httpcore logs at DEBUG. (Airflow's logging
    # setup quiets the httpx logger to WARNING; the CLI's does not: open it up here.)
    httpserver.expect_oneshot_request(f"/v1/key/{SECRET}/").respond_with_data("", status=502)
    httpserver.expect_request(f"/v1/key/{SECRET}/").respond_with_json({"ok": True})
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="httpx"):
        fetch_json(httpserver.url_for(f"/v1/key/{SECRET}/"), {"token": SECRET[::-1]}, sleep=slept)
    records = [r for r in caplog.records if r.name != "werkzeug"]  # the test server's own log
    logged = "\n".join(r.getMessage() for r in records)
    assert "HTTP Request: GET" in logged
    assert "/v1/key/***/?token=***" in logged
    assert SECRET not in logged
    assert SECRET[::-1] not in logged


def test_client_wide_secret_header_is_scrubbed_too(httpserver: HTTPServer, slept):
    token = "Bearer portal-token-abcdef"
    httpserver.expect_request("/w", headers={"Authorization": token}).respond_with_data(
        f"header {token} refused", status=401
    )
    with ApiClient(headers={"Authorization": token}, sleep=slept) as api:
        with pytest.raises(ApiError) as info:
            api.get_json(httpserver.url_for("/w"))
    assert "portal-token-abcdef" not in str(info.value)


# --------------------------------------------------------------------------- timeouts, connections


def _slow(seconds: float, payload: dict):
    def handler(request: Request) -> Response:
        time.sleep(seconds)
        return Response(json.dumps(payload), content_type="application/json")

    return handler


def test_timeout_is_retried_then_reported(fresh_threaded: HTTPServer, slept, caplog):
    fresh_threaded.expect_request("/slow").respond_with_handler(_slow(0.3, {"late": True}))
    url = fresh_threaded.url_for("/slow")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="cakupan.sources.http"):
        with pytest.raises(ApiError) as info:
            fetch_json(url, {"key": SECRET}, timeout=0.1, max_attempts=2, sleep=slept, jitter=0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert info.value.status == "timeout"
    assert info.value.attempts == 2
    assert "last status timeout (no answer within 0.1 s)" in str(info.value)
    assert f"{url}?key=***" in str(info.value)
    assert slept.calls == [1.0]
    assert "no answer within 0.1 s" in ours(caplog)[0].getMessage()
    _no_secret(str(info.value) + caplog.text)


def test_timeout_then_success(fresh_threaded: HTTPServer, slept):
    fresh_threaded.expect_oneshot_request("/sometimes").respond_with_handler(
        _slow(0.3, {"late": True})
    )
    fresh_threaded.expect_request("/sometimes").respond_with_json({"fast": True})
    payload = fetch_json(fresh_threaded.url_for("/sometimes"), timeout=0.1, sleep=slept, jitter=0)
    assert payload == {"fast": True}
    assert slept.calls == [1.0]


def test_request_timeout_is_capped_by_the_time_budget(fresh_threaded: HTTPServer):
    fresh_threaded.expect_request("/slower").respond_with_handler(_slow(1.0, {"late": True}))
    started = time.monotonic()
    with pytest.raises(ApiError) as info:
        # the per-request timeout (30 s) would let it finish; the budget (0.3 s) does not
        fetch_json(fresh_threaded.url_for("/slower"), max_total_seconds=0.3, backoff_base=0.05)
    assert time.monotonic() - started < 0.9
    assert info.value.status == "timeout"


def test_connection_refused_is_retried_and_reported(slept):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/nothing"
    with pytest.raises(ApiError) as info:
        fetch_json(url, {"key": SECRET}, max_attempts=2, sleep=slept, jitter=0)
    assert info.value.status == "connection error"
    assert f"{url}?key=***" in str(info.value)
    assert slept.calls == [1.0]


@pytest.fixture
def cut_once_server():
    """A real server whose first answer promises 300 bytes, sends 21 and hangs up."""
    answers = itertools.count()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            if next(answers) == 0:
                length, body = 300, b'{"status": "OK", "da'
            else:
                body = b'{"status": "OK"}'
                length = len(body)
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
            )
            self.wfile.write(head.encode() + body)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/x", answers
    server.shutdown()
    server.server_close()


def test_incomplete_transfer_is_a_retried_connection_error(cut_once_server, slept, caplog):
    url, answers = cut_once_server
    with caplog.at_level(logging.WARNING, logger="cakupan.sources.http"):
        assert fetch_json(url, sleep=slept, jitter=0) == {"status": "OK"}
    assert next(answers) == 2  # two requests were answered
    assert slept.calls == [1.0]
    assert "RemoteProtocolError" in ours(caplog)[0].getMessage()


# --------------------------------------------------------------------------- time budget


def test_retry_after_beyond_the_cap_gives_up_without_sleeping(httpserver: HTTPServer, slept):
    httpserver.expect_request("/later").respond_with_data(
        "", status=503, headers={"Retry-After": "3600"}
    )
    with pytest.raises(ApiError) as info:
        fetch_json(httpserver.url_for("/later"), {"key": SECRET}, sleep=slept)
    assert slept.calls == []
    assert len(httpserver.log) == 1
    assert info.value.attempts == 1
    message = str(info.value)
    assert "last status 503" in message
    assert (
        "the server asked to wait 3600.0 s (Retry-After), more than max_retry_after=60 s" in message
    )
    _no_secret(message)


def test_retry_after_beyond_time_budget_gives_up_without_sleeping(httpserver: HTTPServer, slept):
    httpserver.expect_request("/later").respond_with_data(
        "", status=429, headers={"Retry-After": "5"}
    )
    with pytest.raises(ApiError) as info:
        fetch_json(httpserver.url_for("/later"), max_total_seconds=2, sleep=slept)
    assert slept.calls == []
    assert len(httpserver.log) == 1
    assert "waiting 5.0 s (Retry-After) would exceed the time budget of 2 s" in str(info.value)


def test_total_time_bounds_retries_before_attempt_count(httpserver: HTTPServer):
    httpserver.expect_request("/busy").respond_with_data("busy", status=500)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # real, short sleeps: the budget is measured
        waits.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    with pytest.raises(ApiError) as info:
        fetch_json(
            httpserver.url_for("/busy"),
            max_attempts=10,
            max_total_seconds=1.0,
            backoff_base=0.1,
            jitter=0,
            sleep=sleep,
        )
    elapsed = time.monotonic() - started
    # waits 0.1, 0.2, 0.4 (0.7 s); the next wait of 0.8 would end past 1 s. On a loaded machine
    # the requests take longer and it may stop a wait earlier: the bound is what is checked.
    backoff = [0.1, 0.2, 0.4, 0.8]
    assert 2 <= len(waits) <= 3
    assert waits == backoff[: len(waits)]
    assert info.value.attempts == len(httpserver.log) == len(waits) + 1  # < max_attempts
    assert elapsed < 1.5  # the wait of 0.8 s that would end past the budget was not begun
    next_wait = backoff[len(waits)]
    assert f"waiting {next_wait:.1f} s (backoff) would exceed the time budget of 1 s" in str(
        info.value
    )


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="max_total_seconds"):
        RetryPolicy(max_total_seconds=0)


# --------------------------------------------------------------------------- bodies


def test_truncated_json_is_retried_then_an_error(httpserver: HTTPServer, slept, caplog):
    httpserver.expect_request("/cut").respond_with_data(
        '{"status": "OK", "vervar": [{"val": 6401, "la', content_type="application/json"
    )
    url = httpserver.url_for("/cut")
    with caplog.at_level(logging.WARNING, logger="cakupan.sources.http"):
        with pytest.raises(ApiError) as info:
            fetch_json(url, {"key": SECRET}, sleep=slept, jitter=0, max_attempts=3)
    message = str(info.value)
    assert info.value.status == "invalid JSON"
    assert f"{url}?key=***" in message
    assert "gave up after max_attempts=3" in message
    assert "Unterminated string" in message
    assert "45 bytes" in message
    assert len(httpserver.log) == 3
    assert slept.calls == [1.0, 2.0]
    assert "Unterminated string" in ours(caplog)[0].getMessage()
    _no_secret(message + caplog.text)


def test_truncated_json_then_valid_succeeds(httpserver: HTTPServer, slept):
    httpserver.expect_oneshot_request("/cut").respond_with_data('{"records": [', status=200)
    httpserver.expect_request("/cut").respond_with_json({"records": []})
    assert fetch_json(httpserver.url_for("/cut"), sleep=slept, jitter=0) == {"records": []}
    assert len(httpserver.log) == 2


def test_html_maintenance_page_is_invalid_json(httpserver: HTTPServer, slept):
    httpserver.expect_request("/html").respond_with_data(
        "<html><body>Sedang dalam pemeliharaan</body></html>", content_type="text/html"
    )
    with pytest.raises(ApiError) as info:
        fetch_json(httpserver.url_for("/html"), sleep=slept, max_attempts=2)
    assert info.value.status == "invalid JSON"
    assert "Sedang dalam pemeliharaan" in str(info.value)
    assert len(httpserver.log) == 2


def test_empty_body_is_invalid_json(httpserver: HTTPServer, slept):
    httpserver.expect_request("/empty").respond_with_data("", status=200)
    with pytest.raises(ApiError, match=r"invalid JSON \(.*empty body\)"):
        fetch_json(httpserver.url_for("/empty"), sleep=slept, max_attempts=2)


def test_json_that_is_not_an_object_fails_at_once(httpserver: HTTPServer, slept):
    httpserver.expect_request("/list").respond_with_json([1, 2, 3])
    with pytest.raises(ApiError, match="expected a JSON object, got list"):
        fetch_json(httpserver.url_for("/list"), sleep=slept)
    assert len(httpserver.log) == 1


def test_api_error_survives_pickling():
    import pickle

    err = ApiError("GET https://x.test/?key=*** failed", url="https://x.test/?key=***", status=503)
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.url, copy.status) == (str(err), "https://x.test/?key=***", 503)
