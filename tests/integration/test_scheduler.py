"""A real Airflow: api-server, scheduler and dag-processor run `cakupan_reference`.

The services are started the way `cakupan airflow ui` starts them (`cakupan.operate`), with a
private AIRFLOW_HOME (SQLite, LocalExecutor), the repository's `dags/` and the session's test
warehouse. The run is triggered through the public REST API v2 with a JWT from the simple auth
manager, and must land the Kemendagri regions in the warehouse with its run_id in `raw.loads`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from cakupan import airflow_local, operate

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "cakupan_reference"
RUN_TIMEOUT = 360
SERVICES = ("api-server", "scheduler", "dag-processor")


class Api:
    """The public REST API v2 with a bearer token."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, body: dict | None = None, *, accept="application/json"):
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": accept,
            },
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
        return json.loads(data) if data else None

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict:
        """The DAG as the API knows it, once the dag-processor has parsed it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.call("GET", f"/api/v2/dags/{dag_id}")
            except urllib.error.HTTPError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(2)

    def task_log_tails(self, dag_id: str, run_id: str, lines: int = 40) -> str:
        """The end of each failed (or unfinished) task's log, for the assertion message."""
        run = urllib.parse.quote(run_id, safe="")
        out = []
        try:
            tis = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances")
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            return f"(task instances not readable: {exc})"
        for ti in tis.get("task_instances", []):
            out.append(f"{ti['task_id']}[{ti.get('map_index')}]: {ti.get('state')}")
            if ti.get("state") == "success" or not ti.get("try_number"):
                continue
            path = (
                f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/{ti['task_id']}"
                f"/logs/{ti['try_number']}?map_index={ti.get('map_index', -1)}"
            )
            try:
                content = self.call("GET", path).get("content", [])
            except Exception as exc:  # noqa: BLE001
                out.append(f"  (log not readable: {exc})")
                continue
            text = [c.get("event", str(c)) if isinstance(c, dict) else str(c) for c in content]
            out += ["  " + line for line in text[-lines:]]
        return "\n".join(out)


@pytest.fixture(scope="module")
def airflow_up(warehouse, clean_env, tmp_path_factory):
    """api-server + scheduler + dag-processor on a free port; stopped at the end."""
    from cakupan.demo.generate import generate

    sources = Path(clean_env["CAKUPAN_SOURCES_DIR"])
    if not any(sources.glob("kemendagri/riwayat/*.csv")):
        generate(sources, extras=True)  # what `cakupan demo` writes

    home = tmp_path_factory.mktemp("scheduler") / "airflow"
    home.mkdir()
    env = airflow_local.airflow_env(warehouse.url(mask=False))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "CAKUPAN_SOURCES_DIR": str(sources),
            "CAKUPAN_HOME": str(ROOT),
            # parse quickly, schedule quickly: the test waits for both
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        }
    )
    env.pop("AIRFLOW_CONN_CAKUPAN_ALERTS", None)
    started = time.monotonic()
    airflow_local.ensure_db(env)
    port = operate.free_port()
    env = operate.service_env(env, port)
    password = operate.admin_password(home)
    base_url = f"http://127.0.0.1:{port}"
    try:
        operate.start_services(env, SERVICES, port=port)
        operate.wait_ready(base_url, home, timeout=180)
        ready = time.monotonic() - started
        api = Api(base_url, operate.api_token(base_url, operate.ADMIN_USER, password))
        yield {"api": api, "env": env, "home": home, "ready_seconds": ready}
    finally:
        stopped = operate.stop_services(home)
        print(f"stopped {stopped}", file=sys.stderr)


