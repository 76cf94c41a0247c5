"""Defaults, assets and the warehouse connection shared by Cakupan's DAGs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from airflow.sdk import Asset

from cakupan_airflow.notify import alert_on_failure, alert_on_retry

WAREHOUSE_CONN_ID = "warehouse"
PROJECT_ROOT = Path(os.environ.get("CAKUPAN_HOME", Path(__file__).resolve().parents[2]))

DEFAULT_ARGS = {
    "owner": "cakupan",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=30),
    "execution_timeout": dt.timedelta(hours=1),
    # webhook/email alerts through the connection `cakupan_alerts` (none when it is not defined)
    "on_failure_callback": alert_on_failure(),
    "on_retry_callback": alert_on_retry(),
}


def raw_asset(table: str) -> Asset:
    """The Asset for a raw table a loader writes (`raw.bpjs_membership`)."""
    # an `x-` scheme is Airflow's mark of a private one: no URI normaliser is looked up, which
    # would load every provider's asset handlers while the DAG file is parsed (0.16 s)
    return Asset(name=table, uri=f"x-cakupan://warehouse/{table.replace('.', '/')}")


def warehouse_params():
    """The warehouse from the Airflow connection `warehouse` (env var, secrets backend or DB)."""
    from airflow.sdk import BaseHook
    from cakupan.warehouse.connection import parse_url

    return parse_url(BaseHook.get_connection(WAREHOUSE_CONN_ID).get_uri())
