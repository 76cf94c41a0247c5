"""Build the warehouse with dbt (through Cosmos) whenever a loader updates a raw table.

Cosmos runs dbt in `ExecutionMode.WATCHER` (README, "Choosing Cosmos' execution mode"): one
producer task runs a single `dbt build` of every model, seed and test; one watcher task per model
of `marts` (the schema BI reads) then reports that model's result. `CAKUPAN_DBT_WATCHERS=all`
renders a watcher for every model and seed, `CAKUPAN_DBT_EXECUTION_MODE=local` one dbt
invocation per model instead, and `CAKUPAN_DBT_TEST_BEHAVIOR` picks Cosmos' TestBehavior.
After the build, `write_worklists` writes the worklists of every district with person data
(docs/PERSONS.md, "Worklists and the round trip") into `CAKUPAN_WORKLIST_DIR`.
"""

import datetime as dt
import os

from airflow.sdk import dag, task
from cakupan_airflow.common import (
    DEFAULT_ARGS,
    PROJECT_ROOT,
    RAW,
    set_dbt_connection_env,
)
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
)
from cosmos.constants import ExecutionMode, InvocationMode, TestBehavior

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
MANIFEST = DBT_PROJECT / "target" / "manifest.json"  # written by `make` (dbt parse), never here

# measured (README, "Choosing Cosmos' execution mode"): watcher, tests inside its one dbt build
EXECUTION_MODE = ExecutionMode(os.environ.get("CAKUPAN_DBT_EXECUTION_MODE", "watcher"))
WATCHER = EXECUTION_MODE == ExecutionMode.WATCHER
TEST_BEHAVIOR = TestBehavior(
    os.environ.get("CAKUPAN_DBT_TEST_BEHAVIOR", "build" if WATCHER else "after_all")
)
BUILD_IN_PRODUCER = WATCHER and TEST_BEHAVIOR == TestBehavior.BUILD
# which nodes get a watcher task when the producer's one `dbt build` does all the work: the marts
# (measured, README: each watcher task costs a task start; staging and seeds have no reader)
WATCHERS = os.environ.get("CAKUPAN_DBT_WATCHERS", "marts")
if WATCHERS not in ("marts", "all"):
    raise ValueError(f"CAKUPAN_DBT_WATCHERS must be 'marts' or 'all', not {WATCHERS!r}")
WATCHED = ["path:models/marts"] if BUILD_IN_PRODUCER and WATCHERS == "marts" else None

# the project's own profiles.yml, as `cakupan dbt` uses it: it reads libpq's variables, which
# each dbt task sets from the connection `warehouse` before it runs (`set_dbt_connection_env`);
# Cosmos' profile mappings cannot express a connection without a password, a Unix socket or
# any libpq option beyond a few
profile_config = ProfileConfig(
    profile_name="cakupan",
    target_name="warehouse",
    profiles_yml_filepath=DBT_PROJECT / "profiles.yml",
)


def _execution_config() -> ExecutionConfig:
    if not WATCHER:
        return ExecutionConfig(execution_mode=EXECUTION_MODE)
    # A failed `dbt build` is final: Cosmos skips a producer's retry (it never runs a second
    # build) and restores the failed try's results, so with retries the task would end skipped,
    # the watchers' own retries would rebuild their models on whatever the failed nodes left, and
    # the run could end green with nobody alerted. Without retries it fails the run and alerts once.
    producer_args = {"retries": 0}
    if TEST_BEHAVIOR == TestBehavior.BUILD:
        # Cosmos has no DbtTaskGroup rendering for BUILD under the watcher: the tests are rendered
        # as nothing (TestBehavior.NONE) and the producer's `dbt build` runs them with the models
        producer_args["dbt_cmd_flags"] = ["--resource-type", "test", "--resource-type", "unit_test"]
    return ExecutionConfig(
        execution_mode=EXECUTION_MODE,
        # dbt as a child process: 2-3x faster here than in-process dbtRunner, whose per-event
        # callbacks compete with the dbt threads for the GIL (README)
        invocation_mode=InvocationMode.SUBPROCESS,
        setup_operator_args=producer_args,
    )


