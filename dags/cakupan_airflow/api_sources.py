"""Build the API sources' DAG: one load task per API contract (BPS WebAPI, CKAN datastore).

Each load asks its source for one request (`cakupan.pipeline.load_api`) and lands the answer
through the landing of files; like every ingest load it emits `RAW` and its contract's asset.
The period asked for is the run's param `period` (`2024`, `2024-03`), else the year of the run's
data interval, for a source whose request is for one period. Keys come from the contract's
Airflow connection (its password), read through Airflow's own `Connection.get` (environment,
secrets backend or metadata database) and never logged.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from cakupan_airflow.common import DEFAULT_ARGS, RAW, contract_asset


def api_credentials(conn_id: str | None):
    """The contract's Airflow connection as `ApiCredentials`; none defined: none."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException
    from cakupan.sources.api import ApiCredentials, credentials_from_fields

    if not conn_id:
        return ApiCredentials()
    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return ApiCredentials()
    return credentials_from_fields(conn.conn_type, conn.host, conn.port, conn.schema, conn.password)


def _load_task(dag_id: str, contract: str):
    # the API client already retried its request (429 with Retry-After, 5xx, timeouts, bad
    # JSON) within its budget: an API fault fails the task at once, with its one line; a lost
    # warehouse connection is retried as in every ingest DAG
    @task(task_id=f"load_{contract}", outlets=[RAW, contract_asset(contract)])
    def load(params=None, data_interval_start=None, run_id=None) -> dict:
        """Fetch the source's request for this run's period and land it (cakupan.pipeline)."""
        from airflow.sdk.exceptions import AirflowFailException
        from cakupan.pipeline import api_period, load_api
        from cakupan.sources.api import ApiSourceError
        from cakupan.sources.contracts import load_contracts
        from cakupan.sources.errors import SourceFileError
        from cakupan.warehouse import connect

        from cakupan_airflow.common import warehouse_params

        start = data_interval_start.date() if data_interval_start is not None else None
        period = api_period(contract, (params or {}).get("period") or None, start)
        credentials = api_credentials(load_contracts()[contract].connection)
        conn = connect(warehouse_params(), application_name=f"{dag_id}.{contract}")
        try:
            return load_api(contract, period, conn=conn, run_id=run_id, credentials=credentials)
        except (ApiSourceError, SourceFileError) as exc:
            raise AirflowFailException(str(exc)) from None
        finally:
            conn.close()

    return load


def api_sources_dag(
    *,
    dag_id: str,
    contracts: list[str],
    schedule: str,
    start_date: dt.datetime,
    description: str,
    tags: list[str],
):
    """A DAG loading each API contract once per run (independent tasks: one source's fault
    does not stop the others)."""

    @dag(
        dag_id=dag_id,
        description=description,
        schedule=CronDataIntervalTimetable(schedule, timezone="UTC"),
        start_date=start_date,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["cakupan", "ingest", "api", *tags],
        params={
            "period": Param(
                "",
                type="string",
                description="2024 or 2024-03; empty: the year of the data interval",
            ),
        },
        doc_md=description,
    )
    def api_sources():
        for contract in contracts:
            _load_task(dag_id, contract)()

    return api_sources()
