"""Test-wide settings: a private AIRFLOW_HOME, our DAG folder, no telemetry."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# the user's own warehouse, kept before any test changes AIRFLOW_CONN_WAREHOUSE
if os.environ.get("AIRFLOW_CONN_WAREHOUSE"):
    os.environ.setdefault("CAKUPAN_TEST_SERVER", os.environ["AIRFLOW_CONN_WAREHOUSE"])

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="cakupan-airflow-"))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
if str(ROOT / "dags") not in sys.path:
    sys.path.insert(0, str(ROOT / "dags"))
