"""Failure alerts (`cakupan_airflow.notify`): the payload, and Airflow's HTTP and SMTP notifiers
against a real local HTTP receiver and SMTP server.

The callbacks get a context shaped like the one Airflow's task runner passes to
`on_failure_callback` / `on_retry_callback`; the connections are `AIRFLOW_CONN_*` variables, as
Airflow reads them. The last test runs a failing task through a real `airflow dags test` and
checks the receiver got the alert.
"""

from __future__ import annotations

import datetime as dt
import email
import json
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
import requests
import tenacity
from airflow.sdk._shared.secrets_masker import redact
from airflow.sdk.exceptions import AirflowException
from cakupan_airflow.alerts import RETRY_ARGS, EmailAlert, WebhookAlert, payload
from cakupan_airflow.notify import alert_on_failure
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "AIRFLOW_CONN_CAKUPAN_ALERTS"
SMTP_VAR = "AIRFLOW_CONN_SMTP_DEFAULT"
TOKEN = "tok-7f3a9c2e55"
START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
END = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
FAST = {**RETRY_ARGS, "wait": tenacity.wait_none()}  # the same retries, without the sleeps


def _context(exception: BaseException | str | None = None, *, try_number: int = 4) -> dict:
    ti = SimpleNamespace(
        dag_id="cakupan_membership",
        task_id="load",
        map_index=7,
        run_id="scheduled__2024-03-01T00:00:00+00:00",
        try_number=try_number,
        max_tries=3,
        state="failed",
        hostname="worker-1",
        log_url="http://airflow.example/dags/cakupan_membership/runs/r/tasks/load/mapped/7",
    )
    dag_run = SimpleNamespace(
        dag_id="cakupan_membership",
        run_id=ti.run_id,
        logical_date=START,
        data_interval_start=START,
        data_interval_end=END,
    )
    return {
        "ti": ti,
        "task_instance": ti,
        "dag_run": dag_run,
        "run_id": dag_run.run_id,
        "exception": exception
        if exception is not None
        else ValueError("bpjs_2024_03.xlsx: header row not found " + "x" * 800),
    }


def _http_conn(url: str, **fields) -> str:
    """The JSON form of an HTTP connection whose host is the webhook's whole URL."""
    return json.dumps({"conn_type": "http", "host": url, **fields})


