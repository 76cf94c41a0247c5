"""Task failure and retry alerts: a JSON POST to a webhook, and email when SMTP is configured.

The webhook is the Airflow connection `cakupan_alerts` (from any secrets backend, or the
environment):

    AIRFLOW_CONN_CAKUPAN_ALERTS='https://hooks.example.go.id/cakupan?token=...'
    AIRFLOW_CONN_CAKUPAN_ALERTS='{"conn_type": "http", "host": "hooks.example.go.id",
        "schema": "https", "port": 443, "extra": {"endpoint": "/cakupan",
        "headers": {"Authorization": "Bearer ..."}, "email": ["data@dinkes.example.go.id"]}}'

* `host` may be a whole URL (`https://host/path`); otherwise the URL is built from `schema`
  (`http`/`https`, as Airflow's HTTP connections use it; any other value is the path, which is
  where an Airflow URI puts it), `host`, `port` and extra `endpoint`;
* extra `headers` (an object) are sent with the POST, `login`/`password` as HTTP basic auth;
  other scalar extra keys are sent as query parameters (Airflow puts a URI's query string there);
* extra `email` (a list or a comma-separated string): also send an email, through the SMTP
  connection `smtp_default` (or `[email] email_conn_id`) of the SMTP provider; skipped, with a
  warning in the task log, when that connection is not defined.

When `cakupan_alerts` is not defined at all, nothing is sent: one warning per process says so
(the demo has no alerts). The alert never fails the task: every error is logged, not raised.
The POST has a 10 s timeout and at most 3 attempts (HTTP 429, 5xx, timeouts and connection errors
are retried). The webhook URL is logged only masked (`https://host/first-segment/***?token=***`).

Payload (JSON): `event` (`failure` or `retry`), `dag_id`, `task_id`, `map_index`, `run_id`,
`logical_date`, `data_interval_start`, `data_interval_end` (ISO 8601 or null), `try_number`,
`max_tries`, `exception` (type and message, at most 500 characters), `log_url`, `hostname`,
and `text` (one line for chat webhooks that read only `text`).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

ALERTS_CONN_ID = "cakupan_alerts"
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 3
EXCEPTION_CHARS = 500
USER_AGENT = "cakupan-alerts/0.1"
_RESERVED_EXTRA = {"email", "headers", "endpoint", "timeout", "__extra__"}
_RETRY_STATUSES = {408, 425, 429}
# a path segment shown in logs: a short word (`services`, `hooks`, `api`), not a token
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z_-]{0,19}$")

_warned: set[str] = set()


def reset_warnings() -> None:
    """Forget which one-time warnings were given (for tests)."""
    _warned.clear()


def _warn_once(key: str, message: str, *args) -> None:
    if key in _warned:
        return
    _warned.add(key)
    log.warning(message, *args)


def mask_url(url: str) -> str:
    """The URL without credentials: no user info, path after its first segment and query values
    replaced by `***` (webhook tokens live in either)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        segments = [s for s in parts.path.split("/") if s]
        path = ""
        if segments:
            first = segments[0]
            if not _PLAIN_SEGMENT.match(first):  # a token as the first segment
                first = "***"
            path = "/" + first + ("/***" if len(segments) > 1 else "")
        query = ""
        if parts.query:
            keys = [k for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
            query = "?" + "&".join(f"{k}=***" for k in keys) if keys else "?***"
        return f"{parts.scheme}://{host}{path}{query}"
    except Exception:  # noqa: BLE001 - never let masking leak the original
        return "<webhook url>"


@dataclass
class AlertTarget:
    """Where alerts go, resolved from the connection `cakupan_alerts`."""

    url: str | None
    headers: dict[str, str] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)
    login: str | None = None
    password: str | None = None


def _emails(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _extra_dict(extra: Any) -> dict:
    if isinstance(extra, dict):
        return extra
    if isinstance(extra, str) and extra.strip():
        try:
            data = json.loads(extra)
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}
    return {}


