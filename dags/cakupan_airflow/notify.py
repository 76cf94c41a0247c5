"""Task failure and retry callbacks for `DEFAULT_ARGS`.

They import the notifiers (`cakupan_airflow.alerts`) only when an alert is due: the http and
smtp providers' notifiers bring aiohttp, requests and tenacity, 0.23 s that every DAG file's
parse would otherwise pay.
"""

from __future__ import annotations


def _notify(event: str, context) -> None:
    from cakupan_airflow.alerts import notifiers

    for notifier in notifiers(event):
        notifier(context)


def alert_on_failure(context) -> None:
    """A task failed for good: the webhook and e-mail alerts (connections permitting)."""
    _notify("failure", context)


def alert_on_retry(context) -> None:
    """A task will be retried: the same alerts, as `retry`."""
    _notify("retry", context)