@pytest.fixture(scope="module")
def reference_run(airflow_up):
    api: Api = airflow_up["api"]
    dag = api.wait_for_dag(DAG_ID)
    assert dag["dag_id"] == DAG_ID
    api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    started = time.monotonic()
    run = api.call(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {"logical_date": None, "conf": {"from_month": "2025-01", "to_month": "2025-01"}},
    )
    run_id = run["dag_run_id"]
    quoted = urllib.parse.quote(run_id, safe="")
    state = run["state"]
    deadline = time.monotonic() + RUN_TIMEOUT
    while state not in ("success", "failed") and time.monotonic() < deadline:
        time.sleep(3)
        state = api.call("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}")["state"]
    seconds = time.monotonic() - started
    # no more scheduled runs of this DAG while the module's other tests look at the warehouse
    api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": True})
    if state != "success":
        tails = api.task_log_tails(DAG_ID, run_id)
        scheduler = operate.log_tail(airflow_up["home"], "scheduler", 30)
        pytest.fail(
            f"{DAG_ID} run {run_id} ended {state!r} after {seconds:.0f} s\n{tails}\n"
            f"--- scheduler log ---\n{scheduler}"
        )
    print(
        f"services ready in {airflow_up['ready_seconds']:.0f} s; run succeeded in {seconds:.0f} s",
        file=sys.stderr,
    )
    return {"run_id": run_id, "seconds": seconds}


def test_health_reports_every_component(airflow_up):
    info = operate.health(airflow_up["api"].base_url)
    assert info["metadatabase"]["status"] == "healthy"
    assert info["scheduler"]["status"] == "healthy"
    assert info["dag_processor"]["status"] == "healthy"


def test_api_needs_a_token(airflow_up):
    api = Api(airflow_up["api"].base_url, "not-a-token")
    with pytest.raises(urllib.error.HTTPError) as err:
        api.call("GET", f"/api/v2/dags/{DAG_ID}")
    assert err.value.code in (401, 403)


def test_regions_landed_with_the_run_id(reference_run, warehouse):
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from raw.kemendagri_regions")
        assert cur.fetchone()[0] == 552  # 38 provinces + 514 kab/kota
        cur.execute(
            "select source, status, rows_landed, rows_read, rows_rejected from raw.loads"
            " where run_id = %s order by source",
            (reference_run["run_id"],),
        )
        loads = cur.fetchall()
    assert {row[0] for row in loads} == {
        "kemendagri_regions",
        "kemendagri_region_history",
        "bps_region_bridge",
    }, loads
    # one load per file: the 2025 list, the bridge and the 2018/2020/2022/2023 decree lists
    assert len(loads) == 6, loads
    assert all(row[1] == "succeeded" for row in loads), loads
    regions = next(row for row in loads if row[0] == "kemendagri_regions")
    assert regions[2] == 552 and regions[3] == regions[2] + regions[4]


def _cakupan(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cakupan.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_operator_commands_see_the_run(reference_run, airflow_up):
    env = airflow_up["env"]
    status = _cakupan(env, "airflow", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "scheduler" in status.stdout and "running" in status.stdout

    runs = _cakupan(env, "airflow", "runs", DAG_ID, "--limit", "5")
    assert runs.returncode == 0, runs.stderr
    line = next(row for row in runs.stdout.splitlines() if reference_run["run_id"] in row)
    assert "success" in line

    loads = _cakupan(env, "loads", "--limit", "4", "--source", "kemendagri_regions")
    assert loads.returncode == 0, loads.stderr
    assert "kemendagri_regions" in loads.stdout and "succeeded" in loads.stdout
    assert " 552 " in loads.stdout


def test_cli_trigger_goes_through_the_running_scheduler(reference_run, airflow_up, warehouse):
    """`cakupan airflow trigger` sees the scheduler (pid files) and waits for its run."""
    result = _cakupan(
        airflow_up["env"],
        "airflow", "trigger", DAG_ID, "--month", "2025-01", "--wait", "--timeout", "240",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no scheduler running" not in result.stdout
    run_id = result.stdout.split("-> run ", 1)[1].split()[0]
    assert ": success" in result.stdout
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from raw.loads where run_id = %s and status = 'succeeded'", (run_id,)
        )
        assert cur.fetchone()[0] == 6  # the same six reference files, loaded again
