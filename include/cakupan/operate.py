"""Operate the local Airflow (`cakupan airflow ui|stop|status|trigger|backfill|runs`) and the
warehouse's load log (`cakupan loads list|remove`).

Airflow does the work: `airflow standalone` supervises api-server, scheduler, dag-processor and
triggerer; its REST API (v2) triggers, backfills and lists runs; `airflow dags test` runs a DAG
in the foreground when no Airflow is running; the DAGs are the ones Airflow parsed from `dags/`.
What this module adds is what Airflow does not do:

* Cakupan's environment for Airflow (`cakupan.airflow_local.airflow_env`: SQLite metadata under
  `.airflow/`, the DAGs of `dags/`, and the warehouse connection Cakupan resolves, the embedded
  PostgreSQL included) plus an API on 127.0.0.1 at a chosen port and free log-server ports;
* finding the running `airflow standalone` of this AIRFLOW_HOME (psutil: its command line and
  environment) to stop it or to send commands to its API, whose login it reads from Airflow's
  own password file;
* `--month YYYY-MM [--to YYYY-MM]` turned into the conf `from_month`/`to_month` of the DAGs that
  declare those params, and `cakupan loads`, which lists `raw.loads` and removes loads (the
  work is `cakupan.landing`'s: `raw.recover_interrupted`, `removal.remove_loads`).

No Airflow import here: Airflow runs as subprocesses and answers over HTTP.
Exit codes: 0 done, 1 a run or a command failed, 2 wrong arguments, 3 (`status`) not running.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from cakupan import airflow_local, config

DEFAULT_PORT = 8080
ADMIN_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
COMPONENTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class OperateError(RuntimeError):
    """A failure to report in one line; `exit_code` is what the command returns."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(OperateError):
    def __init__(self, message: str):
        super().__init__(message, exit_code=2)


def say(message: str = "") -> None:
    print(message, flush=True)  # noqa: T201 - an operator's command talks to a person


def print_table(headers: list[str], rows: list[list], right: tuple[int, ...] = ()) -> None:
    """A plain table (rich): one line per row, never wrapped or cut when piped."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="right" if i in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    width = None if sys.stdout.isatty() else 10_000  # piped: the table's own width
    Console(width=width, markup=False, highlight=False, soft_wrap=True).print(table)


def parse_month(value: str) -> dt.date:
    m = _MONTH.match((value or "").strip())
    if not m:
        raise UsageError(f"month must be YYYY-MM, not {value!r}")
    return dt.date(int(m[1]), int(m[2]), 1)


def month_range(first: str, last: str | None) -> tuple[dt.date, dt.date]:
    start = parse_month(first)
    end = parse_month(last) if last else start
    if end < start:
        raise UsageError(f"--to {end:%Y-%m} is before {start:%Y-%m}")
    return start, end


# --- the running `airflow standalone` ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def standalone_env(env: dict[str, str], port: int, *, login: bool = True) -> dict[str, str]:
    """What `airflow standalone` needs beyond its defaults: the API on 127.0.0.1:`port` (and
    its URL for the task runners), log servers on free ports (two local Airflows never collide
    on 8793/8794), at most 4 tasks at once, task logs at INFO, and login or not."""
    base_url = f"http://127.0.0.1:{port}"
    env = dict(env)
    env.update(
        {
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False" if login else "True",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get(
                "AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"
            ),
        }
    )
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env.setdefault("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", str(free_port()))
    env.setdefault("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", str(free_port()))
    return env


@dataclass
class Standalone:
    """A running `airflow standalone` and the environment it was started with."""

    process: psutil.Process
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        port = self.env.get("AIRFLOW__API__PORT", str(DEFAULT_PORT))
        return self.env.get("AIRFLOW__API__BASE_URL") or f"http://127.0.0.1:{port}"

    @property
    def login(self) -> bool:
        return self.env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "").lower() != "true"

    def password(self) -> str | None:
        return admin_password(self.env)


def find_standalone(home: Path | None = None) -> Standalone | None:
    """The `airflow standalone` process whose AIRFLOW_HOME is `home` (default: Cakupan's)."""
    home = str(home or airflow_local.airflow_home())
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "standalone" not in cmdline[1:3] or not any(
            Path(part).name == "airflow" for part in cmdline[:2]
        ):
            continue
        try:
            env = process.environ()
            if env.get("AIRFLOW_HOME") == home and process.status() != psutil.STATUS_ZOMBIE:
                return Standalone(process, env)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def stop_tree(process: psutil.Process, timeout: float = 30.0) -> None:
    """SIGTERM to the process and all its descendants (Airflow's components shut down on it),
    SIGKILL to what is left after `timeout` seconds."""
    try:
        tree = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in tree:
        try:
            member.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=timeout)
    for member in alive:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def admin_password(env: dict[str, str]) -> str | None:
    """The `admin` password Airflow's SimpleAuthManager generated (its passwords file)."""
    path = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE") or str(
        Path(env["AIRFLOW_HOME"]) / PASSWORDS_FILE
    )
    try:
        return json.loads(Path(path).read_text() or "{}").get(ADMIN_USER)
    except (OSError, ValueError):
        return None