def _project_config() -> ProjectConfig:
    config = ProjectConfig(
        dbt_project_path=DBT_PROJECT,
        manifest_path=MANIFEST,
        install_dbt_deps=False,  # no dbt hub packages: the project's own macros only
    )
    # a local file is read as one: Cosmos wraps it in ObjectStoragePath, whose first read loads
    # every Airflow plugin (hook lineage) while the DAG file is being parsed
    config.manifest_path = MANIFEST
    return config


def _producer_builds_everything(group) -> None:
    """The producer's `dbt build` selects every node, whichever nodes have a watcher task.

    Cosmos gives the producer the rendering's `select`; with watchers for the marts only, it would
    then build the marts alone. Nodes without a watcher are still built and tested by the producer
    and reported in its log; a failure among them fails the producer, and with it the run.
    """
    producer = next(t for t in group.get_roots() if t.task_id.endswith("dbt_producer_watcher"))
    if producer.select != " ".join(WATCHED):  # what Cosmos 1.15 passes on; fail loudly if not
        raise RuntimeError(f"unexpected select {producer.select!r} on {producer.task_id}")
    producer.select = None


def _consumers_after_producer(group) -> None:
    """Start the watcher tasks once the producer's `dbt build` has finished.

    They then find their node's result at the first look instead of waiting on the triggerer,
    and `airflow dags test` (which runs the tasks one by one, in any order) cannot start a
    watcher before its producer. `none_failed`: a failed build (the producer has no retries)
    leaves them upstream_failed; a producer cleared by hand is skipped by Cosmos on its second
    try with the first try's results restored, and the watchers then report those.
    """
    roots = list(group.get_roots())
    producer = next(t for t in roots if t.task_id.endswith("dbt_producer_watcher"))
    for root in roots:
        if root is not producer:
            producer >> root
            root.trigger_rule = "none_failed"


@dag(
    dag_id="cakupan_transform",
    description="dbt build of staging, intermediate and marts, after source freshness.",
    # every load emits RAW (cakupan_airflow.common): any ingest DAG's new data triggers a build
    schedule=RAW,
    start_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cakupan", "transform", "dbt"],
)
def cakupan_transform():
    @task
    def source_freshness() -> None:
        """`dbt source freshness`: warns when a source has not been loaded for too long."""
        from cakupan.pipeline import run_dbt
        from cakupan_airflow.common import warehouse_params

        run_dbt(["source", "freshness"], params=warehouse_params())

    @task
    def grant_bi_access() -> str:
        """The read-only BI role reads marts and dq, now and every table dbt creates there later."""
        from cakupan.warehouse import connect
        from cakupan.warehouse.roles import ensure_bi_role
        from cakupan_airflow.common import warehouse_params

        conn = connect(warehouse_params(), application_name="cakupan_transform.grant")
        try:
            return ensure_bi_role(conn).name
        finally:
            conn.close()

    @task
    def write_worklists() -> dict:
        """After the build: the worklists of every district with person data, one XLSX per
        kecamatan, into CAKUPAN_WORKLIST_DIR (default .cakupan/worklists)."""
        from cakupan_airflow.worklists import write_district_worklists

        return write_district_worklists()

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=_project_config(),
        profile_config=profile_config,
        execution_config=_execution_config(),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=WATCHED or [],
            test_behavior=TestBehavior.NONE if BUILD_IN_PRODUCER else TEST_BEHAVIOR,
            # no per-model Assets (`postgres://host/db/schema/model`): no DAG is scheduled on
            # them, emitting them costs each model task an asset event and the producer its URIs,
            # and a Unix-socket host makes no valid URI (the consumers would fail). Cosmos takes
            # this from the RenderConfig: an `emit_datasets` in operator_args is overridden.
            emit_datasets=False,
        ),
        operator_args={"pre_execute": set_dbt_connection_env},
        default_args=DEFAULT_ARGS,
    )
    if WATCHED:
        _producer_builds_everything(dbt)
    if WATCHER:
        _consumers_after_producer(dbt)

    [source_freshness(), grant_bi_access()] >> dbt
    dbt >> write_worklists()


cakupan_transform()
