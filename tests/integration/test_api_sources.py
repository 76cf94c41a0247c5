"""API sources against a server on localhost replaying real-format answers (BPS WebAPI
`list/model/data`, CKAN `datastore_search` with paging), faults included, into a real
PostgreSQL; and the API sources' DAG run by `airflow dags test`."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest
from cakupan.pipeline import load_api
from cakupan.sources.api import ApiCredentials, ApiSourceError
from werkzeug import Response

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"
KEY = "s3cr3t-bps-key"
BPS = "bps_population_kaltim_api"
CKAN = "satudata_kaltim_jkn_participants"
BPS_PATH = f"/v1/api/list/model/data/lang/ind/domain/6400/var/1975/th/124/key/{KEY}/"
CKAN_PATH = "/api/3/action/datastore_search"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def bps_year(year: int) -> dict:
    """The Kaltim population table as BPS answers `th/<code>/`: that year's tahun and cells."""
    body = copy.deepcopy(_fixture("bps_population_kaltim_6400_var1975.json"))
    code = year - 1900
    body["tahun"] = [t for t in body["tahun"] if t["val"] == code]
    body["datacontent"] = {
        k: v for k, v in body["datacontent"].items() if k.endswith(f"1975{0}{code}0")
    }
    return body


@pytest.fixture()
def fast_retries(monkeypatch):
    monkeypatch.setenv("CAKUPAN_API_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("CAKUPAN_API_BACKOFF", "0.05")
    monkeypatch.setenv("CAKUPAN_API_TIMEOUT", "0.5")


def _bps_credentials(httpserver) -> ApiCredentials:
    return ApiCredentials(url=httpserver.url_for("/v1/api"), key=KEY)


def _ckan_pages(httpserver) -> None:
    for offset in (0, 4, 8):
        httpserver.expect_request(
            CKAN_PATH, query_string={"resource_id": RESOURCE, "limit": "1000",
                                     "offset": str(offset), "sort": "_id"},
        ).respond_with_json(_fixture(f"ckan_jkn_kaltim_offset{offset}.json"))  # fmt: skip


RESOURCE = "5b6c7d1e-2f3a-4b5c-9d8e-7f6a5b4c3d2e"


def _state(db) -> tuple:
    """What a failed load must leave as it was: the raw rows and rejects, and which loads are
    current."""
    with db.cursor() as cur:
        cur.execute("select to_regclass('raw.bps_population') is not null")
        rows = []
        if cur.fetchone()[0]:
            cur.execute(
                "select _load_id, bps_code, year, population from raw.bps_population order by 2"
            )
            rows = cur.fetchall()
        cur.execute("select to_regclass('raw.rejects') is not null")
        rejects = 0
        if cur.fetchone()[0]:
            cur.execute("select count(*) from raw.rejects")
            rejects = cur.fetchone()[0]
        cur.execute("select to_regclass('raw.loads') is not null")
        current = []
        if cur.fetchone()[0]:
            cur.execute(
                "select load_id from raw.loads where status = 'succeeded' and superseded_by is null"
            )
            current = cur.fetchall()
    db.commit()
    return rows, rejects, current


def _last_load(db) -> dict:
    with db.cursor() as cur:
        cur.execute(
            "select load_id, source, status, error, source_file, source_url, source_params,"
            " source_sha256, fetched_at, periods, rows_landed from raw.loads"
            " order by load_id desc limit 1"
        )
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
    db.commit()
    return row


def test_bps_year_loads_with_provenance_and_a_rerun_replaces_it(db, httpserver, fast_retries):
    body = bps_year(2024)
    httpserver.expect_request(BPS_PATH).respond_with_json(body)
    first = load_api(BPS, "2024", conn=db, credentials=_bps_credentials(httpserver))
    # 10 kab/kota landed, the province row (9999) skipped
    assert (first["rows_read"], first["rows_landed"], first["rows_rejected"]) == (10, 10, 0)
    assert first["rows_skipped"] == 1
    with db.cursor() as cur:
        cur.execute(
            "select bps_code, name, year, population, _region_code, _period::text, _sheet,"
            " _source_row from raw.bps_population order by bps_code limit 2"
        )
        rows = cur.fetchall()
    assert rows == [
        ("6401", "Paser", 2024, body["datacontent"]["6401197501240"], "64.01", "2024-01-01",
         "records", 1),
        ("6402", "Kutai Barat", 2024, body["datacontent"]["6402197501240"], "64.07",
         "2024-01-01", "records", 2),
    ]  # fmt: skip
    load = _last_load(db)
    endpoint = httpserver.url_for("/v1/api/list/model/data")
    assert load["status"] == "succeeded"
    assert load["source_url"] == endpoint
    assert load["source_params"] == {"lang": "ind", "domain": "6400", "var": "1975", "th": "124"}
    assert load["source_file"] == f"{endpoint}?lang=ind&domain=6400&var=1975&th=124"
    served = httpserver.log[0][1].get_data()
    assert load["source_sha256"] == hashlib.sha256(served).hexdigest()
    assert load["fetched_at"] is not None and [str(p) for p in load["periods"]] == ["2024-01-01"]
    assert KEY not in json.dumps(load, default=str)

    second = load_api(BPS, "2024", conn=db, credentials=_bps_credentials(httpserver))
    with db.cursor() as cur:
        # the rerun supersedes the first load: its rows stay in raw, out of the facts' way
        cur.execute("select count(*), min(_load_id), max(_load_id) from raw.bps_population")
        assert cur.fetchone() == (20, first["load_id"], second["load_id"])
        cur.execute(
            "select count(*) from raw.observations_residents o where o.load_id = %s"
            " and not exists (select from raw.superseded s where s.load_id = o.load_id)",
            (second["load_id"],),
        )
        assert cur.fetchone()[0] == 10
        cur.execute("select superseded_by from raw.loads where load_id = %s", (first["load_id"],))
        assert cur.fetchone()[0] == second["load_id"]
    db.commit()
    assert second["replaced_loads"] == [first["load_id"]]


def test_ckan_resource_loads_page_by_page(db, httpserver, fast_retries):
    _ckan_pages(httpserver)
    result = load_api(CKAN, conn=db, credentials=ApiCredentials(url=httpserver.url_for("/")))
    assert (result["rows_read"], result["rows_landed"], result["rows_rejected"]) == (10, 10, 0)
    assert result["periods"] == ["2024-01-01"]
    assert len(httpserver.log) == 3
    with db.cursor() as cur:
        cur.execute(
            "select bps_code, participants, year, _region_code, _period::text"
            " from raw.satudata_kaltim_jkn_participants order by _source_row"
        )
        rows = cur.fetchall()
    db.commit()
    assert len(rows) == 10
    assert rows[0] == ("6401", 249812, "2024", "64.01", "2024-01-01")
    assert rows[-1][0] == "6474"
    load = _last_load(db)
    assert load["source_params"] == {"resource_id": RESOURCE}
    pages = b"".join(request_response[1].get_data() for request_response in httpserver.log)
    assert load["source_sha256"] == hashlib.sha256(pages).hexdigest()


def _slow(request):
    time.sleep(1.0)
    return Response(json.dumps(bps_year(2024)), content_type="application/json")


FAULTS = {
    "429": (lambda: Response("", status=429, headers={"Retry-After": "0"}),
            "failed after 3 attempts", "last status 429"),
    "503": (lambda: Response("upstream down", status=503),
            "failed after 3 attempts", "last status 503"),
    "timeout": (None, "failed after 3 attempts", "timeout"),
    "malformed": (lambda: Response("<html>Bad gateway</html>", content_type="application/json"),
                  "failed after 3 attempts", "invalid JSON"),
    "truncated": (lambda: Response(json.dumps(bps_year(2024))[:300],
                                   content_type="application/json"),
                  "failed after 3 attempts", "invalid JSON"),
    "empty": (lambda: Response(json.dumps(_fixture("bps_list_not_available.json")),
                               content_type="application/json"),
              "empty answer, nothing loaded", "list-not-available"),
}  # fmt: skip


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_lasting_fault_is_one_error_and_changes_nothing(db, httpserver, fast_retries, fault):
    httpserver.expect_request(BPS_PATH).respond_with_json(bps_year(2024))
    load_api(BPS, "2024", conn=db, credentials=_bps_credentials(httpserver))
    before = _state(db)
    httpserver.clear()
    respond, says, why = FAULTS[fault]
    handler = _slow if respond is None else (lambda request: respond())
    httpserver.expect_request(BPS_PATH).respond_with_handler(handler)
    with pytest.raises(ApiSourceError) as raised:
        load_api(BPS, "2024", conn=db, credentials=_bps_credentials(httpserver))
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{BPS}: ")
    assert says in message and why in message, message
    assert KEY not in message and "/key/***/" in message
    assert _state(db) == before
    load = _last_load(db)
    assert (load["status"], load["error"]) == ("failed", message)
    assert load["source_url"] == httpserver.url_for("/v1/api/list/model/data")


def test_a_passing_fault_is_retried_and_the_load_goes_through(db, httpserver, fast_retries):
    httpserver.expect_ordered_request(BPS_PATH).respond_with_response(
        Response("", status=429, headers={"Retry-After": "1"})
    )
    httpserver.expect_ordered_request(BPS_PATH).respond_with_data("busy", status=502)
    httpserver.expect_ordered_request(BPS_PATH).respond_with_json(bps_year(2024))
    started = time.monotonic()
    result = load_api(BPS, "2024", conn=db, credentials=_bps_credentials(httpserver))
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert result["rows_landed"] == 10 and len(httpserver.log) == 3


def test_ckan_total_zero_names_the_source_and_parameters(db, httpserver, fast_retries):
    httpserver.expect_request(CKAN_PATH).respond_with_json(_fixture("ckan_empty.json"))
    with pytest.raises(ApiSourceError) as raised:
        load_api(CKAN, conn=db, credentials=ApiCredentials(url=httpserver.url_for("/")))
    message = str(raised.value)
    assert message == (
        f"{CKAN}: empty answer, nothing loaded (an empty result is refused): "
        f"{httpserver.url_for(CKAN_PATH)}?resource_id={RESOURCE} returned no records"
    )
    assert _state(db)[0] == []


def test_a_period_the_source_cannot_take_is_refused_before_any_request(db, httpserver):
    with pytest.raises(ApiSourceError, match="takes no --period"):
        load_api(CKAN, "2024", conn=db, credentials=ApiCredentials(url=httpserver.url_for("/")))
    with pytest.raises(ApiSourceError, match="pass --period"):
        load_api(BPS, None, conn=db, credentials=_bps_credentials(httpserver))
    with pytest.raises(ApiSourceError, match="no BPS WebAPI key"):
        load_api(BPS, "2024", conn=db, credentials=ApiCredentials(url=httpserver.url_for("/")))
    assert httpserver.log == []


# -- the DAG: `airflow dags test cakupan_api_sources`, as the scheduler would run it ---------------


@pytest.fixture()
def airflow_run(tmp_path, warehouse, httpserver):
    """Run the API sources' DAG once against the replay server; return (exit code, log, task
    states)."""
    import sqlite3

    from cakupan.airflow_local import airflow_bin, airflow_env, ensure_db

    home = tmp_path / "airflow"
    home.mkdir()
    env = airflow_env(warehouse.url(mask=False))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW_CONN_BPS_WEBAPI": json.dumps(
                {"conn_type": "http", "host": httpserver.url_for("/v1/api"), "password": KEY}
            ),
            "AIRFLOW_CONN_SATUDATA_KALTIM": json.dumps(
                {"conn_type": "http", "host": httpserver.url_for("/")}
            ),
            "CAKUPAN_API_MAX_ATTEMPTS": "3",
            "CAKUPAN_API_BACKOFF": "0.05",
        }
    )
    ensure_db(env)

    def run() -> tuple[int, str, dict[str, str]]:
        result = subprocess.run(
            [airflow_bin(), "dags", "test", "cakupan_api_sources", "2024-06-02T02:00:00+00:00"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        metadata = sqlite3.connect(home / "airflow.db")
        states = dict(
            metadata.execute(
                "select task_id, state from task_instance where dag_id = 'cakupan_api_sources'"
            ).fetchall()
        )
        metadata.close()
        return result.returncode, result.stdout + result.stderr, states

    return run


def test_the_dag_loads_each_api_source_against_the_replay_server(db, httpserver, airflow_run):
    httpserver.expect_request(BPS_PATH).respond_with_json(bps_year(2024))
    _ckan_pages(httpserver)
    code, log, states = airflow_run()
    assert code == 0, log[-3000:]
    assert states == {f"load_{BPS}": "success", f"load_{CKAN}": "success"}
    with db.cursor() as cur:
        cur.execute(
            "select source, status, rows_landed, periods::text[], run_id like 'manual__%%'"
            " or run_id like '%%2024-06-02%%' from raw.loads order by source"
        )
        loads = cur.fetchall()
    db.commit()
    assert loads == [
        (BPS, "succeeded", 10, ["2024-01-01"], True),
        (CKAN, "succeeded", 10, ["2024-01-01"], True),
    ]
    assert KEY not in log

    # the next run asks again and supersedes: the same current rows, from the new loads only
    # (the earlier loads' rows stay in raw, superseded)
    assert airflow_run()[0] == 0
    with db.cursor() as cur:
        cur.execute(
            "select source, count(*), count(*) filter (where superseded_by is null)"
            " from raw.loads group by source order by source"
        )
        assert cur.fetchall() == [(BPS, 2, 1), (CKAN, 2, 1)]
        current = " where not exists (select from raw.superseded s where s.load_id = r._load_id)"
        cur.execute(
            "select count(*), count(distinct _load_id) from raw.bps_population r" + current
            + " union all select count(*), count(distinct _load_id)"
            " from raw.satudata_kaltim_jkn_participants r" + current
        )  # fmt: skip
        assert cur.fetchall() == [(10, 1), (10, 1)]
    db.commit()


def test_a_fault_in_the_dag_fails_its_task_once_and_leaves_the_warehouse(
    db, httpserver, airflow_run
):
    httpserver.expect_request(BPS_PATH).respond_with_json(bps_year(2024))
    _ckan_pages(httpserver)
    assert airflow_run()[0] == 0
    before = _state(db)
    httpserver.clear()
    httpserver.expect_request(BPS_PATH).respond_with_data("upstream down", status=503)
    _ckan_pages(httpserver)
    code, log, states = airflow_run()
    assert code != 0 or "failed" in log.lower()
    assert states == {f"load_{BPS}": "failed", f"load_{CKAN}": "success"}
    bps_requests = [r for r, _ in httpserver.log if r.path == BPS_PATH]
    assert len(bps_requests) == 3  # the client's bounded retries; the task itself is not retried
    rows, rejects, _current = _state(db)
    assert (rows, rejects) == before[:2]  # the BPS rows as they were
    with db.cursor() as cur:
        cur.execute("select error from raw.loads where source = %s and status = 'failed'", (BPS,))
        (error,) = cur.fetchone()
    db.commit()
    assert error.startswith(f"{BPS}: GET ") and "last status 503" in error
    assert error in log and KEY not in log


# -- the CLI: `cakupan load --source NAME --period 2024` -------------------------------------------


def _cli(httpserver, warehouse_url: str, *args: str) -> subprocess.CompletedProcess:
    import os
    import sys

    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_CONN_WAREHOUSE": warehouse_url,
            "AIRFLOW_CONN_BPS_WEBAPI": json.dumps(
                {"conn_type": "http", "host": httpserver.url_for("/v1/api"), "password": KEY}
            ),
            "CAKUPAN_API_MAX_ATTEMPTS": "2",
            "CAKUPAN_API_BACKOFF": "0.05",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "cakupan.cli", "load", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_loads_a_source_for_a_year_and_fails_in_one_line(db, warehouse, httpserver):
    httpserver.expect_request(BPS_PATH).respond_with_json(bps_year(2024))
    url = warehouse.url(mask=False)
    done = _cli(httpserver, url, "--source", BPS, "--period", "2024")
    assert done.returncode == 0, done.stderr
    endpoint = httpserver.url_for("/v1/api/list/model/data")
    assert done.stdout.strip().startswith(
        f"{BPS}: load 1: {endpoint}?lang=ind&domain=6400&var=1975&th=124: read 10, landed 10,"
        " rejected 0, skipped 1"
    ), done.stdout
    before = _state(db)

    httpserver.clear()
    httpserver.expect_request(BPS_PATH).respond_with_data('{"status": "OK", "data-av', 200)
    failed = _cli(httpserver, url, "--source", BPS, "--period", "2024")
    assert failed.returncode == 1 and failed.stdout == ""
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith(f"error: {BPS}: GET http://") and "invalid JSON" in lines[0]
    assert KEY not in failed.stderr
    assert _state(db) == before


def test_cli_checks_the_warehouse_before_asking_the_api(httpserver):
    done = _cli(
        httpserver, "postgresql://nobody@127.0.0.1:1/none", "--source", BPS, "--period", "2024"
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot connect to the warehouse")
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--source", "no_such_source"], "no source contract 'no_such_source' (API sources:"),
        (["--source", "bps_population"], "bps_population is a csv file contract"),
        (["--source", BPS, "--period", "24"], "period '24': expected a year (2024)"),
        (["--period", "2024"], "--period is for an API source"),
    ],
)
def test_cli_misuse_is_one_line(db, warehouse, httpserver, args, says):
    done = _cli(httpserver, warehouse.url(mask=False), *args)
    assert done.returncode in (1, 2)
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert httpserver.log == []
