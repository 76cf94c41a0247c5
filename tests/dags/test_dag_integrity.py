"""Every DAG imports without a database or secrets, has tags and retries, does no work at import."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py"))
EXPECTED = {
    "cakupan_reference",
    "cakupan_population",
    "cakupan_membership",
    "cakupan_special_groups",
    "cakupan_persons",
    "cakupan_transform",
    "cakupan_api_sources",
}


@pytest.fixture(scope="module")
def dagbag():
    # a stub connection: DAGs must load without real secrets (restored afterwards, so that
    # the integration tests still see the user's own warehouse, if any)
    saved = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    os.environ["AIRFLOW_CONN_WAREHOUSE"] = "postgresql://stub:stub@127.0.0.1:1/stub"
    try:
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=str(DAGS))
    finally:
        if saved is None:
            os.environ.pop("AIRFLOW_CONN_WAREHOUSE", None)
        else:
            os.environ["AIRFLOW_CONN_WAREHOUSE"] = saved


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags_present(dagbag):
    assert set(dagbag.dag_ids) == EXPECTED


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_tags_retries_and_owner(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "cakupan" in dag.tags and len(dag.tags) >= 2
    assert dag.max_active_runs == 1
    for task in dag.tasks:
        if task.task_id == "dbt.dbt_producer_watcher":
            # a failed `dbt build` is final: Cosmos would skip a retry, and the run must fail
            # and alert (tests/integration/test_demo_pipeline.py)
            assert task.retries == 0
        else:
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries={task.retries}"
        assert task.execution_timeout is not None, f"{dag_id}.{task.task_id} has no timeout"


def test_loaders_declare_assets(dagbag):
    """Every load emits `raw` (the transform's schedule) and an asset per contract it loads."""
    for dag_id in EXPECTED - {"cakupan_transform"}:
        dag = dagbag.dags[dag_id]
        # the API sources' DAG has one load task per source: load_<contract>
        loads = [t for t in dag.tasks if t.task_id == "load" or t.task_id.startswith("load_")]
        assert loads, dag_id
        for load in loads:
            names = {outlet.name for outlet in load.outlets}
            contracts = {n.removeprefix("raw/") for n in names if n.startswith("raw/")}
            assert "raw" in names and contracts
            assert names == {"raw"} | {f"raw/{c}" for c in contracts}
            if load.task_id != "load":
                assert contracts == {load.task_id.removeprefix("load_")}
            # a private (x-) scheme: parsing looks up no provider's URI normaliser
            assert all(o.uri == f"x-cakupan://warehouse/{o.name}" for o in load.outlets)


def test_the_api_sources_dag_loads_every_api_contract(dagbag):
    from cakupan.pipeline import api_sources

    dag = dagbag.dags["cakupan_api_sources"]
    assert sorted(t.task_id.removeprefix("load_") for t in dag.tasks) == api_sources()


def test_transform_is_asset_scheduled_and_renders_dbt_models(dagbag):
    dag = dagbag.dags["cakupan_transform"]
    assert dag.timetable.__class__.__name__ == "AssetTriggeredTimetable"
    # one asset, which every load emits: a new ingest DAG needs no entry here
    assert dag.timetable.asset_condition.name == "raw"
    task_ids = set(dag.task_ids)
    assert "source_freshness" in task_ids
    assert any("fct_coverage_district_month" in t for t in task_ids), sorted(task_ids)


def _manifest_nodes(folder: str | None = None) -> set[str]:
    """The project's models (under `models/<folder>/` when given) and seeds, by name."""
    import json

    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["package_name"] == "cakupan"
        and (folder is None or node["original_file_path"].startswith(f"models/{folder}/"))
    }


def _watched(dag) -> set[str]:
    return {
        t.task_id.removeprefix("dbt.").rsplit("_", 1)[0]
        for t in dag.tasks
        if t.task_id.endswith(("_run", "_seed"))
    }


def _default_watcher_mode() -> bool:
    return (
        os.environ.get("CAKUPAN_DBT_EXECUTION_MODE", "watcher") == "watcher"
        and os.environ.get("CAKUPAN_DBT_TEST_BEHAVIOR", "build") == "build"
    )


