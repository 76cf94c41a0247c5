"""The whole warehouse through real Airflow runs, real dbt and a real PostgreSQL.

`cakupan demo` is what `make demo` runs: it generates the demo sources, runs the four DAGs with
`airflow dags test` and prints a summary. It runs twice; the second run must change nothing.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from psycopg2 import sql

pytestmark = pytest.mark.integration

CAKUPAN = [sys.executable, "-m", "cakupan.cli"]


def _run_demo(env, *extra) -> str:
    result = subprocess.run(
        [*CAKUPAN, "demo", *extra], env=env, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _snapshot(conn) -> dict[str, str]:
    """A digest of every table's contents in the BI schemas (marts, dq), ordered, without load ids.

    Load ids are provenance: a rerun is a new load, so they, and the incremental facts'
    `inputs_fingerprint` hashed from them, change by design; every other column must come out
    the same. `dq_loads` is the load log itself and grows by design.
    """
    digests = {}
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('marts', 'dq') and table_name <> 'dq_loads'"
            " order by table_schema, table_name"
        )
        for schema, table in cur.fetchall():
            cur.execute(
                "select column_name from information_schema.columns where table_schema = %s"
                " and table_name = %s and column_name !~ 'load_ids?$' and column_name !~ '_at$'"
                " and column_name <> 'inputs_fingerprint'"
                " order by ordinal_position",
                (schema, table),
            )
            columns = [row[0] for row in cur.fetchall()]
            query = sql.SQL("select {cols} from {table} order by {cols}").format(
                cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                table=sql.Identifier(schema, table),
            )
            cur.execute(query)
            digests[f"{schema}.{table}"] = hashlib.sha256(repr(cur.fetchall()).encode()).hexdigest()
    return digests


# a raw row is current unless a later load of its source superseded it (it stays in raw)
CURRENT = (
    " where not exists (select from raw.superseded s where s.load_id = t._load_id"
    " and (s.period = t._period or s.period is null)"
    " and s.region_code in ('*', coalesce(t._region_code, '')))"
)


def _raw_counts(conn) -> dict[str, int]:
    """The current rows of each raw table (and the rejects of the current loads)."""
    counts = {}
    with conn.cursor() as cur:
        for table in (
            "kemendagri_regions",
            "bps_region_bridge",
            "dukcapil_residents",
            "bpjs_membership",
        ):
            cur.execute(f"select count(*) from raw.{table} t" + CURRENT)  # noqa: S608
            counts[table] = cur.fetchone()[0]
        cur.execute(
            "select count(*) from raw.rejects where _load_id in"
            " (select load_id from raw.loads where superseded_by is null)"
        )
        counts["rejects"] = cur.fetchone()[0]
    return counts


@pytest.fixture(scope="module")
def demo_runs(warehouse, clean_env):
    env = dict(clean_env)
    env["AIRFLOW_CONN_WAREHOUSE"] = warehouse.url(mask=False)
    import psycopg2

    first_out = _run_demo(env)
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn:
        first = (_snapshot(conn), _raw_counts(conn))
    second_out = _run_demo(env, "--keep-sources")
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn:
        second = (_snapshot(conn), _raw_counts(conn))
    return {"out": (first_out, second_out), "first": first, "second": second, "env": env}


def _district_month(conn, code, month):
    with conn.cursor() as cur:
        cur.execute(
            "select residents, participants, active_participants, coverage_pct, active_pct,"
            " meets_uhc, people_to_uhc, uhc_rule_code from marts.fct_coverage_district_month"
            " where district_code = %s and month = %s",
            (code, month),
        )
        return cur.fetchone()


def test_demo_prints_summary(demo_runs):
    out = demo_runs["out"][0]
    assert "National coverage:" in out
    assert "Districts meeting UHC:" in out
    assert "Five lowest districts:" in out
    assert "BI tools connect to: postgresql://" in out
    assert "***" in out  # the password is never printed


def test_second_run_changes_nothing(demo_runs):
    assert demo_runs["first"] == demo_runs["second"]


def test_514_districts_every_month(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute("select count(*), count(distinct district_code) from marts.dim_districts")
        assert cur.fetchone() == (514, 514)
        cur.execute(
            "select count(distinct month), min(month)::text, max(month)::text,"
            " count(*) from marts.fct_coverage_district_month"
        )
        months, first, last, rows = cur.fetchone()
        assert (months, first, last) == (48, "2022-01-01", "2025-12-01")
        assert rows == 514 * 48
        cur.execute(
            "select count(*) from marts.fct_coverage_district_month where not has_membership_data"
        )
        assert cur.fetchone()[0] == 0


def test_no_duplicate_keys(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute(
            "select count(*) from (select district_code, month from"
            " marts.fct_coverage_district_month group by 1, 2 having count(*) > 1) as dup"
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            "select count(*) from (select district_code, month, population_group_code from"
            " marts.fct_coverage_group_month group by 1, 2, 3 having count(*) > 1) as dup"
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            "select count(*) from marts.fct_coverage_group_month"
            " where population_group_family = 'jkn_segment'"
        )
        assert cur.fetchone()[0] == 514 * 48 * 6


def test_palangka_raya_may_2022(demo_runs, conn):
    residents, participants, active, coverage, active_pct, meets, to_uhc, rule = _district_month(
        conn, "62.71", "2022-05-01"
    )
    assert participants == 281_230
    assert residents == 293_010
    assert round(float(coverage), 2) == 95.98
    assert rule == "uhc_2014"
    assert meets is True and float(active_pct) >= 75
    assert to_uhc == 0


@pytest.mark.parametrize(
    ("code", "residents", "participants", "active", "coverage", "active_pct"),
    [
        ("33.75", 316_933, 274_974, 230_665, 86.76, 83.89),  # Kota Pekalongan
        ("33.25", 828_576, 726_521, 550_747, 87.68, 75.81),  # Kab. Batang (published "87, 86")
        ("33.26", 1_000_810, 842_070, 695_856, 84.14, 82.64),  # Kab. Pekalongan
    ],
)
def test_pekalongan_branch_march_2023(
    demo_runs, conn, code, residents, participants, active, coverage, active_pct
):
    row = _district_month(conn, code, "2023-03-01")
    assert row[0] == residents
    assert row[1] == participants
    assert row[2] == active
    assert round(float(row[3]), 2) == coverage
    assert round(float(row[4]), 2) == active_pct
    assert row[5] is False  # below 95 %
    # residents still to enroll to reach 95 %: ceil(0.95 * residents) - participants
    assert row[6] == -(-residents * 95 // 100) - participants


def test_kab_pekalongan_published_total_differs_from_segments(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute(
            "select participants, segment_participants, inactive_participants"
            " from marts.fct_coverage_district_month"
            " where district_code = '33.26' and month = '2023-03-01'"
        )
        participants, segments, inactive = cur.fetchone()
    assert participants - segments == 990
    assert inactive == 842_070 - 695_856


def test_uhc_rule_switches_in_2024(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute(
            "select extract(year from month)::int, min(uhc_rule_code), max(uhc_rule_code),"
            " min(min_coverage_pct), min(min_active_pct)"
            " from marts.fct_coverage_district_month group by 1 order by 1"
        )
        rows = cur.fetchall()
    assert [r[0] for r in rows] == [2022, 2023, 2024, 2025]
    assert rows[0][1:] == ("uhc_2014", "uhc_2014", 95, 75)
    assert rows[2][1:] == ("uhc_2024", "uhc_2024", 98, 80)


def test_group_shares_sum_to_100(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute(
            "select max(abs(total - 100)), count(*) from (select district_code, month,"
            " population_group_family, sum(share_of_participants_pct) as total"
            " from marts.fct_coverage_group_month"
            " where population_group_family in ('jkn_segment', 'sex', 'age_band')"
            " group by 1, 2, 3) as t"
        )
        worst, groups = cur.fetchone()
        assert float(worst) < 1e-9
        assert groups >= 514 * 48  # the JKN segments at least, every district-month


def test_every_load_accounts_for_its_rows(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute(
            "select count(*), count(*) filter (where rows_read = rows_landed + rows_rejected)"
            " from raw.loads where status = 'succeeded'"
        )
        total, balanced = cur.fetchone()
    assert total >= 2 * (48 + 8 + 2)  # two demo runs
    assert balanced == total


def test_loads_superseded_by_the_rerun(demo_runs, conn):
    with conn.cursor() as cur:
        cur.execute(
            "select count(*) from raw.loads where source = 'bpjs_membership'"
            " and status = 'succeeded' and superseded_by is null"
        )
        assert cur.fetchone()[0] == 48
        cur.execute(
            "select count(distinct _load_id), count(*) from raw.bpjs_membership t" + CURRENT
        )
        assert cur.fetchone() == (48, 48 * 514)


def test_a_failing_dbt_build_fails_the_transform_run_and_alerts_once(
    demo_runs, warehouse, pg_server, httpserver, tmp_path
):
    """A model that fails inside the producer's `dbt build` fails the run and alerts, once.

    On a copy of the demo's warehouse and of the dbt project with one staging model broken (a
    staging model has no watcher task of its own): the producer fails at its first try and is not
    retried, every watcher downstream of it is upstream_failed (none rebuilds its mart on what the
    failed build left), the run ends failed, and the failure webhook gets one alert, for the
    producer. Before, the producer's retry was skipped and the watchers' retries rebuilt the marts
    on the old staging view: the run ended green after ten minutes with no failure alert.
    """
    import json
    import shutil
    import sqlite3
    import uuid
    from pathlib import Path

    import psycopg2
    from cakupan.airflow_local import airflow_bin, airflow_env, ensure_db

    root = Path(__file__).resolve().parents[2]
    clone = f"cakupan_test_fail_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**{**pg_server.dsn_kwargs(), "dbname": pg_server.dbname})
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
            (warehouse.dbname,),
        )
        cur.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(clone), sql.Identifier(warehouse.dbname)
            )
        )
    try:
        home = tmp_path / "home"
        project = home / "dbt_project"
        shutil.copytree(
            root / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
        )
        (project / "target").mkdir()
        shutil.copy(root / "dbt_project" / "target" / "manifest.json", project / "target")
        staging = project / "models" / "staging" / "observations"
        broken = staging / "stg_observations__jkn_membership.sql"
        text = broken.read_text()
        assert text.rstrip().endswith("select * from renamed")
        # fails when dbt creates the view
        broken.write_text(
            text.replace("select * from renamed", "select *, no_such_column from renamed")
        )

        httpserver.expect_request("/hooks/transform", method="POST").respond_with_data("ok")
        airflow_home = tmp_path / "airflow"
        # as `make demo` runs the DAGs (dbt on PATH, no telemetry), on the copies
        env = airflow_env(warehouse.url(mask=False).replace(f"/{warehouse.dbname}", f"/{clone}"))
        env.update(
            {
                "AIRFLOW_HOME": str(airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
                # an HTTP connection whose host is the webhook's whole URL
                "AIRFLOW_CONN_CAKUPAN_ALERTS": json.dumps(
                    {"conn_type": "http", "host": httpserver.url_for("/hooks/transform")}
                ),
                "CAKUPAN_HOME": str(home),
                "CAKUPAN_SOURCES_DIR": demo_runs["env"]["CAKUPAN_SOURCES_DIR"],
            }
        )
        env.pop("CAKUPAN_DBT_PROJECT_DIR", None)  # the broken copy, also for source freshness
        airflow_home.mkdir()
        ensure_db(env)
        result = subprocess.run(
            [airflow_bin(), "dags", "test", "cakupan_transform", "2025-12-01"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        (tmp_path / "dags_test.log").write_text(result.stdout + result.stderr)
        errors = "\n".join(
            line[:300] for line in (result.stdout + result.stderr).splitlines() if "rror" in line
        )
        output = result.stdout[-3000:] + result.stderr[-3000:]
        assert result.returncode != 0, output
        assert 'column "no_such_column" does not exist' in result.stdout + result.stderr, (
            errors[-5000:] or output
        )

        metadata = sqlite3.connect(airflow_home / "airflow.db")
        (run_state,) = metadata.execute(
            "select state from dag_run where dag_id = 'cakupan_transform'"
        ).fetchone()
        states = dict(
            metadata.execute(
                "select task_id, state from task_instance where dag_id = 'cakupan_transform'"
            ).fetchall()
        )
        tries = dict(
            metadata.execute(
                "select task_id, try_number from task_instance where dag_id = 'cakupan_transform'"
            ).fetchall()
        )
        metadata.close()
        assert run_state == "failed"
        assert states.pop("dbt.dbt_producer_watcher") == "failed", output
        assert tries["dbt.dbt_producer_watcher"] == 1
        assert states.pop("source_freshness") == "success"
        assert states.pop("grant_bi_access") == "success"
        assert "dbt.fct_coverage_district_month_run" in states
        assert set(states.values()) == {"upstream_failed"}, states

        alerts = [json.loads(request.get_data()) for request, _ in httpserver.log]
        assert [(a["event"], a["task_id"]) for a in alerts] == [
            ("failure", "dbt.dbt_producer_watcher")
        ]
        assert alerts[0]["dag_id"] == "cakupan_transform"
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (clone,),
            )
            cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(clone)))
        admin.close()