def health(base_url: str, timeout: float = 3.0) -> dict | None:
    """`GET /api/v2/monitor/health` (needs no login), or None when the API does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def wait_ready(base_url: str, process: subprocess.Popen, timeout: float, log: Path | None):
    """Wait until every component reports healthy; fail when `airflow standalone` exits."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").splitlines()[-30:] if log else []
            raise OperateError("airflow standalone exited during start-up\n" + "\n".join(tail))
        last = health(base_url)
        if last and all((last.get(c) or {}).get("status") == "healthy" for c in COMPONENTS):
            return last
        time.sleep(1.0)
    raise OperateError(f"Airflow at {base_url} not healthy after {timeout:.0f} s: {last}")


# --- the REST API ------------------------------------------------------------------------


class Api:
    """Airflow's public REST API v2 with a bearer token from SimpleAuthManager."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url
        self.token = token

    @classmethod
    def of(cls, standalone: Standalone) -> Api:
        api = cls(standalone.base_url)
        if not standalone.login:  # every visitor is admin: a token for no credentials
            api.token = api.call("GET", "/auth/token")["access_token"]
        else:
            body = {"username": ADMIN_USER, "password": standalone.password() or ""}
            api.token = api.call("POST", "/auth/token", body)["access_token"]
        return api

    def call(self, method: str, path: str, body: dict | None = None, tries: int = 6):
        """One API call; asked again while SQLite metadata is locked by another component
        (Airflow then answers 500 "Database error" or 503, and has rolled the request back)."""
        for _ in range(tries - 1):
            try:
                return self._call(method, path, body)
            except ApiError as exc:
                if exc.status not in (500, 503) or "atabase" not in str(exc):
                    raise
            time.sleep(3)
        return self._call(method, path, body)

    def _call(self, method: str, path: str, body: dict | None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, method, path, exc.read()) from exc
        except OSError as exc:
            raise OperateError(f"Airflow at {self.base_url} does not answer: {exc}") from exc
        return json.loads(data) if data else None

    def dag(self, dag_id: str) -> dict:
        """The DAG's details (its params among them); UsageError naming the DAGs if unknown."""
        try:
            return self.call("GET", f"/api/v2/dags/{_q(dag_id)}/details")
        except ApiError as exc:
            if exc.status != 404:
                raise
        dags = self.call("GET", "/api/v2/dags?limit=1000&order_by=dag_id")["dags"]
        names = ", ".join(d["dag_id"] for d in dags)
        raise UsageError(f"unknown DAG {dag_id!r}; the DAGs are: {names}")


class ApiError(OperateError):
    def __init__(self, status: int, method: str, path: str, body: bytes):
        try:
            detail = json.loads(body).get("detail", body.decode(errors="replace"))
        except (ValueError, AttributeError):
            detail = body.decode(errors="replace")
        super().__init__(f"{method} {path}: HTTP {status}: {detail}")
        self.status = status


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _api() -> Api | None:
    standalone = find_standalone()
    return Api.of(standalone) if standalone else None


# --- commands: the services --------------------------------------------------------------


