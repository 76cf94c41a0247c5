"""What the DAGs and the CLI call: find a source's files for an interval, load one (or an API
source's request), run dbt."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from cakupan import config

log = logging.getLogger(__name__)

_MONTH_IN_NAME = re.compile(r"(?<!\d)(20\d{2})[_-](0[1-9]|1[0-2])(?!\d)")
_SEMESTER_IN_NAME = re.compile(r"(?<!\d)(20\d{2})[_-]s([12])(?!\d)", re.IGNORECASE)
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")


def period_hint(path: Path) -> tuple[dt.date, dt.date] | None:
    """The months a file's name says it covers, as [first, last] month; None when it says none."""
    name = path.name
    if m := _MONTH_IN_NAME.search(name):
        month = dt.date(int(m[1]), int(m[2]), 1)
        return month, month
    if m := _SEMESTER_IN_NAME.search(name):
        first = dt.date(int(m[1]), 1 if m[2] == "1" else 7, 1)
        return first, dt.date(first.year, first.month + 5, 1)
    return None


def files_for_interval(
    contract_name: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    sources_dir: Path | None = None,
) -> list[str]:
    """Files of a contract whose name places them in [start, end); all files when no bounds.

    Files whose names carry no period (reference lists) belong to every interval: loading
    them again replaces what they loaded before, so reruns stay idempotent.
    """
    from cakupan.sources.contracts import load_contracts

    contract = load_contracts()[contract_name]
    root = sources_dir or config.sources_dir()
    found = []
    for path in sorted(root.glob(contract.path)):
        if not path.is_file():
            continue
        hint = period_hint(path)
        if hint is not None and start is not None and end is not None:
            first, last = hint
            if last < start or first >= end:
                continue
        found.append(str(path))
    return found


def relative_source_path(path: Path, sources_dir: Path | None = None) -> str:
    root = (sources_dir or config.sources_dir()).resolve()
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


def load_file(
    path: str | Path,
    contract_name: str | None = None,
    *,
    conn=None,
    run_id: str | None = None,
    progress=None,
    allow_shrink: bool = False,
) -> dict:
    """Extract one file by its contract and land it; return the load's counts (for XCom).
    A delivery far smaller than the current load of its periods is refused unless
    `allow_shrink` (`cakupan.landing.scopes`)."""
    from cakupan.landing.load import land_file
    from cakupan.sources.contracts import load_contracts
    from cakupan.sources.extract import extract_file
    from cakupan.sources.fit import contract_for_file
    from cakupan.warehouse import connect

    path = Path(path)
    contract, _ = contract_for_file(path, load_contracts(), name=contract_name)
    key = None
    if contract.persons is not None:  # person-level: keyed on the way in; no key, no load
        from cakupan.warehouse.person_key import person_key

        key = person_key()
    own = conn is None
    # the connection first: a warehouse that cannot work fails before the file is read
    conn = conn or connect(application_name=f"cakupan-load-{contract.name}")
    try:
        extraction = extract_file(path, contract)
        options = dict(
            source_file=relative_source_path(path),
            run_id=run_id,
            progress=progress,
            allow_shrink=allow_shrink,
        )
        if key is not None:
            from cakupan.landing.persons import land_persons

            result = land_persons(conn, contract, extraction, key, **options)
        else:
            result = land_file(conn, contract, extraction, **options)
    finally:
        if own:
            conn.close()
    log.info(
        "%s: %s rows read, %s accepted, %s rejected, %s skipped (load %s)",
        result.source_file,
        result.rows_read,
        result.rows_landed,
        result.rows_rejected,
        result.rows_skipped,
        result.load_id,
    )
    return result.as_dict()


def api_sources() -> list[str]:
    """The contracts of API kinds (bps_api, ckan_datastore), by name."""
    from cakupan.sources.contracts import load_contracts

    return sorted(name for name, c in load_contracts().items() if not c.is_file)


def api_period(contract_name: str, period: str | None, interval_start: dt.date | None):
    """The period a DAG run asks an API source for: `period` when given, else the year of the
    run's interval for a source whose request is for one period; None for a whole source."""
    from cakupan.sources.api import parse_request_period, uses_period
    from cakupan.sources.contracts import load_contracts

    if period:
        return parse_request_period(period).text
    if interval_start is not None and uses_period(load_contracts()[contract_name]):
        return str(interval_start.year)
    return None


def _api_contract(source: str):
    from cakupan.sources.contracts import load_contracts

    contracts = load_contracts()
    contract = contracts.get(source)
    if contract is None:
        names = ", ".join(sorted(n for n, c in contracts.items() if not c.is_file)) or "none"
        raise ValueError(f"no source contract {source!r} (API sources: {names})")
    if contract.is_file:
        raise ValueError(
            f"{source} is a {contract.kind} file contract: load its files (`cakupan load FILE`)"
        )
    return contract


def _fetch(conn, contract, wanted, credentials, planned, run_id, progress):
    """The API source's records, as an extraction; a fault is recorded as a failed load."""
    from cakupan.landing.raw import record_failure
    from cakupan.sources.api import ApiSourceError, extract_api
    from cakupan.sources.errors import SourceFileError

    started = dt.datetime.now(dt.UTC)
    if progress is not None:
        progress(f"{contract.name}: fetching {planned.location}")
    try:
        extraction, request = extract_api(contract, wanted, credentials)
    except (ApiSourceError, SourceFileError) as exc:
        record_failure(conn, contract.name, contract.raw_table, planned.location, None,
                       planned.endpoint, run_id, started, exc)  # fmt: skip
        raise
    if progress is not None:
        progress(f"{contract.name}: {request.records:,} records in {request.responses} response(s)")
    return extraction, request


