# syntax=docker/dockerfile:1
# Cakupan's Airflow image: the official Airflow 3.3.2 image plus the project's locked
# dependencies (uv.lock), the `cakupan` package, the DAGs and the dbt project with a
# manifest parsed at build time (the DAGs render dbt through Cosmos LoadMode.DBT_MANIFEST).
#
# Build:  docker compose build        (or: docker build -t cakupan-airflow .)
# See docs/DEPLOYMENT.md.
FROM apache/airflow:3.3.2-python3.11

# The official image runs bash with these options; keep them explicit for our RUN steps.
SHELL ["/bin/bash", "-o", "pipefail", "-o", "errexit", "-o", "nounset", "-c"]

# Same uv as the Makefile uses to read uv.lock.
ARG UV_VERSION=0.13.9

ENV CAKUPAN_HOME=/opt/cakupan \
    CAKUPAN_SOURCES_DIR=/opt/cakupan/sources \
    CAKUPAN_DBT_PROJECT_DIR=/opt/cakupan/dbt_project \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/cakupan/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1 \
    SCARF_ANALYTICS=false \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1

# The project lives in /opt/cakupan, owned by airflow:0 and group-writable: containers run as
# "${AIRFLOW_UID}:0", and dbt writes target/ and logs/ inside the project folder.
USER 0
RUN mkdir -p /opt/cakupan/sources \
    && chown -R airflow:0 /opt/cakupan \
    && chmod -R g+rwX /opt/cakupan
# 50000 = the image's `airflow` user
USER 50000
WORKDIR /opt/cakupan

# 1) Third-party dependencies exactly as pinned in uv.lock (this layer changes only with the lock).
#    They go into the image's Airflow virtualenv ($VIRTUAL_ENV = /home/airflow/.local), on top of
#    the official image (which keeps its Celery provider and Redis client for the CeleryExecutor).
COPY --chown=airflow:0 pyproject.toml uv.lock ./
RUN pip install "uv==${UV_VERSION}" \
    && uv export --quiet --frozen --no-dev --no-hashes --no-emit-project \
        --format requirements-txt --output-file /tmp/requirements.lock.txt \
    && uv pip install --python "${VIRTUAL_ENV}/bin/python" --requirement /tmp/requirements.lock.txt \
    && rm -f /tmp/requirements.lock.txt

# 2) The project: the `cakupan` package (include/), the DAGs and the dbt project.
COPY --chown=airflow:0 include/ include/
COPY --chown=airflow:0 dags/ dags/
COPY --chown=airflow:0 dbt_project/ dbt_project/
RUN uv pip install --python "${VIRTUAL_ENV}/bin/python" --no-deps . \
    && rm -rf build include/*.egg-info \
    && python -c "import cakupan, cosmos, dbt.version, psycopg2, redis, airflow.providers.postgres, airflow.providers.celery"

# 3) The dbt manifest the DAGs read (dbt_project/target/manifest.json). `dbt parse` renders the
#    profile but does not connect: the values below only satisfy profiles.yml.
WORKDIR /opt/cakupan/dbt_project
RUN PGHOST=warehouse PGPORT=5432 PGUSER=cakupan PGDATABASE=cakupan DBT_PROFILES_DIR=. \
    dbt parse --quiet \
    && test -s target/manifest.json \
    && rm -rf logs \
    && chmod -R g+rwX /opt/cakupan
WORKDIR /opt/cakupan