def _target_from_fields(
    *,
    conn_type: str | None,
    host: str | None,
    schema: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    extra: dict,
) -> AlertTarget:
    conn_type = (conn_type or "").lower().replace("_", "-")
    host = (host or "").strip()
    schema = (schema or "").strip()
    url: str | None = None
    if host.startswith(("http://", "https://")):
        url = host
    elif host:
        if schema.lower() in ("http", "https"):
            scheme, path = schema.lower(), ""
        else:
            scheme = conn_type if conn_type in ("http", "https") else "https"
            path = urllib.parse.unquote(schema)
        netloc = f"{host}:{port}" if port else host
        url = f"{scheme}://{netloc}"
        if path:
            url += "/" + path.lstrip("/")
    if url:
        endpoint = str(extra.get("endpoint") or "").strip()
        if endpoint:
            url = url.rstrip("/") + "/" + endpoint.lstrip("/")
        params = [
            (k, str(v))
            for k, v in extra.items()
            if k not in _RESERVED_EXTRA and isinstance(v, str | int | float | bool)
        ]
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    headers = extra.get("headers") if isinstance(extra.get("headers"), dict) else {}
    return AlertTarget(
        url=url,
        headers={str(k): str(v) for k, v in headers.items()},
        emails=_emails(extra.get("email")),
        login=login or None,
        password=password or None,
    )


def _target_from_env(value: str) -> AlertTarget:
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        return _target_from_fields(
            conn_type=data.get("conn_type"),
            host=data.get("host"),
            schema=data.get("schema"),
            port=data.get("port"),
            login=data.get("login"),
            password=data.get("password"),
            extra=_extra_dict(data.get("extra")),
        )
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"AIRFLOW_CONN_{ALERTS_CONN_ID.upper()} must be an http(s) URL or JSON")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    extra = {}
    kept = []
    for key, val in query:
        if key == "__extra__":
            extra = _extra_dict(val)
        else:
            kept.append((key, val))
    netloc = parts.netloc.rsplit("@", 1)[-1]  # without user info (sent as basic auth)
    url = urllib.parse.urlunsplit(
        (parts.scheme, netloc, parts.path, urllib.parse.urlencode(kept), "")
    )
    headers = extra.get("headers") if isinstance(extra.get("headers"), dict) else {}
    return AlertTarget(
        url=url,
        headers={str(k): str(v) for k, v in headers.items()},
        emails=_emails(extra.get("email")),
        login=urllib.parse.unquote(parts.username) if parts.username else None,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
    )


