"""Task failure and retry alerts: Airflow's HTTP and SMTP notifiers, set from connections alone.

* `WebhookAlert` is the http provider's `HttpNotifier` with Cakupan's JSON body (`payload`): the
  connection `cakupan_alerts` gives the URL (its host, the whole URL, or host, port and schema
  `http`/`https`), headers (extra) and basic auth (login, password); the `HttpHook` sends it, tried
  at most 3 times through the hook's tenacity retry (HTTP 408, 429, 5xx, timeouts and refused
  connections), each try with a 10 s timeout.
* `EmailAlert` is the smtp provider's `SmtpNotifier`: the SMTP connection (`smtp_default`, or
  `[email] email_conn_id`) gives the server, login, `from_email` and the templates; its extra `to`
  (a list, or a comma-separated string) gives the recipients.

A connection that is not defined is no error: that notifier logs one warning per process and
sends nothing. A failed delivery is logged by Airflow's task runner and never fails the task;
Airflow's masker keeps the connection's password, secret headers and the webhook's path and query
out of the logs.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import requests
import tenacity
from airflow.providers.http.notifications.http import HttpNotifier
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from airflow.sdk.log import mask_secret

ALERTS_CONN_ID = "cakupan_alerts"
TIMEOUT_SECONDS = 10
EXCEPTION_CHARS = 500
RETRY_ARGS = {
    "stop": tenacity.stop_after_attempt(3),
    "wait": tenacity.wait_exponential(multiplier=1, max=4),  # 1 s, then 2 s
    "retry": tenacity.retry_if_exception_type((requests.ConnectionError, requests.Timeout))
    | tenacity.retry_if_result(lambda r: r.status_code >= 500 or r.status_code in (408, 429)),
    "retry_error_callback": lambda state: state.outcome.result(),  # the last answer, or raise
}


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def payload(context, event: str) -> dict:
    """The webhook's JSON body, from a task callback's context."""
    ti = context.get("ti")
    dag_run = context.get("dag_run")
    exc = context.get("exception")
    if isinstance(exc, BaseException):
        exc = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    exc = str(exc)[:EXCEPTION_CHARS] if exc is not None else None
    ids = {k: getattr(ti, k, None) for k in ("dag_id", "task_id", "map_index", "run_id")}
    label = f"{ids['dag_id']}.{ids['task_id']}"
    if ids["map_index"] not in (None, -1):
        label += f"[{ids['map_index']}]"
    verb = "failed" if event == "failure" else "will be retried"
    text = f"Cakupan: {label} {verb} (run {ids['run_id']}, try {getattr(ti, 'try_number', None)})"
    return {
        "event": event,
        **ids,
        **{
            k: _iso(getattr(dag_run, k, None))
            for k in ("logical_date", "data_interval_start", "data_interval_end")
        },
        "try_number": getattr(ti, "try_number", None),
        "max_tries": getattr(ti, "max_tries", None),
        "exception": exc,
        "log_url": getattr(ti, "log_url", None),
        "hostname": getattr(ti, "hostname", None),
        "text": text + (f": {exc.splitlines()[0][:200]}" if exc else ""),
    }


def _connection(notifier, conn_id: str):
    """The connection, or None (one warning per notifier) when it is not defined."""
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if not getattr(notifier, "_warned", False):
            notifier._warned = True
            notifier.log.warning("no %s: Airflow connection %r is not defined", notifier, conn_id)
        return None


class WebhookAlert(HttpNotifier):
    """POST `payload(context, event)` to the connection `cakupan_alerts`."""

    def __init__(self, event: str, *, retry_args: dict | None = None, **kwargs):
        kwargs.setdefault("http_conn_id", ALERTS_CONN_ID)
        super().__init__(headers={"Content-Type": "application/json"}, **kwargs)
        self.extra_options = {"timeout": TIMEOUT_SECONDS, **self.extra_options}
        self.event = event
        self.retry_args = retry_args or RETRY_ARGS

    def __str__(self) -> str:
        return f"webhook {self.event} alert"

    def notify(self, context) -> None:
        conn = _connection(self, self.http_conn_id)
        if conn is None:
            return
        if "://" not in (conn.host or "") and (conn.schema or "http") not in ("http", "https"):
            self.log.error(
                "no %s: the schema of connection %r is not http or https; give the whole URL"
                " (with its path) as the host",
                self,
                self.http_conn_id,
            )
            return
        url = urlsplit(self.hook.url_from_endpoint(self.endpoint))
        for part in (url.path, url.query):
            if len(part) > 4:  # a webhook's path or query often is its token
                mask_secret(part)
        response = self.hook.run_with_advanced_retry(
            self.retry_args,
            endpoint=self.endpoint,
            json=payload(context, self.event),
            headers=self.headers,
            extra_options={**self.extra_options, "check_response": False},
        )
        self.hook.check_response(response)  # raises, logged by the task runner, when not 2xx/3xx
        self.log.info("%s sent (HTTP %s)", self, response.status_code)


class EmailAlert(SmtpNotifier):
    """Mail Airflow's task alert through the SMTP connection, to its extra `to`."""

    def __init__(self, event: str, **kwargs):
        super().__init__(to=[], **kwargs)
        self.event = event

    def __str__(self) -> str:
        return f"e-mail {self.event} alert"

    def notify(self, context) -> None:
        conn = _connection(self, self.smtp_conn_id)
        if conn is None:
            return
        self.to = conn.extra_dejson.get("to")
        if not self.to:
            self.log.warning("no %s: connection %r has no extra `to`", self, self.smtp_conn_id)
            return
        super().notify(context)


def notifiers(event: str) -> list:
    """The notifiers of one event (`failure`, `retry`): the webhook and the e-mail."""
    return [WebhookAlert(event), EmailAlert(event)]
