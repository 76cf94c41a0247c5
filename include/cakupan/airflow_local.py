"""Run Cakupan's DAGs with a local Airflow (SQLite metadata under `.airflow/`) for the demo.

No Airflow import here: Airflow runs as a subprocess, exactly as an operator would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from cakupan import config

SQLITE_CONNECT_ARGS = {"timeout": 120}  # seconds a SQLite writer waits for the lock


def airflow_home() -> Path:
    env = os.environ.get("AIRFLOW_HOME")
    return Path(env) if env else config.project_root() / ".airflow"


def airflow_env(warehouse: str | None = None) -> dict[str, str]:
    """Environment for the local Airflow: SQLite metadata, our DAGs, no examples, no telemetry.

    `warehouse`: the Airflow connection `warehouse` as a URI or JSON (`AIRFLOW_CONN_WAREHOUSE`).
    """
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    root = config.project_root()
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(home))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(root / "dags"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    # two `airflow dags test` at once (the demo's ingest lanes) share the SQLite file: a
    # writer waits for the other's lock instead of failing after SQLite's 5 s
    env.setdefault(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "cakupan.airflow_local.SQLITE_CONNECT_ARGS"
    )
    env.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    # the dbt producer has no retries: Cosmos need not rewrite a backup Variable after every node
    env.setdefault("AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY", "False")
    env.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    env.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("SCARF_ANALYTICS", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("CAKUPAN_HOME", str(root))
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    if warehouse:
        env["AIRFLOW_CONN_WAREHOUSE"] = warehouse
    return env


def airflow_bin() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def ensure_db(env: dict[str, str]) -> None:
    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    if marker.exists():
        return
    subprocess.run(
        [airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True, text=True
    )
    marker.touch()


def dags_test(
    dag_id: str,
    logical_date: str,
    env: dict[str, str],
    conf: dict | None = None,
    log_file: Path | None = None,
) -> float:
    """`airflow dags test`: run every task of one DAG run in-process; return seconds taken."""
    cmd = [airflow_bin(), "dags", "test", dag_id, logical_date]
    if conf:
        cmd += ["-c", json.dumps(conf)]
    started = time.monotonic()
    log_file = log_file or airflow_home() / "logs" / f"dags_test_{dag_id}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as out:
        result = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    text = log_file.read_text(errors="replace")
    if result.returncode != 0 or "DagRunState.FAILED" in text or "state=failed" in text.lower():
        tail = "\n".join(text.splitlines()[-40:])
        raise RuntimeError(f"airflow dags test {dag_id} failed (log: {log_file}):\n{tail}")
    return seconds
