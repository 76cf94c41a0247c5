"""Reference regions: Kemendagri region codes and the BPS-Kemendagri bridge (rarely change)."""

import datetime as dt

from cakupan_airflow.ingest import ingest_dag

dag = ingest_dag(
    dag_id="cakupan_reference",
    contracts=["kemendagri_regions", "kemendagri_region_history", "bps_region_bridge"],
    schedule="0 0 1 1 *",
    start_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    description="Load Kemendagri region codes (every decree) and the BPS-Kemendagri bridge.",
    tags=["reference"],
)
