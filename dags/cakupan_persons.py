"""Person-level sources: the Dukcapil register, the BPJS membership master, DTSEN, WBP lists.

Their rows are checked and keyed on the way in (HMAC key: the Airflow connection
`cakupan_person_key`) and land in `restricted.person_records` (docs/PERSONS.md)."""

import datetime as dt

from cakupan_airflow.ingest import ingest_dag

dag = ingest_dag(
    dag_id="cakupan_persons",
    contracts=["dukcapil_register", "bpjs_membership_master", "dtsen_individuals", "wbp_list"],
    schedule="0 0 1 * *",
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    description="Load the person-level sources (register, BPJS master, DTSEN, WBP), keyed.",
    tags=["persons"],
)