def cmd_ui(args) -> int:
    home = airflow_local.airflow_home()
    running = find_standalone(home)
    if running:
        say(f"already running (airflow standalone, pid {running.process.pid}): {running.base_url}")
        return 0
    if port_in_use(args.port):
        raise OperateError(f"port {args.port} is in use; choose another with --port")
    from cakupan.warehouse import resolve_params

    params = resolve_params()
    env = standalone_env(
        airflow_local.airflow_env(params.airflow_value()), args.port, login=not args.no_login
    )
    say(f"warehouse: {params.describe()}")
    say(f"metadata:  {home} (SQLite)")
    cmd = [airflow_local.airflow_bin(), "standalone"]
    log = home / "standalone.log" if args.detach else None
    out = open(log, "ab") if log else None  # noqa: SIM115 - the child keeps it
    process = subprocess.Popen(
        cmd,
        env=env,
        cwd=str(config.project_root()),
        stdin=subprocess.DEVNULL if log else None,
        stdout=out,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=bool(log),  # detached: not ended by this terminal's Ctrl-C
    )
    if out:
        out.close()
    try:
        wait_ready(env["AIRFLOW__API__BASE_URL"], process, args.timeout, log)
        _banner(env, log)
        return 0 if log else process.wait()  # in the foreground until Ctrl-C
    except KeyboardInterrupt:  # the terminal's SIGINT reached airflow standalone too
        process.wait()
        return 0
    except OperateError:
        stop_tree(psutil.Process(process.pid))
        raise


def _banner(env: dict[str, str], log: Path | None) -> None:
    say(f"Airflow UI: {env['AIRFLOW__API__BASE_URL']}")
    password = admin_password(env)
    if env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "True":
        say("  no login (every visitor is admin: --no-login); the API listens on 127.0.0.1 only")
    elif password:
        say(f"  log in as {ADMIN_USER} / {password}")
    say("  DAGs start paused: `cakupan airflow trigger` and `backfill` unpause the DAG they run")
    if log:
        say(f"  log: {log}; stop with: cakupan airflow stop")
    else:
        say("  Ctrl-C stops it")


def cmd_stop(args) -> int:
    running = find_standalone()
    if not running:
        say("not running")
        return 0
    stop_tree(running.process, args.timeout)
    say(f"stopped airflow standalone (pid {running.process.pid}) and its components")
    return 0


def cmd_status(args) -> int:
    running = find_standalone()
    if not running:
        say("not running")
        return 3  # like `systemctl status`
    info = health(running.base_url) or {}
    say(f"airflow standalone (pid {running.process.pid}): {running.base_url}")
    rows = [
        [name, (info.get(name) or {}).get("status", "not answering"), _heartbeat(info, name)]
        for name in COMPONENTS
    ]
    print_table(["COMPONENT", "STATUS", "LAST HEARTBEAT"], rows)
    return 0


def _heartbeat(info: dict, name: str) -> str:
    component = info.get(name) or {}
    return _when(next((v for k, v in component.items() if k.endswith("heartbeat")), None))


# --- commands: DAG runs ------------------------------------------------------------------


def _conf(args) -> dict | None:
    if not args.month:
        if args.to:
            raise UsageError("--to needs --month")
        return None
    first, last = month_range(args.month, args.to)
    return {"from_month": f"{first:%Y-%m}", "to_month": f"{last:%Y-%m}"}


def cmd_trigger(args) -> int:
    conf = _conf(args)
    api = _api()
    if api is None:
        return _trigger_in_foreground(args.dag_id, conf)
    dag = api.dag(args.dag_id)
    if conf and "from_month" not in (dag.get("params") or {}):
        raise UsageError(f"{args.dag_id} has no params from_month/to_month: no --month")
    path = f"/api/v2/dags/{_q(args.dag_id)}"
    api.call("PATCH", path, {"is_paused": False})
    now = dt.datetime.now(dt.UTC).isoformat()  # without months: the latest complete interval
    run = api.call("POST", f"{path}/dagRuns", {"logical_date": now, "conf": conf or {}})
    run_id = run["dag_run_id"]
    say(f"triggered {args.dag_id} {json.dumps(conf) if conf else ''} -> run {run_id}")
    say(f"  {api.base_url}/dags/{args.dag_id}/runs/{_q(run_id)}")
    if not args.wait:
        return 0
    return 0 if _wait_run(api, args.dag_id, run_id, args.timeout) == "success" else 1