def load_api(
    source: str,
    period: str | None = None,
    *,
    conn=None,
    run_id: str | None = None,
    progress=None,
    credentials=None,
    allow_shrink: bool = False,
) -> dict:
    """Fetch an API source's request (a year `2024` or a month `2024-03`, for a source whose
    request is for one period) and land its records as a file's rows; return the load's
    counts. Credentials default to the variable `AIRFLOW_CONN_<connection>`. A fault of the
    request or of its answer is one `ApiSourceError`, recorded in `raw.loads` as failed; nothing
    is loaded."""
    from cakupan.landing.load import land_file
    from cakupan.sources.api import credentials_from_env, parse_request_period, plan_request
    from cakupan.warehouse import connect

    contract = _api_contract(source)
    wanted = parse_request_period(period) if period else None
    credentials = credentials or credentials_from_env(contract.connection)
    planned = plan_request(contract, wanted, credentials)  # a wrong period or key: no load
    own = conn is None
    conn = conn or connect(application_name=f"cakupan-load-{contract.name}")
    try:
        extraction, request = _fetch(conn, contract, wanted, credentials, planned, run_id, progress)
        result = land_file(
            conn,
            contract,
            extraction,
            source_file=request.location,
            run_id=run_id,
            progress=progress,
            allow_shrink=allow_shrink,
        )
    finally:
        if own:
            conn.close()
    log.info(
        "%s: %s records fetched, %s accepted, %s rejected, %s skipped (load %s)",
        request.location,
        request.records,
        result.rows_landed,
        result.rows_rejected,
        result.rows_skipped,
        result.load_id,
    )
    return {**result.as_dict(), "period": wanted.text if wanted else None}


def dbt_env(params=None) -> dict[str, str]:
    """Environment for running dbt against the warehouse connection.

    `dbt_project/profiles.yml` reads libpq's own variables (`PGHOST`, `PGPASSWORD`, ...), set here
    from the connection; what the connection leaves out keeps the caller's value, so libpq's rules
    (`~/.pgpass`, `PGPASSFILE`, a Unix socket) apply to dbt as to the loaders.
    """
    from cakupan.warehouse import resolve_params

    params = params or resolve_params()
    env = dict(os.environ)
    env.update(params.libpq_env())
    env["DBT_PROFILES_DIR"] = str(config.dbt_project_dir())
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    return env


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def transform_state_dir(params) -> Path:
    """Where the freshness of the sources at this warehouse's last successful transform is kept
    (dbt's `--state` for the selector `new_loads`): one folder per host, port and database."""
    key = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{params.host}-{params.port}-{params.dbname}")
    return config.state_dir() / "transform" / key


def transform(
    *,
    new_loads: bool = False,
    full_refresh: bool = False,
    params=None,
    check: bool = True,
    quiet: bool = False,
) -> int:
    """Build the warehouse with dbt: everything, or only what the loads since the last transform
    change (`new_loads`).

    Both first measure the sources' freshness (`dbt source freshness`, which warns of a source
    not loaded for too long) and, once the build succeeds, keep it for the next `new_loads`. With
    `new_loads`, dbt's selector `new_loads` (dbt_project/selectors.yml) builds the tables and
    incremental models downstream of the sources with newer rows than at the last transform and
    of the load log (`raw.loads`, `raw.rejects`), and runs the data tests downstream of them
    (those on staging views too). Views are not recreated: they read the raw tables as they are;
    unit tests and the data tests tagged `logic` are left out: they test the SQL, which new data
    does not change. Without a kept freshness (the first transform of a warehouse here), or when
    a source has its first rows, it builds everything. After changing models, build everything.
    """
    from cakupan.warehouse import resolve_params

    if new_loads and full_refresh:
        raise ValueError("a full refresh builds everything: it takes no `new_loads`")
    params = params or resolve_params()
    project = config.dbt_project_dir()
    cmd = [sys.executable, "-m", "cakupan.dbt_session", "--project-dir", str(project)]
    cmd += ["--state", str(transform_state_dir(params))]
    flags = {"--new-loads": new_loads, "--full-refresh": full_refresh, "--quiet": quiet}
    cmd += [flag for flag, wanted in flags.items() if wanted]
    log.info("running dbt source freshness and build%s", " (new loads)" * new_loads)
    result = subprocess.run(cmd, env=dbt_env(params), cwd=project)
    if result.returncode != 0:
        _explain_failures(params)
    if check and result.returncode != 0:
        raise RuntimeError(f"the transform failed with exit code {result.returncode}")
    return result.returncode


def _explain_failures(params) -> None:
    """After a failed build: the first rows of each failing data test (the months, sources,
    loads and files at fault), which dbt itself does not print."""
    from cakupan.failures import explain
    from cakupan.warehouse import connect

    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    run_results = config.dbt_project_dir() / target / "run_results.json"
    try:
        conn = connect(params, application_name="cakupan-transform-failures")
    except Exception:  # the build's own error is what matters; nothing more to say
        return
    try:
        for line in explain(conn, run_results):
            print(line, file=sys.stderr)  # noqa: T201 - the CLI's report
    finally:
        conn.close()


def run_dbt(args: list[str], *, params=None, check: bool = True) -> int:
    """Run a dbt command in the project folder with the warehouse's credentials."""
    cmd = [dbt_executable(), *args, "--project-dir", str(config.dbt_project_dir())]
    log.info("running %s", " ".join(cmd[:3]))
    result = subprocess.run(cmd, env=dbt_env(params), cwd=config.dbt_project_dir())
    if result.returncode != 0 and args[:1] == ["build"]:
        _explain_failures(params)
    if check and result.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed with exit code {result.returncode}")
    return result.returncode
