"""API sources (BPS WebAPI, CKAN datastore), asked monthly for the year of the run's interval."""

import datetime as dt

from cakupan_airflow.api_sources import api_sources_dag

dag = api_sources_dag(
    dag_id="cakupan_api_sources",
    contracts=["bps_population_kaltim_api", "satudata_kaltim_jkn_participants"],
    # monthly, the 2nd: a source revised during the year replaces its earlier load of it
    schedule="0 2 2 * *",
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    description="Load the API sources: BPS population (WebAPI), Satu Data Kaltim JKN (CKAN).",
    tags=["population", "open-data"],
)
