"""Failure alerts (`cakupan_airflow.notify`) against a real local HTTP receiver and SMTP server.

The callback gets a context shaped like the one Airflow's task runner passes to
`on_failure_callback` / `on_retry_callback`; the last test runs a failing task through a real
`airflow dags test` and checks the receiver got the alert.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from cakupan_airflow import notify
from cakupan_airflow.notify import CakupanAlertNotifier, mask_url, resolve_target
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "AIRFLOW_CONN_CAKUPAN_ALERTS"
TOKEN = "tok-7f3a9c2e55"
START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
END = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)


def _context(exception: BaseException | str | None = None, *, try_number: int = 4) -> dict:
    ti = SimpleNamespace(
        dag_id="cakupan_membership",
        task_id="load",
        map_index=7,
        run_id="scheduled__2024-03-01T00:00:00+00:00",
        try_number=try_number,
        max_tries=3,
        hostname="worker-1",
        log_url="http://airflow.example/dags/cakupan_membership/runs/r/tasks/load/mapped/7",
    )
    dag_run = SimpleNamespace(
        dag_id="cakupan_membership",
        run_id="scheduled__2024-03-01T00:00:00+00:00",
        logical_date=START,
        data_interval_start=START,
        data_interval_end=END,
    )
    return {
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": dag_run.run_id,
        "logical_date": START,
        "data_interval_start": START,
        "data_interval_end": END,
        "exception": exception
        if exception is not None
        else ValueError("bpjs_2024_03.xlsx: header row not found " + "x" * 800),
    }


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    notify.reset_warnings()
    yield
    notify.reset_warnings()


@pytest.fixture
def hook_url(httpserver: HTTPServer, monkeypatch) -> str:
    url = httpserver.url_for("/hooks/cakupan") + f"?token={TOKEN}"
    monkeypatch.setenv(ENV_VAR, url)
    return url


def _ours(caplog) -> str:
    """What the notifier logged (not the test receiver's own access log)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("cakupan_airflow"))


def _received(httpserver: HTTPServer) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_failure_alert_posts_the_task_and_run(httpserver, hook_url, caplog):
    httpserver.expect_request(
        "/hooks/cakupan", method="POST", query_string={"token": TOKEN}
    ).respond_with_json({"ok": True})
    caplog.set_level(logging.INFO, logger="cakupan_airflow.notify")

    CakupanAlertNotifier("failure")(_context())

    [payload] = _received(httpserver)
    assert payload["event"] == "failure"
    assert payload["dag_id"] == "cakupan_membership"
    assert payload["task_id"] == "load"
    assert payload["map_index"] == 7
    assert payload["run_id"] == "scheduled__2024-03-01T00:00:00+00:00"
    assert payload["data_interval_start"] == "2024-03-01T00:00:00+00:00"
    assert payload["data_interval_end"] == "2024-04-01T00:00:00+00:00"
    assert payload["try_number"] == 4
    assert payload["max_tries"] == 3
    assert payload["log_url"].endswith("/tasks/load/mapped/7")
    assert payload["exception"].startswith("ValueError: bpjs_2024_03.xlsx: header row not found")
    assert len(payload["exception"]) == 500
    assert "cakupan_membership.load[7] failed" in payload["text"]
    request = httpserver.log[0][0]
    assert request.headers["Content-Type"] == "application/json"
    assert "alert sent" in caplog.text
    assert TOKEN not in _ours(caplog)


def test_retry_alert_says_retry(httpserver, hook_url):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("ok")
    CakupanAlertNotifier("retry")(_context(RuntimeError("connection reset"), try_number=1))
    [payload] = _received(httpserver)
    assert payload["event"] == "retry"
    assert payload["try_number"] == 1
    assert payload["exception"] == "RuntimeError: connection reset"
    assert "will be retried" in payload["text"]


def test_default_args_carry_both_callbacks():
    from cakupan_airflow.common import DEFAULT_ARGS

    assert isinstance(DEFAULT_ARGS["on_failure_callback"], CakupanAlertNotifier)
    assert DEFAULT_ARGS["on_failure_callback"].event == "failure"
    assert DEFAULT_ARGS["on_retry_callback"].event == "retry"


def test_missing_connection_sends_nothing_and_warns_once(httpserver, caplog, monkeypatch):
    # no env var, and Airflow's own lookup finds nothing (no metadata DB in unit tests)
    monkeypatch.setattr(notify, "resolve_target", lambda conn_id="cakupan_alerts": None)
    caplog.set_level(logging.WARNING, logger="cakupan_airflow.notify")
    notifier = CakupanAlertNotifier("failure")
    notifier(_context())
    notifier(_context())
    assert httpserver.log == []
    warnings = [r for r in caplog.records if "not defined" in r.getMessage()]
    assert len(warnings) == 1
    assert "cakupan_alerts" in warnings[0].getMessage()


def test_missing_connection_through_airflow_lookup():
    """Without the env var, Airflow's secrets backends are asked; nothing found -> None."""
    assert resolve_target("cakupan_alerts_that_does_not_exist") is None


def test_server_error_is_retried_then_logged_never_raised(httpserver, hook_url, caplog):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data(
        "upstream down", status=500
    )
    caplog.set_level(logging.INFO, logger="cakupan_airflow.notify")
    CakupanAlertNotifier("failure", backoff=0.01)(_context())  # must not raise
    assert len(httpserver.log) == 3
    assert "not delivered: HTTP 500 after 3 attempt(s)" in caplog.text
    assert caplog.text.count("retrying") == 2
    assert TOKEN not in _ours(caplog)
    assert "token=***" in _ours(caplog)


def test_client_error_is_not_retried(httpserver, hook_url, caplog):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("no", status=403)
    CakupanAlertNotifier("failure", backoff=0.01)(_context())
    assert len(httpserver.log) == 1
    assert "HTTP 403" in caplog.text


def test_timeout_is_bounded_and_retried(monkeypatch, caplog):
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:

        def slow(request: Request) -> Response:
            time.sleep(1.0)
            return Response("late")

        server.expect_request("/slow", method="POST").respond_with_handler(slow)
        monkeypatch.setenv(ENV_VAR, server.url_for("/slow"))
        started = time.monotonic()
        CakupanAlertNotifier("failure", timeout=0.2, backoff=0.01)(_context())
        elapsed = time.monotonic() - started
    finally:
        server.clear()
        server.stop()
    assert elapsed < 3
    assert "timeout after 3 attempt(s)" in caplog.text


def test_unreachable_webhook_is_logged(monkeypatch, caplog):
    monkeypatch.setenv(ENV_VAR, "http://127.0.0.1:9/hook?token=" + TOKEN)  # discard port: closed
    CakupanAlertNotifier("failure", backoff=0.01)(_context())
    assert "connection error after 3 attempt(s)" in caplog.text
    assert TOKEN not in _ours(caplog)


def test_callback_survives_a_broken_context(httpserver, hook_url):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("ok")
    CakupanAlertNotifier("failure")({})  # nothing known: still one alert, no exception
    [payload] = _received(httpserver)
    assert payload["dag_id"] is None and payload["exception"] is None


def test_json_connection_fields_headers_and_basic_auth(httpserver, monkeypatch):
    httpserver.expect_request(
        "/alerts/cakupan", method="POST", headers={"X-Team": "data"}
    ).respond_with_data("ok")
    monkeypatch.setenv(
        ENV_VAR,
        json.dumps(
            {
                "conn_type": "http",
                "host": httpserver.host,
                "schema": "http",
                "port": httpserver.port,
                "login": "cakupan",
                "password": "pw-123456",
                "extra": {"endpoint": "/alerts/cakupan", "headers": {"X-Team": "data"}},
            }
        ),
    )
    CakupanAlertNotifier("failure")(_context())
    [(request, _)] = httpserver.log
    assert request.authorization.username == "cakupan"
    assert request.authorization.password == "pw-123456"


def test_uri_connection_round_trip_from_airflow_fields():
    """A URI-form connection read back by Airflow puts the path in `schema` and the query in
    extra; the URL is rebuilt from them."""
    target = notify._target_from_fields(
        conn_type="https",
        host="hooks.example.go.id",
        schema="services/T1/B2",
        port=8443,
        login=None,
        password=None,
        extra={"token": TOKEN, "email": "a@example.go.id, b@example.go.id"},
    )
    assert target.url == f"https://hooks.example.go.id:8443/services/T1/B2?token={TOKEN}"
    assert target.emails == ["a@example.go.id", "b@example.go.id"]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"https://hooks.slack.com/services/T0/B0/{TOKEN}", "https://hooks.slack.com/services/***"),
        (
            f"https://u:{TOKEN}@h.example:8443/hook?token={TOKEN}&x=1",
            "https://h.example:8443/hook?token=***&x=***",
        ),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        (f"https://h.example/{TOKEN}", "https://h.example/***"),
        ("https://discord.com/api/webhooks/123/abc", "https://discord.com/api/***"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked
    assert TOKEN not in mask_url(url)


# --- email -------------------------------------------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip()
                self.wfile.write(b"250 OK\r\n")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go ahead\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data.decode(errors="replace"))
                self.server.messages.append(
                    {"from": sender, "to": recipients, "data": "".join(body)}
                )
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_email_through_the_smtp_connection(httpserver, monkeypatch, smtp_server):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("ok")
    extra = json.dumps({"email": ["data@dinkes.example.go.id"]})
    monkeypatch.setenv(
        ENV_VAR, httpserver.url_for("/hooks/cakupan") + "?__extra__=" + extra.replace(" ", "")
    )
    host, port = smtp_server.server_address
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": host,
                "port": port,
                "extra": {
                    "disable_tls": True,
                    "disable_ssl": True,
                    "from_email": "airflow@cakupan.example",
                    "timeout": 5,
                    "retry_limit": 0,
                },
            }
        ),
    )
    CakupanAlertNotifier("failure")(_context())
    assert len(httpserver.log) == 1
    [message] = smtp_server.messages
    assert message["to"] == ["data@dinkes.example.go.id"]
    assert "[cakupan] failure: cakupan_membership.load" in message["data"]


