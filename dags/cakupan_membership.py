"""Monthly JKN membership per kab/kota and segment, from BPJS Kesehatan workbooks."""

import datetime as dt

from cakupan_airflow.ingest import ingest_dag

dag = ingest_dag(
    dag_id="cakupan_membership",
    contracts=["bpjs_membership"],
    schedule="0 0 1 * *",
    start_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    description="Load the month's BPJS membership workbooks (one mapped task per file).",
    tags=["membership"],
)
