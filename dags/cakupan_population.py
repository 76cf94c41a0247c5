"""Residents per kab/kota from Dukcapil, published per semester (January and July)."""

import datetime as dt

from cakupan_airflow.ingest import ingest_dag

dag = ingest_dag(
    dag_id="cakupan_population",
    contracts=["dukcapil_residents", "dukcapil_residents_by_age", "bps_population"],
    schedule="0 0 1 1,7 *",
    start_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    description="Load residents per kab/kota: Dukcapil per semester (sex, age), BPS per year.",
    tags=["population"],
)