@pytest.fixture(autouse=True)
def _no_connections(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv(SMTP_VAR, raising=False)
    monkeypatch.delenv("AIRFLOW__EMAIL__EMAIL_CONN_ID", raising=False)


@pytest.fixture
def hook_url(httpserver: HTTPServer, monkeypatch) -> str:
    url = httpserver.url_for("/hooks/cakupan") + f"?token={TOKEN}"
    monkeypatch.setenv(ENV_VAR, _http_conn(url))
    return url


def _received(httpserver: HTTPServer) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def _logged(capsys) -> str:
    """What the notifiers logged (Airflow's structlog writes it to stdout), without the test
    receiver's own access log."""
    out, err = capsys.readouterr()
    return "\n".join(line for line in (out + err).splitlines() if "werkzeug" not in line)


# --- the payload -------------------------------------------------------------------------


def test_payload_carries_the_task_and_run():
    body = payload(_context(), "failure")
    assert body["event"] == "failure"
    assert body["dag_id"] == "cakupan_membership"
    assert body["task_id"] == "load"
    assert body["map_index"] == 7
    assert body["run_id"] == "scheduled__2024-03-01T00:00:00+00:00"
    assert body["logical_date"] == "2024-03-01T00:00:00+00:00"
    assert body["data_interval_start"] == "2024-03-01T00:00:00+00:00"
    assert body["data_interval_end"] == "2024-04-01T00:00:00+00:00"
    assert body["try_number"] == 4
    assert body["max_tries"] == 3
    assert body["hostname"] == "worker-1"
    assert body["log_url"].endswith("/tasks/load/mapped/7")
    assert body["exception"].startswith("ValueError: bpjs_2024_03.xlsx: header row not found")
    assert len(body["exception"]) == 500
    assert body["text"].startswith(
        "Cakupan: cakupan_membership.load[7] failed"
        " (run scheduled__2024-03-01T00:00:00+00:00, try 4): ValueError: bpjs_2024_03.xlsx"
    )
    assert len(body["text"]) < 300
    json.dumps(body)  # all of it JSON


def test_retry_payload_says_retry():
    body = payload(_context(RuntimeError("connection reset"), try_number=1), "retry")
    assert body["event"] == "retry"
    assert body["try_number"] == 1
    assert body["exception"] == "RuntimeError: connection reset"
    assert "will be retried" in body["text"]


def test_payload_of_an_empty_context():
    body = payload({}, "failure")
    assert body["dag_id"] is None and body["exception"] is None
    assert body["text"] == "Cakupan: None.None failed (run None, try None)"


def test_default_args_carry_both_notifiers():
    from cakupan_airflow.alerts import notifiers
    from cakupan_airflow.common import DEFAULT_ARGS
    from cakupan_airflow.notify import alert_on_retry

    assert DEFAULT_ARGS["on_failure_callback"] is alert_on_failure
    assert DEFAULT_ARGS["on_retry_callback"] is alert_on_retry
    for event in ("failure", "retry"):
        webhook, mailer = notifiers(event)
        assert isinstance(webhook, WebhookAlert) and isinstance(mailer, EmailAlert)
        assert webhook.http_conn_id == "cakupan_alerts"
        assert mailer.smtp_conn_id == "smtp_default"
        assert webhook.event == mailer.event == event


def test_parsing_a_dag_loads_no_notifier():
    """The providers' notifiers (aiohttp, requests) load only when an alert is due."""
    code = (
        "import sys; sys.path.insert(0, 'dags'); import cakupan_airflow.common;"
        "print(sorted(m for m in sys.modules if m.startswith(('aiohttp', 'cakupan_airflow.alerts',"
        " 'airflow.providers.http.notifications', 'airflow.providers.smtp.notifications'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- the webhook -------------------------------------------------------------------------


def test_failure_alert_reaches_the_receiver(httpserver, hook_url, capsys):
    httpserver.expect_request(
        "/hooks/cakupan", method="POST", query_string={"token": TOKEN}
    ).respond_with_json({"ok": True})

    WebhookAlert("failure")(_context())

    [body] = _received(httpserver)
    assert body == json.loads(json.dumps(payload(_context(), "failure")))
    request = httpserver.log[0][0]
    assert request.headers["Content-Type"] == "application/json"
    assert "webhook failure alert sent (HTTP 200)" in _logged(capsys)
    assert TOKEN not in _logged(capsys)


def test_every_failure_notifier_runs(httpserver, hook_url):
    """The list in DEFAULT_ARGS: the webhook is called; the e-mail has no connection."""
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("ok")
    alert_on_failure(_context())
    assert [b["event"] for b in _received(httpserver)] == ["failure"]


def test_root_url_headers_and_basic_auth_from_the_connection(httpserver, monkeypatch):
    """Airflow's URI form of an HTTP connection: the path is the scheme, the query is extra
    (sent as headers), login and password are basic auth."""
    httpserver.expect_request("/", method="POST", headers={"X-Team": "data"}).respond_with_data(
        "ok"
    )
    monkeypatch.setenv(
        ENV_VAR, f"http://cakupan:pw-123456@{httpserver.host}:{httpserver.port}/http?X-Team=data"
    )
    WebhookAlert("failure")(_context())
    [(request, _)] = httpserver.log
    assert request.authorization.username == "cakupan"
    assert request.authorization.password == "pw-123456"


def test_missing_connection_sends_nothing_and_warns_once(httpserver, capsys):
    notifier = WebhookAlert("failure")
    notifier(_context())
    notifier(_context())
    assert httpserver.log == []
    logged = _logged(capsys)
    assert logged.count("not defined") == 1
    assert "no webhook failure alert: Airflow connection 'cakupan_alerts' is not defined" in logged


def test_a_path_where_the_scheme_goes_is_refused_without_echoing_it(monkeypatch, capsys):
    """`https://host/path` read as an Airflow URI puts the path (often the token) in `schema`."""
    monkeypatch.setenv(ENV_VAR, f"https://hooks.example.go.id/services/T0/{TOKEN}")
    WebhookAlert("failure")(_context())
    assert "give the whole URL (with its path) as the host" in _logged(capsys)
    assert TOKEN not in _logged(capsys)


def test_server_error_is_retried_then_raised(httpserver, hook_url):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data(
        "upstream down", status=500
    )
    with pytest.raises(AirflowException, match="500"):  # the task runner logs it
        WebhookAlert("failure", retry_args=FAST)(_context())
    assert len(httpserver.log) == 3


def test_rate_limit_is_retried_until_accepted(httpserver, hook_url):
    httpserver.expect_ordered_request("/hooks/cakupan").respond_with_data("slow down", status=429)
    httpserver.expect_ordered_request("/hooks/cakupan").respond_with_data("ok")
    WebhookAlert("failure", retry_args=FAST)(_context())
    assert len(httpserver.log) == 2


def test_client_error_is_not_retried(httpserver, hook_url):
    httpserver.expect_request("/hooks/cakupan", method="POST").respond_with_data("no", status=403)
    with pytest.raises(AirflowException, match="403"):
        WebhookAlert("failure", retry_args=FAST)(_context())
    assert len(httpserver.log) == 1


def test_timeout_is_bounded_and_retried(monkeypatch):
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:

        def slow(request: Request) -> Response:
            time.sleep(1.0)
            return Response("late")

        server.expect_request("/slow", method="POST").respond_with_handler(slow)
        monkeypatch.setenv(ENV_VAR, _http_conn(server.url_for("/slow")))
        notifier = WebhookAlert("failure", retry_args=FAST, extra_options={"timeout": 0.2})
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            notifier(_context())
        elapsed = time.monotonic() - started
        attempts = len(server.log)
    finally:
        server.clear()
        server.stop()
    assert elapsed < 3
    assert attempts in (0, 3)  # the receiver logs a request only once it answered


def test_unreachable_webhook_is_retried_then_raised(monkeypatch):
    monkeypatch.setenv(ENV_VAR, _http_conn(f"http://127.0.0.1:9/hook?token={TOKEN}"))  # closed
    with pytest.raises(requests.ConnectionError) as raised:
        WebhookAlert("failure", retry_args=FAST)(_context())
    # the URL's query (and path) is registered with Airflow's masker, which redacts task logs
    assert TOKEN in str(raised.value)
    assert TOKEN not in redact(str(raised.value))


# --- e-mail ------------------------------------------------------------------------------


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


def _smtp_conn(server, **extra) -> str:
    host, port = server.server_address
    return json.dumps(
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
                **extra,
            },
        }
    )


