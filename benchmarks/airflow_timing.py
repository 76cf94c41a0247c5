"""Time DAG runs in an Airflow that is already up, as a deployment's services are (`make bench`).

`python benchmarks/airflow_timing.py RUNS_JSON` (`make bench` runs it, with the dags folder on
PYTHONPATH and the Airflow environment set) imports Airflow and the DAG files once, then runs
each DAG run of RUNS_JSON in order with `DAG.test()` (every task through Airflow's task runner
and execution API, in this process) and prints one JSON object: the seconds of each run and of
the start-up. RUNS_JSON is a list of `{"dag_id", "logical_date", "conf"}`; a run marked
`"warm_up": true` pays what a running deployment has already paid (the execution API's first
requests) and is reported apart.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time


def _load_dag(dag_id: str):
    """The DAG as `airflow dags test` finds it: parsed from the dags bundle."""
    from airflow.utils.cli import get_bagged_dag

    return get_bagged_dag(bundle_names=None, dag_id=dag_id, dagfile_path=None)


def _task_seconds(dag_run) -> dict[str, float]:
    """Each task instance's duration in the run (the metadata database's start and end dates)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.duration)
            .filter(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
            .all()
        )
    return {
        task_id if map_index < 0 else f"{task_id}[{map_index}]": round(duration or 0.0, 3)
        for task_id, map_index, duration in rows
    }


def main(argv: list[str]) -> int:
    runs = json.loads(argv[0])
    started = time.perf_counter()
    import airflow.sdk  # noqa: F401 - the start-up a service pays once

    dags = {run["dag_id"]: _load_dag(run["dag_id"]) for run in runs}
    result: dict = {"startup_s": time.perf_counter() - started, "runs": []}
    for run in runs:
        logical_date = dt.datetime.fromisoformat(run["logical_date"]).replace(tzinfo=dt.UTC)
        began = time.perf_counter()
        dag_run = dags[run["dag_id"]].test(logical_date=logical_date, run_conf=run.get("conf"))
        seconds = time.perf_counter() - began
        state = str(getattr(dag_run, "state", None))
        if not state.endswith("success"):
            print(json.dumps({"error": f"{run['dag_id']} ended {state}"}))  # noqa: T201
            return 1
        result["runs"].append({**run, "seconds": seconds, "tasks": _task_seconds(dag_run)})
    print("CAKUPAN_TIMING " + json.dumps(result))  # noqa: T201 - read by cakupan.bench
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