def test_transform_runs_one_dbt_build_with_its_tests_after_freshness(dagbag):
    """Cosmos' watcher mode: one producer `dbt build` of everything (tests included), then one
    watcher task per mart model."""
    if not _default_watcher_mode() or os.environ.get("CAKUPAN_DBT_WATCHERS", "marts") != "marts":
        pytest.skip("the DAG's execution mode, test behaviour or watchers are overridden")
    dag = dagbag.dags["cakupan_transform"]
    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert {"source_freshness", "grant_bi_access"} <= producer.upstream_task_ids
    flags = producer.dbt_cmd_flags
    assert {"test", "unit_test", "model", "seed"} <= set(flags[1::2]), flags
    # the build selects every node: no --select, no --exclude, although only marts are rendered
    assert producer.select is None and producer.exclude is None and producer.selector is None
    assert "--select" not in producer.add_cmd_flags() + flags
    marts = _manifest_nodes("marts")
    assert len(marts) >= 10 and "fct_coverage_district_month" in marts
    assert _watched(dag) == marts
    assert not any(t.task_id.endswith("_test") for t in dag.tasks)  # the tests run in the build
    # no per-model Assets: nobody schedules on them, and a Unix-socket host makes no valid URI
    assert producer._should_generate_model_uris is False
    dbt_tasks = [t for t in dag.tasks if hasattr(t, "emit_datasets")]
    assert dbt_tasks and not any(t.emit_datasets for t in dbt_tasks)
    # every dbt task sets libpq's variables from the connection before dbt runs
    assert all(t._pre_execute_hook for t in dbt_tasks)
    for watcher in (t for t in dag.tasks if t.task_id.endswith("_run")):
        # each starts after the producer, directly or through its parents
        upstream = {u for u in watcher.upstream_task_ids if u.startswith("dbt.")}
        assert upstream, watcher.task_id
        if producer.task_id in upstream:
            assert watcher.trigger_rule == "none_failed"


def _transform_task_ids(tmp_path: Path, **env_vars: str) -> tuple[set[str], str | None]:
    """The transform DAG's task ids and its producer's select, parsed in a fresh interpreter."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "PYTHONPATH": str(DAGS), **env_vars}
    env["AIRFLOW_CONN_WAREHOUSE"] = "postgresql://stub:stub@127.0.0.1:1/stub"
    code = (
        "import json; from airflow.dag_processing.dagbag import DagBag;"
        "bag = DagBag(dag_folder='dags/cakupan_transform.py');"
        "assert not bag.import_errors, bag.import_errors;"
        "dag = bag.dags['cakupan_transform'];"
        "p = dag.get_task('dbt.dbt_producer_watcher');"
        "print(json.dumps({'tasks': dag.task_ids, 'select': p.select}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    return set(parsed["tasks"]), parsed["select"]


def test_transform_watchers_all_renders_every_model_and_seed(tmp_path):
    if not _default_watcher_mode():
        pytest.skip("the DAG's execution mode or test behaviour is overridden")
    tasks, select = _transform_task_ids(tmp_path, CAKUPAN_DBT_WATCHERS="all")
    assert select is None
    watched = {
        t.removeprefix("dbt.").rsplit("_", 1)[0] for t in tasks if t.endswith(("_run", "_seed"))
    }
    assert watched == _manifest_nodes()
    assert len(watched) > len(_manifest_nodes("marts"))


def test_transform_watchers_rejects_an_unknown_value(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "PYTHONPATH": str(DAGS)}
    env["CAKUPAN_DBT_WATCHERS"] = "staging"
    code = "import runpy; runpy.run_path('dags/cakupan_transform.py', run_name='dagfile')"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "CAKUPAN_DBT_WATCHERS must be 'marts' or 'all', not 'staging'" in result.stderr


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_import_does_no_work(path, tmp_path):
    """Importing a DAG file must not touch the warehouse, run dbt or read sources.

    The file is imported in a fresh interpreter with the warehouse pointed at a closed port and
    no dbt on PATH: any top-level work would fail or hang; we also bound its time.
    """
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(tmp_path),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW_CONN_WAREHOUSE": "postgresql://stub:stub@127.0.0.1:1/stub",
            "CAKUPAN_SOURCES_DIR": str(tmp_path / "no-sources"),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(DAGS),
        }
    )
    code = (
        "import runpy, time, sys; t=time.monotonic();"
        f"runpy.run_path({str(path)!r}, run_name='dagfile');"
        "print(round(time.monotonic()-t, 3))"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert time.monotonic() - started < 120
    assert not (tmp_path / "no-sources").exists()
