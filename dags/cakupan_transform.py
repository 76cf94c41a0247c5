"""Build the warehouse with dbt (through Cosmos) whenever a loader updates a raw table."""

import datetime as dt
import os

from airflow.sdk import dag, task
from cakupan_airflow.common import DEFAULT_ARGS, PROJECT_ROOT, WAREHOUSE_CONN_ID, raw_asset
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
)
from cosmos.constants import TestBehavior
from cosmos.profiles import PostgresUserPasswordProfileMapping

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
RAW_TABLES = [
    "raw.kemendagri_regions",
    "raw.kemendagri_region_history",
    "raw.bps_region_bridge",
    "raw.dukcapil_residents",
    "raw.dukcapil_residents_by_age",
    "raw.bps_population",
    "raw.bpjs_membership",
    "raw.bpjs_participants_by_age",
    "raw.dtsen_desil",
    "raw.pemasyarakatan_wbp_jkn",
]

profile_config = ProfileConfig(
    profile_name="cakupan",
    target_name="warehouse",
    profile_mapping=PostgresUserPasswordProfileMapping(
        conn_id=WAREHOUSE_CONN_ID, profile_args={"schema": "analytics"}
    ),
)

schedule = raw_asset(RAW_TABLES[0])
for table in RAW_TABLES[1:]:
    schedule = schedule | raw_asset(table)


@dag(
    dag_id="cakupan_transform",
    description="dbt build of staging, intermediate and marts, after source freshness.",
    schedule=schedule,
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
        """The read-only BI role reads marts, now and every table dbt creates there later."""
        from cakupan.warehouse import connect
        from cakupan.warehouse.roles import ensure_bi_role
        from cakupan_airflow.common import warehouse_params

        conn = connect(warehouse_params(), application_name="cakupan_transform.grant")
        try:
            return ensure_bi_role(conn).name
        finally:
            conn.close()

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT,
            manifest_path=DBT_PROJECT / "target" / "manifest.json",
            install_dbt_deps=False,  # no dbt hub packages: the project's own macros only
        ),
        profile_config=profile_config,
        execution_config=ExecutionConfig(),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # measured (README, "Choosing Cosmos' test behaviour"): after_all is the fastest
            test_behavior=TestBehavior(os.environ.get("CAKUPAN_DBT_TEST_BEHAVIOR", "after_all")),
        ),
        default_args=DEFAULT_ARGS,
    )

    [source_freshness(), grant_bi_access()] >> dbt


cakupan_transform()
