"""A real Airflow: `cakupan airflow ui --detach` (airflow standalone) runs `cakupan_reference`.

Airflow runs with a private AIRFLOW_HOME (SQLite, LocalExecutor), the repository's `dags/`, the
session's test warehouse and a free port. The run is triggered through the public REST API v2
with a JWT from the simple auth manager, and must land the Kemendagri regions in the warehouse
with its run_id in `raw.loads`; `cakupan airflow status|runs|trigger` and `cakupan loads` see it,
every DAG file is accepted by `cakupan airflow trigger`, and `cakupan airflow stop` ends it all.
"""

from __future__ import annotations

import json
import re
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


def _cakupan(env, *args, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cakupan.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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
    """`cakupan airflow ui --detach` on a free port; `cakupan airflow stop` at the end."""
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
    port = operate.free_port()
    try:
        ui = _cakupan(env, "airflow", "ui", "--detach", "--port", str(port), "--timeout", "400")
        assert ui.returncode == 0, ui.stdout + ui.stderr
        assert f"Airflow UI: http://127.0.0.1:{port}" in ui.stdout
        standalone = operate.find_standalone(home)
        assert standalone is not None and standalone.base_url.endswith(f":{port}")
        api = Api(standalone.base_url, operate.Api.of(standalone).token)
        ready = time.monotonic() - started
        yield {"api": api, "env": env, "home": home, "ready_seconds": ready}
    finally:
        stop = _cakupan(env, "airflow", "stop")
        print(stop.stdout + stop.stderr, file=sys.stderr)
        assert operate.find_standalone(home) is None


def _log_tail(home: Path, component: str, lines: int = 30) -> str:
    """The end of one component's lines in airflow standalone's log."""
    text = (home / "standalone.log").read_text(errors="replace").splitlines()
    return "\n".join([line for line in text if line.startswith(component)][-lines:])


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
        scheduler = _log_tail(airflow_up["home"], "scheduler")
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
    for component in ("metadatabase", "scheduler", "dag_processor", "triggerer"):
        assert info[component]["status"] == "healthy", info


def test_api_needs_a_token(airflow_up):
    api = Api(airflow_up["api"].base_url, "not-a-token")
    with pytest.raises(urllib.error.HTTPError) as err:
        api.call("GET", f"/api/v2/dags/{DAG_ID}")
    assert err.value.code in (401, 403)


def test_regions_landed_with_the_run_id(reference_run, warehouse):
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
        # the current rows: a rerun's earlier load stays in raw, superseded
        cur.execute(
            "select count(*) from raw.kemendagri_regions t where not exists (select from"
            " raw.superseded s where s.load_id = t._load_id and s.period is null)"
        )
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


def test_operator_commands_see_the_run(reference_run, airflow_up):
    env = airflow_up["env"]
    status = _cakupan(env, "airflow", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "airflow standalone (pid" in status.stdout
    assert re.search(r"^scheduler\s+healthy", status.stdout, re.MULTILINE), status.stdout

    runs = _cakupan(env, "airflow", "runs", DAG_ID, "--limit", "5")
    assert runs.returncode == 0, runs.stderr
    line = next(row for row in runs.stdout.splitlines() if reference_run["run_id"] in row)
    assert "success" in line

    loads = _cakupan(env, "loads", "list", "--limit", "4", "--source", "kemendagri_regions")
    assert loads.returncode == 0, loads.stderr
    assert "kemendagri_regions" in loads.stdout and "succeeded" in loads.stdout
    assert " 552 " in loads.stdout


def test_cli_trigger_goes_through_the_running_scheduler(reference_run, airflow_up, warehouse):
    """`cakupan airflow trigger` finds the running Airflow (psutil) and waits for its run."""
    result = _cakupan(
        airflow_up["env"],
        "airflow", "trigger", DAG_ID, "--month", "2025-01", "--wait", "--timeout", "240",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no Airflow running" not in result.stdout
    run_id = result.stdout.split("-> run ", 1)[1].split()[0]
    assert ": success" in result.stdout
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from raw.loads where run_id = %s and status = 'succeeded'", (run_id,)
        )
        assert cur.fetchone()[0] == 6  # the same six reference files, loaded again


def test_every_dag_file_is_accepted_by_trigger(reference_run, airflow_up):
    """Each DAG file of `dags/` has a DAG Airflow parsed, and `cakupan airflow trigger` runs it.

    The DAG ids come from Airflow (by file), not from a list here. Ingest DAGs get a month
    without files; the runs are then failed and the DAGs paused, so nothing keeps running."""
    api = operate.Api(airflow_up["api"].base_url, airflow_up["api"].token)  # asks again if locked
    files = sorted(path.name for path in (ROOT / "dags").glob("*.py"))
    deadline = time.monotonic() + 120
    while True:
        dags = api.call("GET", "/api/v2/dags?limit=100")["dags"]
        by_file = {Path(d["fileloc"]).name: d["dag_id"] for d in dags}
        if set(files) <= set(by_file) or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert sorted(by_file) == files
    assert "cakupan_special_groups" in by_file.values()
    try:
        for dag_id in sorted(by_file.values()):
            params = api.call("GET", f"/api/v2/dags/{dag_id}/details").get("params") or {}
            months = ["--month", "1990-01"] if "from_month" in params else []
            result = _cakupan(airflow_up["env"], "airflow", "trigger", dag_id, *months)
            assert result.returncode == 0, f"{dag_id}: {result.stdout}{result.stderr}"
            assert f"triggered {dag_id}" in result.stdout
    finally:
        for dag_id in by_file.values():
            api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})
            runs = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?state=queued&state=running")
            for run in runs["dag_runs"]:
                run_id = urllib.parse.quote(run["dag_run_id"], safe="")
                api.call("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}", {"state": "failed"})
    unknown = _cakupan(airflow_up["env"], "airflow", "trigger", "cakupan_nope")
    assert unknown.returncode == 2 and "cakupan_special_groups" in unknown.stderr
