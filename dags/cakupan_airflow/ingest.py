"""Build one ingest DAG per source family: list the interval's files, load each (mapped).

A DAG file names its contracts and its schedule, nothing else: each load writes the raw table its
contract declares and emits `RAW` (the transform DAG's schedule) and its contract's asset.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from cakupan_airflow.common import DEFAULT_ARGS, RAW, contract_asset


def _month(value: str) -> dt.date:
    year, month = value.strip()[:7].split("-")
    return dt.date(int(year), int(month), 1)


def interval(
    dag_id: str, params, data_interval_start, data_interval_end
) -> tuple[dt.date, dt.date]:
    """The months a run loads: params `from_month`/`to_month` (inclusive), else its interval."""
    params = params or {}
    if params.get("from_month"):
        start = _month(params["from_month"])
        last = _month(params.get("to_month") or params["from_month"])
        return start, dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)
    if data_interval_start is not None and data_interval_end is not None:
        return data_interval_start.date(), data_interval_end.date()
    raise ValueError(
        f"{dag_id}: no data interval; trigger with a logical date or with params"
        " from_month/to_month"
    )


def _list_files_task(dag_id: str, contracts: list[str]):
    @task
    def list_files(params=None, data_interval_start=None, data_interval_end=None) -> list[dict]:
        """The source files whose period falls in this run's interval (or the params')."""
        from cakupan.pipeline import files_for_interval

        start, end = interval(dag_id, params, data_interval_start, data_interval_end)
        files = [
            {"contract": name, "path": path}
            for name in contracts
            for path in files_for_interval(name, start, end)
        ]
        print(f"{len(files)} file(s) for {start} .. {end}")  # noqa: T201 - task log line
        return files

    return list_files


def load_one(
    dag_id: str, file: dict, run_id: str | None = None, *, allow_shrink: bool = False
) -> dict:
    """What a load task runs: one file by its contract into its raw table.

    A fault of the file itself (unsafe, unreadable, a missing column: `SourceFileError`) or of
    its contract (`ContractError`) is the same on every try: the task fails at once, without
    its retries, and alerts. Anything else (a lost connection, a server restarting) may pass:
    it is raised as it is, and Airflow retries it."""
    from airflow.sdk.exceptions import AirflowFailException
    from cakupan.pipeline import load_file
    from cakupan.sources.contracts import load_contracts
    from cakupan.sources.errors import ContractError, SourceFileError
    from cakupan.warehouse import connect
    from cakupan.warehouse.person_key import PersonKeyError

    from cakupan_airflow.common import set_person_key_env, warehouse_params

    if load_contracts()[file["contract"]].persons is not None:
        set_person_key_env()  # person-level files are keyed on the way in
    conn = connect(warehouse_params(), application_name=f"{dag_id}.load")
    try:
        return load_file(
            file["path"], file["contract"], conn=conn, run_id=run_id, allow_shrink=allow_shrink
        )
    except (SourceFileError, ContractError) as exc:
        raise AirflowFailException(f"{exc} (a fault of the file: not retried)") from exc
    except PersonKeyError as exc:  # a setting, the same on every try
        raise AirflowFailException(str(exc)) from exc
    finally:
        conn.close()


def _load_task(dag_id: str, contracts: list[str]):
    @task(outlets=[RAW, *map(contract_asset, contracts)], max_active_tis_per_dag=2)
    def load(file: dict, run_id=None, params=None) -> dict:
        """Extract one file by its contract and land it in its raw table; a fault of the file
        fails at once, a transient one (the connection) is retried."""
        return load_one(dag_id, file, run_id, allow_shrink=bool((params or {}).get("allow_shrink")))

    return load


def ingest_dag(
    *,
    dag_id: str,
    contracts: list[str],
    schedule,
    start_date: dt.datetime,
    description: str,
    tags: list[str],
    catchup: bool = False,
):
    """An ingest DAG: one mapped load task per file of each contract in the data interval."""

    @dag(
        dag_id=dag_id,
        description=description,
        # a data interval per period (Airflow 3's cron schedules default to a point in time,
        # whose empty interval would select no file): each run reads exactly its month or semester
        schedule=CronDataIntervalTimetable(schedule, timezone="UTC"),
        start_date=start_date,
        catchup=catchup,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["cakupan", "ingest", *tags],
        params={
            "from_month": Param("", type="string", description="YYYY-MM; empty: the data interval"),
            "to_month": Param(
                "", type="string", description="YYYY-MM inclusive; empty: the interval"
            ),
            "allow_shrink": Param(
                False,
                type="boolean",
                description="load deliveries far smaller than the current load of their periods",
            ),
        },
        doc_md=description,
    )
    def ingest():
        _load_task(dag_id, contracts).expand(file=_list_files_task(dag_id, contracts)())

    return ingest()
