"""The transform DAG writes the worklists once the whole build has ended."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "cakupan_transform.py"


@pytest.fixture(scope="module")
def transform_dag():
    saved = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    os.environ["AIRFLOW_CONN_WAREHOUSE"] = "postgresql://stub:stub@127.0.0.1:1/stub"
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAG_FILE))
        assert bag.import_errors == {}
        yield bag.dags["cakupan_transform"]
    finally:
        if saved is None:
            os.environ.pop("AIRFLOW_CONN_WAREHOUSE", None)
        else:
            os.environ["AIRFLOW_CONN_WAREHOUSE"] = saved


def test_write_worklists_follows_every_dbt_leaf(transform_dag):
    task = transform_dag.get_task("write_worklists")
    dbt_tasks = {t.task_id for t in transform_dag.tasks if t.task_id.startswith("dbt.")}
    leaves = {t for t in dbt_tasks if not transform_dag.get_task(t).downstream_task_ids & dbt_tasks}
    assert leaves and task.upstream_task_ids == leaves
    assert task.downstream_task_ids == set()
    assert task.retries == 3 and task.trigger_rule == "all_success"
