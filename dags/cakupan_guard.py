"""The statement guard: cancels the BI and office roles' statements past their timeout.

Every five minutes one task looks every few seconds for close to five minutes
(`cakupan.warehouse.guard.run_guard`, also `cakupan roles guard`): a role that lifts its own
`statement_timeout` still has its statements ended. Its connection's role needs a superuser, or
`grant pg_read_all_stats, pg_signal_backend to ROLE` (docs/OPERATIONS.md, "Roles").
"""

import datetime as dt

from airflow.sdk import dag, task
from cakupan_airflow.common import DEFAULT_ARGS

INTERVAL = dt.timedelta(minutes=5)


@dag(
    dag_id="cakupan_guard",
    description="Cancel the reading roles' statements that outlive their statement timeout.",
    schedule=INTERVAL,
    start_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    default_args={
        **DEFAULT_ARGS,
        "retry_delay": dt.timedelta(seconds=30),
        "retry_exponential_backoff": False,
        "execution_timeout": INTERVAL + dt.timedelta(minutes=2),
    },
    tags=["cakupan", "guard", "roles"],
)
def cakupan_guard():
    @task
    def guard() -> int:
        """Look every 5 s for 4.5 minutes; the statements ended are in the task's log."""
        from cakupan.warehouse import connect
        from cakupan.warehouse.guard import run_guard
        from cakupan_airflow.common import warehouse_params

        conn = connect(warehouse_params(), application_name="cakupan_guard")
        try:
            seconds = INTERVAL.total_seconds() - 30
            return len(run_guard(conn, duration_s=seconds, interval_s=5.0))
        finally:
            conn.close()

    guard()


cakupan_guard()