def test_email_without_smtp_is_skipped_and_logged(httpserver, monkeypatch, caplog):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("ok")
    monkeypatch.setenv(
        ENV_VAR, httpserver.url_for("/hooks/cakupan") + '?__extra__={"email":["a@example.go.id"]}'
    )
    monkeypatch.setenv("AIRFLOW__EMAIL__EMAIL_CONN_ID", "smtp_not_configured")
    CakupanAlertNotifier("failure")(_context())
    assert len(httpserver.log) == 1  # the webhook still gets it
    assert "alert email skipped" in caplog.text


# --- a real Airflow run ------------------------------------------------------------------

PROBE_DAG = '''
"""A DAG whose only task fails: the alert must reach the receiver."""
import datetime as dt

from airflow.sdk import dag, task
from cakupan_airflow.common import DEFAULT_ARGS


@dag(
    dag_id="cakupan_alert_probe",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    default_args={**DEFAULT_ARGS, "retries": 0},
)
def cakupan_alert_probe():
    @task
    def explode():
        raise RuntimeError("probe failure for the alert test")

    explode()


cakupan_alert_probe()
'''


@pytest.mark.integration
def test_real_airflow_task_failure_reaches_the_webhook(httpserver, tmp_path):
    from cakupan.airflow_local import airflow_bin, airflow_env

    httpserver.expect_request("/hooks/probe", method="POST").respond_with_data("ok")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "probe.py").write_text(textwrap.dedent(PROBE_DAG))
    home = tmp_path / "airflow"
    env = airflow_env()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__BASE_URL": "http://airflow.test:8080",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "dags"), env.get("PYTHONPATH", "")]),
            ENV_VAR: httpserver.url_for("/hooks/probe") + f"?token={TOKEN}",
        }
    )
    home.mkdir()
    started = time.monotonic()
    subprocess.run(
        [airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True, timeout=120
    )
    result = subprocess.run(
        [airflow_bin(), "dags", "test", "cakupan_alert_probe", "2024-03-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    output = result.stdout[-3000:] + result.stderr[-3000:]
    payloads = _received(httpserver)
    assert len(payloads) == 1, output
    payload = payloads[0]
    assert payload["event"] == "failure"
    assert payload["dag_id"] == "cakupan_alert_probe"
    assert payload["task_id"] == "explode"
    assert payload["run_id"]
    assert payload["try_number"] == 1
    assert payload["exception"] == "RuntimeError: probe failure for the alert test"
    assert payload["log_url"].startswith("http://airflow.test:8080/dags/cakupan_alert_probe/runs/")
    assert TOKEN not in output
    print(f"airflow db migrate + dags test: {elapsed:.1f} s", file=sys.stderr)