def resolve_target(conn_id: str = ALERTS_CONN_ID) -> AlertTarget | None:
    """The alert target, or None when the connection is not defined anywhere."""
    env_value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if env_value:
        return _target_from_env(env_value)
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 - not found, or no backend reachable: no alerts
        log.debug("connection %s not available: %s", conn_id, exc)
        return None
    return _target_from_fields(
        conn_type=conn.conn_type,
        host=conn.host,
        schema=conn.schema,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        extra=_extra_dict(conn.extra_dejson if hasattr(conn, "extra_dejson") else conn.extra),
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _exception_text(exc: Any) -> str | None:
    if exc is None:
        return None
    if isinstance(exc, BaseException):
        message = str(exc)
        text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    else:
        text = str(exc)
    return text[:EXCEPTION_CHARS]


def _first(context: dict, dag_run: Any, key: str) -> Any:
    value = context.get(key)
    return value if value is not None else getattr(dag_run, key, None)


def build_payload(context: dict, event: str) -> dict:
    """The JSON body of an alert, from a task callback's context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None)
    task_id = getattr(ti, "task_id", None)
    run_id = (
        context.get("run_id") or getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None)
    )
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # noqa: BLE001 - a property that reads config may fail
        log_url = None
    map_index = getattr(ti, "map_index", None)
    max_tries = getattr(ti, "max_tries", None)
    if max_tries is None:
        max_tries = getattr(context.get("task"), "retries", None)
    interval_start = _first(context, dag_run, "data_interval_start")
    interval_end = _first(context, dag_run, "data_interval_end")
    logical_date = _first(context, dag_run, "logical_date")
    exception = _exception_text(context.get("exception"))
    try_number = getattr(ti, "try_number", None)
    task_label = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index not in (None, -1) else "")
    verb = "failed" if event == "failure" else "will be retried"
    text = f"Cakupan: {task_label} {verb} (run {run_id}, try {try_number})"
    if exception:
        text += f": {exception.splitlines()[0][:200]}"
    return {
        "event": event,
        "dag_id": dag_id,
        "task_id": task_id,
        "map_index": map_index,
        "run_id": run_id,
        "logical_date": _iso(logical_date),
        "data_interval_start": _iso(interval_start),
        "data_interval_end": _iso(interval_end),
        "try_number": try_number,
        "max_tries": max_tries,
        "exception": exception,
        "log_url": log_url,
        "hostname": getattr(ti, "hostname", None),
        "text": text,
    }


def post_json(
    target: AlertTarget,
    payload: dict,
    *,
    timeout: float = TIMEOUT_SECONDS,
    attempts: int = MAX_ATTEMPTS,
    backoff: float = 1.0,
) -> bool:
    """POST the payload; True when the webhook answered 2xx. Never raises."""
    attempts = max(1, attempts)
    masked = mask_url(target.url or "")
    body = json.dumps(payload, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **target.headers}
    if target.login or target.password:
        token = base64.b64encode(f"{target.login or ''}:{target.password or ''}".encode()).decode()
        headers.setdefault("Authorization", f"Basic {token}")
    last = "no attempt"
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                response.read(1024)
                log.info("alert sent to %s (HTTP %s)", masked, response.status)
                return True
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            retry = exc.code >= 500 or exc.code in _RETRY_STATUSES
        except TimeoutError:
            last, retry = "timeout", True
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            last = "timeout" if isinstance(reason, TimeoutError) else "connection error"
            retry = True
        except Exception as exc:  # noqa: BLE001 - an alert must never fail the task
            last, retry = f"{type(exc).__name__}", False
        if not retry or attempt == attempts:
            break
        log.warning("alert to %s: %s (attempt %s of %s); retrying", masked, last, attempt, attempts)
        time.sleep(backoff * 2 ** (attempt - 1))
    log.error("alert to %s not delivered: %s after %s attempt(s)", masked, last, attempt)
    return False


def _smtp_conn_id() -> str:
    try:
        from airflow.sdk.configuration import conf

        return conf.get("email", "email_conn_id", fallback="smtp_default") or "smtp_default"
    except Exception:  # noqa: BLE001
        return "smtp_default"


def send_email(target: AlertTarget, payload: dict) -> bool:
    """Email the alert through the SMTP provider's connection; False (logged) when not possible."""
    if not target.emails:
        return False
    conn_id = _smtp_conn_id()
    try:
        from airflow.providers.smtp.hooks.smtp import SmtpHook
        from airflow.sdk import BaseHook
    except ImportError:
        log.warning("alert email skipped: apache-airflow-providers-smtp is not installed")
        return False
    try:
        smtp_conn = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001
        log.warning("alert email skipped: SMTP connection %r is not defined", conn_id)
        return False
    subject = f"[cakupan] {payload['event']}: {payload['dag_id']}.{payload['task_id']}"
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in payload.items()
        if k != "text" and v is not None
    )
    body = f"<p>{html.escape(payload['text'])}</p><table>{rows}</table>"
    try:
        from_email = _extra_dict(smtp_conn.extra_dejson).get("from_email")
        if not from_email:
            from airflow.sdk.configuration import conf

            from_email = conf.get("email", "from_email", fallback=None) or "airflow@localhost"
        with SmtpHook(smtp_conn_id=conn_id) as hook:
            hook.send_email_smtp(
                to=target.emails, subject=subject, html_content=body, from_email=from_email
            )
    except Exception as exc:  # noqa: BLE001 - an alert must never fail the task
        log.error("alert email to %d recipient(s) failed: %s", len(target.emails), exc)
        return False
    log.info("alert emailed to %d recipient(s)", len(target.emails))
    return True


class CakupanAlertNotifier(BaseNotifier):
    """`on_failure_callback` / `on_retry_callback`: POST the failure to `cakupan_alerts`."""

    def __init__(
        self,
        event: str = "failure",
        *,
        conn_id: str = ALERTS_CONN_ID,
        timeout: float = TIMEOUT_SECONDS,
        attempts: int = MAX_ATTEMPTS,
        backoff: float = 1.0,
    ):
        super().__init__()
        self.event = event
        self.conn_id = conn_id
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff

    def notify(self, context) -> None:
        try:
            self._notify(context)
        except Exception:  # noqa: BLE001 - an alert must never fail the task
            log.exception("cakupan alert (%s) failed", self.event)

    def _notify(self, context) -> None:
        try:
            target = resolve_target(self.conn_id)
        except Exception as exc:  # noqa: BLE001 - a malformed connection is logged, not raised
            log.error("connection %s is not usable: %s", self.conn_id, type(exc).__name__)
            return
        if target is None:
            _warn_once(
                f"missing:{self.conn_id}",
                "no alerts: Airflow connection %r is not defined (set AIRFLOW_CONN_%s to a"
                " webhook URL to get failure alerts)",
                self.conn_id,
                self.conn_id.upper(),
            )
            return
        payload = build_payload(context, self.event)
        if target.url:
            post_json(
                target,
                payload,
                timeout=self.timeout,
                attempts=self.attempts,
                backoff=self.backoff,
            )
        if target.emails:
            send_email(target, payload)


def alert_on_failure() -> CakupanAlertNotifier:
    return CakupanAlertNotifier("failure")


def alert_on_retry() -> CakupanAlertNotifier:
    return CakupanAlertNotifier("retry")