def test_email_through_the_smtp_connection(monkeypatch, smtp_server):
    monkeypatch.setenv(SMTP_VAR, _smtp_conn(smtp_server, to="data@dinkes.example.go.id, b@x.id"))
    EmailAlert("failure")(_context())
    [message] = smtp_server.messages
    assert message["from"] == "<airflow@cakupan.example>"
    assert message["to"] == ["data@dinkes.example.go.id", "b@x.id"]
    mail = email.message_from_string(message["data"])
    # Airflow's own subject and body templates
    assert mail["Subject"].startswith("DAG cakupan_membership - Task load - Run ID scheduled__")
    [html] = [p.get_payload(decode=True).decode() for p in mail.walk() if not p.is_multipart()]
    assert "4 of 4" in html and "/tasks/load/mapped/7" in html


def test_email_without_smtp_connection_is_skipped_with_one_warning(smtp_server, capsys):
    notifier = EmailAlert("failure")
    notifier(_context())
    notifier(_context())
    assert smtp_server.messages == []
    logged = _logged(capsys)
    assert logged.count("not defined") == 1
    assert "no e-mail failure alert: Airflow connection 'smtp_default' is not defined" in logged


def test_email_without_recipients_is_skipped(monkeypatch, smtp_server, capsys):
    monkeypatch.setenv(SMTP_VAR, _smtp_conn(smtp_server))
    EmailAlert("retry")(_context())
    assert smtp_server.messages == []
    assert "has no extra `to`" in _logged(capsys)


# --- a real Airflow run ------------------------------------------------------------------

PROBE_DAG = '''
"""A DAG whose only task fails: the alert must reach the receiver."""
import datetime as dt
import email

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
            ENV_VAR: _http_conn(httpserver.url_for("/hooks/probe") + f"?token={TOKEN}"),
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
    output = result.stdout + result.stderr
    bodies = _received(httpserver)
    assert len(bodies) == 1, output[-6000:]
    body = bodies[0]
    assert body["event"] == "failure"
    assert body["dag_id"] == "cakupan_alert_probe"
    assert body["task_id"] == "explode"
    assert body["run_id"]
    assert body["try_number"] == 1
    assert body["exception"] == "RuntimeError: probe failure for the alert test"
    assert body["log_url"].startswith("http://airflow.test:8080/dags/cakupan_alert_probe/runs/")
    assert output.count("no e-mail failure alert: Airflow connection 'smtp_default'") == 1
    assert TOKEN not in output
    print(f"airflow db migrate + dags test: {time.monotonic() - started:.1f} s", file=sys.stderr)
