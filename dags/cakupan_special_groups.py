"""Special population groups: participants by sex and age, poor households (DTSEN), prisoners."""

import datetime as dt

from cakupan_airflow.ingest import ingest_dag

dag = ingest_dag(
    dag_id="cakupan_special_groups",
    contracts=["bpjs_participants_by_age", "dtsen_desil", "pemasyarakatan_wbp_jkn"],
    schedule="0 0 1 * *",
    start_date=dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
    description="Load participants by sex and age band, DTSEN poor households and WBP enrolment.",
    tags=["special-groups"],
)
