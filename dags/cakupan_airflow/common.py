"""Defaults, assets and the warehouse connection shared by Cakupan's DAGs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from airflow.sdk import Asset

from cakupan_airflow.notify import alert_on_failure, alert_on_retry

WAREHOUSE_CONN_ID = "warehouse"
PERSON_KEY_CONN_ID = "cakupan_person_key"
PROJECT_ROOT = Path(os.environ.get("CAKUPAN_HOME", Path(__file__).resolve().parents[2]))

DEFAULT_ARGS = {
    "owner": "cakupan",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=30),
    "execution_timeout": dt.timedelta(hours=1),
    # Airflow notifiers: a webhook (connection `cakupan_alerts`) and e-mail (`smtp_default`)
    "on_failure_callback": alert_on_failure,
    "on_retry_callback": alert_on_retry,
}


# an `x-` scheme is Airflow's mark of a private one: no URI normaliser is looked up, which would
# load every provider's asset handlers while a DAG file is parsed (0.16 s)
RAW = Asset(name="raw", uri="x-cakupan://warehouse/raw")
"""The warehouse's raw schema: every load emits it, and the transform DAG is scheduled on it, so
a new ingest DAG or contract triggers the transform without being listed anywhere else."""


def contract_asset(contract: str) -> Asset:
    """What the loads of one source contract wrote (`bpjs_membership`): lineage in the UI."""
    return Asset(name=f"raw/{contract}", uri=f"x-cakupan://warehouse/raw/{contract}")


def warehouse_params():
    """The warehouse from the Airflow connection `warehouse` (env var, secrets backend or DB).

    Read through the postgres provider's hook: its fields and extras become libpq keywords as the
    hook itself would pass them (the hook's own extras, such as `cursor`, left out).
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from cakupan.warehouse.connection import from_airflow_fields

    hook = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID)
    conn = hook.connection
    extra = {k: v for k, v in conn.extra_dejson.items() if k not in hook.ignored_extra_options}
    return from_airflow_fields(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=extra,
    )


def set_dbt_connection_env(context=None) -> None:
    """Before a dbt task runs: libpq's variables from the connection `warehouse`, which
    `dbt_project/profiles.yml` reads, so dbt connects as the loaders do (Cosmos' dbt child
    process inherits this process's environment)."""
    os.environ.update(warehouse_params().libpq_env())


def set_person_key_env() -> bool:
    """Before a person-level load: the HMAC key from the Airflow connection
    `cakupan_person_key` (its password) into `CAKUPAN_PERSON_KEY`, which the product reads
    (`cakupan.warehouse.person_key`); never logged. No such connection: the environment's own
    variable (or the product's clear error) stands. Returns whether the connection gave one."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(PERSON_KEY_CONN_ID)
    except AirflowNotFoundException:
        return False
    if not conn.password:
        return False
    os.environ["CAKUPAN_PERSON_KEY"] = conn.password
    return True