def _trigger_in_foreground(dag_id: str, conf: dict | None) -> int:
    from cakupan.warehouse import resolve_params

    env = airflow_local.airflow_env(resolve_params().airflow_value())
    airflow_local.ensure_db(env)
    logical = f"{conf['from_month']}-01" if conf else f"{dt.datetime.now(dt.UTC):%Y-%m-%d}"
    say(f"no Airflow running: airflow dags test {dag_id} {logical} {json.dumps(conf or {})}")
    try:
        seconds = airflow_local.dags_test(dag_id, logical, env, conf)
    except RuntimeError as exc:
        raise OperateError(str(exc)) from exc
    say(f"{dag_id} succeeded in {seconds:.0f} s")
    return 0


def _wait_run(api: Api, dag_id: str, run_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        now = api.call("GET", f"/api/v2/dags/{_q(dag_id)}/dagRuns/{_q(run_id)}")["state"]
        if now != state:
            state = now
            say(f"  {run_id}: {state}")
        if state in ("success", "failed"):
            return state
        time.sleep(3)
    raise OperateError(f"{dag_id} run {run_id} still {state} after {timeout:.0f} s")


def cmd_backfill(args) -> int:
    first, last = month_range(args.from_month, args.to_month)
    api = _api()
    if api is None:
        raise OperateError(
            "no Airflow running: start it with `cakupan airflow ui --detach`, or load the range"
            f" in one foreground run: cakupan airflow trigger {args.dag_id}"
            f" --month {first:%Y-%m} --to {last:%Y-%m}"
        )
    api.dag(args.dag_id)
    body = {
        "dag_id": args.dag_id,
        "from_date": f"{first:%Y-%m-%d}T00:00:00Z",
        "to_date": f"{last:%Y-%m-%d}T00:00:00Z",
        "reprocess_behavior": args.reprocess,
        "max_active_runs": 1,
    }
    planned = api.call("POST", "/api/v2/backfills/dry_run", body).get("backfills", [])
    if not planned:
        say(f"{args.dag_id} has no interval starting from {first:%Y-%m} to {last:%Y-%m}")
        return 0
    api.call("PATCH", f"/api/v2/dags/{_q(args.dag_id)}", {"is_paused": False})
    backfill = api.call("POST", "/api/v2/backfills", body)
    months = ", ".join(_when(p.get("logical_date"))[:7] for p in planned)
    say(f"backfill {backfill['id']} of {args.dag_id}: {len(planned)} run(s), intervals {months}")
    say(f"  handed to the scheduler; follow with: cakupan airflow runs {args.dag_id}")
    return 0


def cmd_runs(args) -> int:
    api = _api()
    if api is not None:
        if args.dag_id:
            api.dag(args.dag_id)
        path = f"/api/v2/dags/{_q(args.dag_id or '~')}/dagRuns"
        runs = api.call("GET", f"{path}?order_by=-run_after&limit={args.limit}")["dag_runs"]
    else:
        runs = _runs_from_cli(args.dag_id)
    runs.sort(key=lambda r: _started(r) or "", reverse=True)
    if not runs:
        say("no runs yet")
        return 0
    rows = [
        [r.get("dag_id"), r.get("dag_run_id") or r.get("run_id"), r.get("state"),
         _when(r.get("logical_date")) or "-", _when(_started(r)),
         _duration(_started(r), r.get("end_date"))]
        for r in runs[: args.limit]
    ]  # fmt: skip
    print_table(["DAG", "RUN ID", "STATE", "LOGICAL DATE", "STARTED", "TOOK"], rows, (5,))
    return 0


def _runs_from_cli(dag_id: str | None) -> list[dict]:
    """No Airflow running: the runs in its metadata database (`airflow dags list-runs`)."""
    from concurrent.futures import ThreadPoolExecutor

    env = airflow_local.airflow_env()
    airflow_local.ensure_db(env)
    if dag_id:
        dag_ids = [dag_id]
    else:
        dag_ids = [d["dag_id"] for d in _airflow_json(["dags", "list", "-o", "json"], env)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = pool.map(
            lambda d: _airflow_json(["dags", "list-runs", d, "-o", "json"], env), dag_ids
        )
        return [run for runs in found for run in runs]


def _airflow_json(args: list[str], env: dict[str, str]) -> list[dict]:
    """The JSON list `airflow ARGS` prints (among its log lines); [] for an unknown DAG."""
    result = subprocess.run(
        [airflow_local.airflow_bin(), *args], env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        if "does not exist" in result.stderr + result.stdout:
            return []  # never parsed: no runs
        tail = "\n".join(result.stderr.strip().splitlines()[-10:])
        raise OperateError(f"airflow {' '.join(args[:3])} failed:\n{tail}")
    decoder = json.JSONDecoder()
    for start in (i for i, c in enumerate(result.stdout) if c == "["):
        try:
            data, _ = decoder.raw_decode(result.stdout[start:])
        except ValueError:
            continue
        if isinstance(data, list):
            return data
    return []


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:16] if value else ""


def _duration(start: str | None, end: str | None) -> str:
    try:
        seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).seconds
    except (TypeError, ValueError):
        return ""
    minutes, sec = divmod(seconds, 60)
    return f"{minutes}m{sec:02d}s" if minutes else f"{sec}s"


def _started(run: dict) -> str | None:
    """When a run really started: `airflow dags test` records its logical date as start_date,
    so take the later of start_date and run_after (when it was created or became due)."""
    values = [v for v in (run.get("start_date"), run.get("run_after")) if v]
    try:
        return max(values, key=dt.datetime.fromisoformat) if values else None
    except ValueError:
        return run.get("start_date")


# --- `cakupan loads` ---------------------------------------------------------------------

LOADS_SQL = """
select load_id, source, coalesce(source_file, source_url, '-'), periods, rows_read, rows_landed,
       rows_rejected, rows_skipped,
       status || case when superseded_by is not null and status = 'succeeded'
                      then ' (replaced)' else '' end,
       to_char(started_at, 'YYYY-MM-DD HH24:MI:SS'), error,
       to_char(removed_at, 'YYYY-MM-DD HH24:MI:SS'), removed_by
from raw.loads
where (%(source)s::text is null or source = %(source)s::text)
  and (%(status)s::text is null or status = %(status)s::text)
  and (%(first)s::date is null
       or exists (select from unnest(periods) as p where p between %(first)s::date
                  and %(last)s::date))
  and (%(files)s::text[] is null or source_file = any(%(files)s::text[])
       or strpos(source_file, %(part)s::text) > 0)
order by started_at desc, load_id desc
limit %(limit)s::integer
"""
LOAD_STATUSES = ("landed", "running", "succeeded", "failed", "removed")
_YEAR = re.compile(r"^(\d{4})$")
_SEMESTER = re.compile(r"^(\d{4})-[sS]([12])$")


def format_periods(periods) -> str:
    months = sorted(p for p in (periods or []) if p is not None)
    if len(months) <= 1:
        return f"{months[0]:%Y-%m}" if months else "-"
    return f"{months[0]:%Y-%m}..{months[-1]:%Y-%m} ({len(months)})"


def period_range(value: str) -> tuple[dt.date, dt.date]:
    """`2024-03` (a month), `2024-s1` (a semester) or `2024` (a year): its first and last month."""
    value = (value or "").strip()
    if m := _YEAR.match(value):
        return dt.date(int(m[1]), 1, 1), dt.date(int(m[1]), 12, 1)
    if m := _SEMESTER.match(value):
        first = dt.date(int(m[1]), 1 if m[2] == "1" else 7, 1)
        return first, dt.date(first.year, first.month + 5, 1)
    try:
        month = parse_month(value)
    except UsageError:
        raise UsageError(f"--period must be YYYY-MM, YYYY-S1/S2 or YYYY, not {value!r}") from None
    return month, month


def file_names(path: str) -> list[str]:
    """How the load log may name a file: as given, and relative to the sources folder (as the
    loader records it) when it lies there."""
    from cakupan.pipeline import relative_source_path

    return list(dict.fromkeys([path, relative_source_path(Path(path))]))


def _open_load_log(application_name: str = "cakupan-loads"):
    """A connection to the warehouse and whether it has a load log; loads a crash interrupted
    are marked failed first (`recover_interrupted`), so that none shows as still under way."""
    import psycopg

    from cakupan.landing.raw import recover_interrupted
    from cakupan.warehouse import connect

    conn = connect(application_name=application_name)
    with conn.cursor() as cur:
        cur.execute("select to_regclass('raw.loads') is not null")
        exists = cur.fetchone()[0]
    conn.commit()
    if exists:
        try:
            for load_id in recover_interrupted(conn):
                say(f"load {load_id} was interrupted (its process or connection ended):"
                    " marked failed, its landed copy dropped")  # fmt: skip
        except psycopg.errors.InsufficientPrivilege:
            conn.rollback()  # a reader that may not write: the list as it is
    return conn, exists


def cmd_loads_list(args) -> int:
    first, last = period_range(args.period) if args.period else (None, None)
    conn, exists = _open_load_log()
    try:
        if not exists:
            say("no loads yet")
            return 0
        with conn.cursor() as cur:
            cur.execute(
                LOADS_SQL,
                {"source": args.source, "status": args.status, "first": first, "last": last,
                 "files": file_names(args.file) if args.file else None, "part": args.file,
                 "limit": args.limit},
            )  # fmt: skip
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows:
        say("no loads match" if _filtered(args) else "no loads yet")
        return 0
    headers = ["LOAD", "SOURCE", "FILE", "PERIODS", "READ", "LANDED", "REJECTED", "SKIPPED",
               "STATUS", "STARTED"]  # fmt: skip
    print_table(headers, [[*r[:3], format_periods(r[3]), *r[4:10]] for r in rows], (0, 4, 5, 6, 7))
    for row in rows:
        if row[10]:
            say(f"load {row[0]}: {row[10].splitlines()[0][:200]}")
        if row[11]:
            say(f"load {row[0]}: removed {row[11]} by {row[12] or 'an unknown user'}")
    return 0


def _filtered(args) -> bool:
    return any((args.source, args.period, args.file, args.status))


def _who() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (a container's uid)
        return None


def cmd_loads_remove(args) -> int:
    from cakupan.landing.raw import ensure_landing_schema
    from cakupan.landing.removal import LoadRemovalError, current_loads_of_files, remove_loads

    if not args.load_ids and not args.file:
        raise UsageError("name the loads to remove: LOAD_ID ... or --file PATH")
    conn, exists = _open_load_log()
    try:
        if not exists:
            raise OperateError("no loads yet: nothing to remove")
        ensure_landing_schema(conn)  # a load log of an older version learns `removed`
        with conn.cursor() as cur:
            ids = list(args.load_ids)
            for path in args.file or []:
                found = current_loads_of_files(cur, file_names(path))
                if not found:
                    raise OperateError(
                        f"{path}: no current load of this file (see `cakupan loads list --file"
                        f" {path}`)"
                    )
                ids += found
            try:
                removal = remove_loads(cur, ids, removed_by=_who())
            except LoadRemovalError as exc:
                raise OperateError(str(exc)) from None
        if args.dry_run:
            conn.rollback()
        else:
            conn.commit()
    finally:
        conn.close()
    _report_removal(removal, dry_run=args.dry_run)
    return 0


def _report_removal(removal, *, dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removed"
    for load in removal.removed:
        say(
            f"{verb} load {load.load_id} ({load.source}, {load.source_file or '-'}, was"
            f" {load.status}): {load.rows_deleted:,} rows from {load.raw_table},"
            f" {load.rejects_deleted:,} rejects, {load.landed_tables_dropped} landed table(s)"
        )
    if removal.observations_deleted:
        say(f"{removal.observations_deleted:,} observations deleted with them")
    for load_id in removal.current_again:
        say(f"load {load_id}, which they had superseded, is current again")
    for load_id in removal.already_removed:
        say(f"load {load_id} was removed before: nothing to do")
    if dry_run:
        say("dry run: nothing changed")
    elif removal.removed:
        say("the marts show these rows until the next transform: run `cakupan transform`")


def _register_loads(subparsers) -> None:
    loads = subparsers.add_parser(
        "loads", help="the load log (raw.loads): list loads, remove loads"
    )
    sub = loads.add_subparsers(dest="loads_command", metavar="{list,remove}")
    # `cakupan loads` alone lists the latest loads
    loads.set_defaults(
        func=_guard(cmd_loads_list), source=None, period=None, file=None, status=None, limit=20
    )
    listing = sub.add_parser(
        "list",
        help="the latest loads, newest first; loads a crash interrupted are marked failed first",
    )
    listing.add_argument("--source", help="only this source (contract name)")
    listing.add_argument(
        "--period", help="only loads covering this month (YYYY-MM), semester (YYYY-S1) or year"
    )
    listing.add_argument("--file", help="only loads of this file (its path, or part of it)")
    listing.add_argument("--status", choices=LOAD_STATUSES, help="only loads with this status")
    listing.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    listing.set_defaults(func=_guard(cmd_loads_list))

    remove = sub.add_parser(
        "remove",
        help="take loads out: their rows, rejects and landed copy, in one transaction",
    )
    remove.add_argument("load_ids", nargs="*", type=int, metavar="LOAD_ID")
    remove.add_argument(
        "--file",
        action="append",
        metavar="PATH",
        help="the current load of this file (repeatable)",
    )
    remove.add_argument(
        "--dry-run", action="store_true", help="say what would be removed, change nothing"
    )
    remove.set_defaults(func=_guard(cmd_loads_remove))


# --- the command line --------------------------------------------------------------------


def _guard(func):
    """One clear line on stderr and the error's exit code, for people and for make."""

    def run(args) -> int:
        try:
            return int(func(args) or 0)
        except OperateError as exc:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201
            return exc.exit_code

    return run


def register(subparsers) -> None:
    """Add `cakupan airflow ...` and `cakupan loads list|remove` to the `cakupan` command line."""
    airflow = subparsers.add_parser(
        "airflow",
        help="run the local Airflow (airflow standalone), trigger and backfill DAGs, list runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = airflow.add_subparsers(dest="airflow_command", required=True)
    _register_services(sub)
    _register_runs(sub)

    _register_loads(subparsers)


def _register_services(sub) -> None:
    ui = sub.add_parser("ui", help="run airflow standalone (UI, scheduler, ...); Ctrl-C stops it")
    ui.add_argument(
        "--port", type=int, default=int(os.environ.get("CAKUPAN_AIRFLOW_PORT", DEFAULT_PORT))
    )
    ui.add_argument("--no-login", action="store_true", help="every visitor is admin (local only)")
    ui.add_argument(
        "--detach", action="store_true", help="in the background, once healthy (log in .airflow/)"
    )
    ui.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for health")
    ui.set_defaults(func=_guard(cmd_ui))

    stop = sub.add_parser("stop", help="stop the airflow standalone of this AIRFLOW_HOME")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    stop.set_defaults(func=_guard(cmd_stop))

    status = sub.add_parser("status", help="its components' health (exit 3: not running)")
    status.set_defaults(func=_guard(cmd_status))


def _register_runs(sub) -> None:
    trigger = sub.add_parser(
        "trigger", help="run a DAG now (by the running Airflow, else airflow dags test)"
    )
    trigger.add_argument("dag_id", metavar="DAG_ID")
    trigger.add_argument("--month", help="YYYY-MM: the month an ingest DAG loads")
    trigger.add_argument("--to", help="YYYY-MM: load --month .. --to in one run")
    trigger.add_argument(
        "--wait", action="store_true", help="wait for the scheduler's run; exit 1 when it fails"
    )
    trigger.add_argument("--timeout", type=float, default=3600.0, help="seconds, with --wait")
    trigger.set_defaults(func=_guard(cmd_trigger))

    backfill = sub.add_parser("backfill", help="one run per interval of a range (Airflow's)")
    backfill.add_argument("dag_id", metavar="DAG_ID")
    backfill.add_argument("--from", dest="from_month", required=True, metavar="YYYY-MM")
    backfill.add_argument("--to", dest="to_month", required=True, metavar="YYYY-MM")
    backfill.add_argument(
        "--reprocess",
        choices=["none", "failed", "completed"],
        default="completed",
        help="rerun intervals that already have runs",
    )
    backfill.set_defaults(func=_guard(cmd_backfill))

    runs = sub.add_parser("runs", help="the last DAG runs")
    runs.add_argument("dag_id", nargs="?", metavar="DAG_ID")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(func=_guard(cmd_runs))
