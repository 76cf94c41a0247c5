"""Operate the local Airflow (`cakupan airflow ui|stop|status|trigger|backfill|runs`) and list
the warehouse's loads (`cakupan loads`).

No Airflow import here: Airflow runs as subprocesses (`airflow api-server`, `scheduler`,
`dag-processor`, `triggerer`, `dags test`, `dags trigger`, `backfill create`, `dags list-runs`)
with the environment of `cakupan.airflow_local.airflow_env`: SQLite metadata and state under
`.airflow/`, the DAGs of `dags/`, and the warehouse as `AIRFLOW_CONN_WAREHOUSE`.

The services started by `cakupan airflow ui` keep their pid files and logs in
`.airflow/services/`; `cakupan airflow stop` ends exactly those processes (and their children).
`trigger` and `backfill` use the running scheduler when there is one, and otherwise run the DAG
in this process's foreground with `airflow dags test`.

Exit codes: 0 done, 1 a run or a command failed, 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cakupan import airflow_local, config

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
DEFAULT_PORT = 8080
ADMIN_USER = "admin"
SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
# ingest DAGs and the months one of their scheduled runs covers (their schedule's step)
INGEST_DAGS = {"cakupan_reference": 12, "cakupan_population": 6, "cakupan_membership": 1}
TRANSFORM_DAG = "cakupan_transform"
ALL_DAGS = [*INGEST_DAGS, TRANSFORM_DAG]
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# CLI noise that is not an error (deprecations of the local client commands)
_NOISE = re.compile(
    r"deprecat|airflowctl|warnings\.warn|UserWarning|FutureWarning"
    r"|^\d{4}-\d\d-\d\dT\S+ \[(warning|info|debug)\s*\]",
    re.IGNORECASE,
)


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


# --- months ------------------------------------------------------------------------------


def parse_month(value: str) -> dt.date:
    m = _MONTH.match((value or "").strip())
    if not m:
        raise UsageError(f"month must be YYYY-MM, not {value!r}")
    return dt.date(int(m[1]), int(m[2]), 1)


def _index(month: dt.date) -> int:
    return month.year * 12 + month.month - 1


def _month_of(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_blocks(dag_id: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The [first, last] months of each scheduled interval of `dag_id` overlapping the range."""
    if last < first:
        raise UsageError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    step = INGEST_DAGS.get(dag_id, 1)
    start = _index(first) - _index(first) % step
    blocks = []
    while start <= _index(last):
        blocks.append((_month_of(start), _month_of(start + step - 1)))
        start += step
    return blocks


def month_conf(first: dt.date, last: dt.date | None = None) -> dict:
    return {"from_month": f"{first:%Y-%m}", "to_month": f"{(last or first):%Y-%m}"}


# --- processes ---------------------------------------------------------------------------


def services_dir(home: Path | None = None) -> Path:
    path = (home or airflow_local.airflow_home()) / "services"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid_file(home: Path | None, service: str) -> Path:
    return services_dir(home) / f"{service}.pid"


def _alive(pid: int) -> bool:
    try:  # reap it when it is our own exited child (tests start and stop in one process)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields and fields[0] == "Z":
                return False
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            return b"airflow" in cmdline
        except OSError:
            return False
    return True


def running_services(home: Path | None = None) -> dict[str, int]:
    """Services started by `cakupan airflow ui` whose process is alive: name -> pid."""
    found = {}
    for service in SERVICES:
        path = _pid_file(home, service)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            found[service] = pid
    return found


def scheduler_running(home: Path | None = None) -> bool:
    return "scheduler" in running_services(home)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def admin_password(home: Path, *, create: bool = True) -> str | None:
    """The SimpleAuthManager password of `admin` (written before Airflow would generate one)."""
    path = home / PASSWORDS_FILE
    try:
        passwords = json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        passwords = {}
    except (OSError, json.JSONDecodeError) as exc:
        raise OperateError(f"{path} is not readable JSON: {exc}") from exc
    if ADMIN_USER in passwords or not create:
        return passwords.get(ADMIN_USER)
    passwords[ADMIN_USER] = secrets.token_urlsafe(12)
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(passwords) + "\n")
    return passwords[ADMIN_USER]


def service_env(
    env: dict[str, str], port: int, *, login: bool = True, parallelism: int = 4
) -> dict[str, str]:
    """Settings every service of one local Airflow must agree on (API address, auth, executor)."""
    home = Path(env["AIRFLOW_HOME"])
    base_url = f"http://127.0.0.1:{port}"
    env = dict(env)
    env.update(
        {
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False" if login else "True",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
            # cron schedules (`@monthly`, `0 0 1 1,7 *`) get real data intervals
            # ([2024-03-01, 2024-04-01) for the March run), which the ingest DAGs select files
            # by; Airflow 3's default (False) gives scheduled and backfill runs an empty interval
            "AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS": "True",
            # task logs at INFO (what a task prints), unless the operator chose a level
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get(
                "AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"
            ),
        }
    )
    # the log servers of the scheduler's workers and the triggerer: free ports, so that two
    # local Airflows (a developer's and a test's) never collide on the defaults 8793/8794
    env.setdefault("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", str(free_port()))
    env.setdefault("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", str(free_port()))
    return env


def start_services(
    env: dict[str, str], services: tuple[str, ...] = SERVICES, *, port: int | None = None
) -> dict[str, int]:
    """Start the services in the background, each in its own process group; name -> pid."""
    home = Path(env["AIRFLOW_HOME"])
    state = services_dir(home)
    port = port or int(env.get("AIRFLOW__API__PORT", DEFAULT_PORT))
    started = {}
    for service in services:
        cmd = [airflow_local.airflow_bin(), service]
        if service == "api-server":
            cmd += ["--host", "127.0.0.1", "--port", str(port)]
        log_path = state / f"{service}.log"
        with open(log_path, "ab") as log:
            log.write(f"\n=== {dt.datetime.now():%Y-%m-%d %H:%M:%S} {' '.join(cmd[1:])}\n".encode())
            log.flush()
            process = subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop ends its children too
                cwd=str(config.project_root()),
            )
        _pid_file(home, service).write_text(f"{process.pid}\n")
        started[service] = process.pid
    (state / "ui.json").write_text(json.dumps({"port": port, "url": f"http://127.0.0.1:{port}"}))
    return started


def _group_alive(pgid: int) -> bool:
    _alive(pgid)  # reaps the leader when it is our child
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_services(home: Path | None = None, *, timeout: float = 30.0) -> list[str]:
    """SIGTERM each started service's process group, SIGKILL what is left after `timeout`."""
    home = home or airflow_local.airflow_home()
    groups = {}
    for service in SERVICES:
        path = _pid_file(home, service)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            groups[service] = pid
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        path.unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_group_alive(p) for p in groups.values()):
        time.sleep(0.3)
    for pid in groups.values():
        if _group_alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return list(groups)


def log_tail(home: Path | None, service: str, lines: int = 30) -> str:
    path = services_dir(home) / f"{service}.log"
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def health(base_url: str, timeout: float = 3.0) -> dict | None:
    """`GET /api/v2/monitor/health` (needs no login), or None when the API does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def wait_ready(
    base_url: str,
    home: Path | None = None,
    *,
    timeout: float = 180.0,
    components: tuple[str, ...] = ("metadatabase", "scheduler", "dag_processor"),
) -> dict:
    """Wait until the API answers and the listed components report healthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for service, pid in _started_pids(home).items():
            if not _alive(pid):
                raise OperateError(
                    f"airflow {service} exited during start-up; its log ends:\n"
                    + log_tail(home, service)
                )
        last = health(base_url)
        if last and all((last.get(c) or {}).get("status") == "healthy" for c in components):
            return last
        time.sleep(1.0)
    raise OperateError(f"Airflow at {base_url} not healthy after {timeout:.0f} s: {last}")


def _started_pids(home: Path | None) -> dict[str, int]:
    pids = {}
    for service in SERVICES:
        try:
            pids[service] = int(_pid_file(home, service).read_text().strip())
        except (OSError, ValueError):
            continue
    return pids


def api_token(base_url: str, username: str, password: str, *, timeout: float = 10.0) -> str:
    """A JWT for the public API: `POST /auth/token` of SimpleAuthManager."""
    request = urllib.request.Request(
        f"{base_url}/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())["access_token"]
    except urllib.error.HTTPError as exc:
        raise OperateError(f"login as {username} failed: HTTP {exc.code}") from exc


# --- airflow CLI -------------------------------------------------------------------------


def _clean(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() and not _NOISE.search(line))


def airflow_cli(
    args: list[str], env: dict[str, str], *, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run `airflow ARGS`; OperateError with the end of its output when it fails."""
    result = subprocess.run(
        [airflow_local.airflow_bin(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        tail = "\n".join(_clean(result.stderr + "\n" + result.stdout).splitlines()[-15:])
        raise OperateError(f"airflow {' '.join(args[:2])} failed:\n{tail}")
    return result


def _json_output(text: str) -> list[dict]:
    """The JSON list a `-o json` command printed (ignoring log lines around it)."""
    start = text.find("[")
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    while start >= 0:
        try:
            data, _ = decoder.raw_decode(text[start:])
            if isinstance(data, list):
                return data
        except ValueError:
            pass
        start = text.find("[", start + 1)
    return []


def list_runs(dag_id: str, env: dict[str, str]) -> list[dict]:
    """The runs of one DAG, newest first (`airflow dags list-runs -o json`)."""
    result = subprocess.run(
        [airflow_local.airflow_bin(), "dags", "list-runs", dag_id, "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        if "does not exist" in result.stderr + result.stdout:
            return []  # never parsed: no runs
        tail = "\n".join(_clean(result.stderr).splitlines()[-10:])
        raise OperateError(f"airflow dags list-runs {dag_id} failed:\n{tail}")
    return _json_output(result.stdout)


def local_env() -> dict[str, str]:
    """The CLI environment: the warehouse connection resolved (embedded server started)."""
    from cakupan.warehouse import resolve_params

    env = airflow_local.airflow_env(resolve_params().airflow_value())
    airflow_local.ensure_db(env)
    return env


# --- formatting --------------------------------------------------------------------------


def format_table(headers: list[str], rows: list[list], right: set[int] | None = None) -> str:
    right = right or set()
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) for i, v in enumerate(values)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, cells)])


def _when(value: str | None) -> str:
    if not value:
        return ""
    return value.replace("T", " ")[:16]


def _duration(start: str | None, end: str | None) -> str:
    if not start or not end:
        return ""
    try:
        seconds = (
            dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)
        ).total_seconds()
    except ValueError:
        return ""
    minutes, sec = divmod(int(seconds), 60)
    return f"{minutes}m{sec:02d}s" if minutes else f"{sec}s"


def _started(run: dict) -> str | None:
    """When a run really started: `airflow dags test` records its logical date as start_date,
    so take the later of start_date and run_after (when it was created or became due)."""
    values = [v for v in (run.get("start_date"), run.get("run_after")) if v]
    try:
        return max(values, key=dt.datetime.fromisoformat) if values else None
    except ValueError:
        return run.get("start_date")


def format_periods(periods) -> str:
    months = sorted(p for p in (periods or []) if p is not None)
    if not months:
        return "-"
    if len(months) == 1:
        return f"{months[0]:%Y-%m}"
    return f"{months[0]:%Y-%m}..{months[-1]:%Y-%m} ({len(months)})"


# --- commands ----------------------------------------------------------------------------


def cmd_ui(args) -> int:
    home = airflow_local.airflow_home()
    running = running_services(home)
    if running:
        state = _ui_state(home)
        say(f"already running ({', '.join(running)}): {state.get('url', '?')}")
        say("stop with: cakupan airflow stop")
        return 0
    port = args.port
    if port_in_use(port):
        raise OperateError(f"port {port} is in use; choose another with --port")
    from cakupan.warehouse import resolve_params

    params = resolve_params()
    env = airflow_local.airflow_env(params.airflow_value())
    say(f"warehouse: {params.describe()}")
    say(f"metadata:  {home} (SQLite)")
    airflow_local.ensure_db(env)
    env = service_env(env, port, login=not args.no_login)
    password = admin_password(home) if not args.no_login else None
    start_services(env, port=port)
    base_url = f"http://127.0.0.1:{port}"
    say(f"starting {', '.join(SERVICES)} (logs: {services_dir(home)}/*.log) ...")
    if args.no_wait:
        say(f"Airflow UI: {base_url} (starting)")
    else:
        try:
            wait_ready(base_url, home, timeout=args.timeout)
        except OperateError:
            stop_services(home)
            raise
        say(f"Airflow UI: {base_url}")
    if password:
        say(f"  log in as {ADMIN_USER} / {password}   (kept in {home / PASSWORDS_FILE})")
    else:
        say("  no login (every visitor is admin: --no-login); the API listens on 127.0.0.1 only")
    say("  DAGs start paused: `cakupan airflow trigger` and `backfill` unpause the DAG they run")
    say("  stop with: cakupan airflow stop")
    return 0


def _ui_state(home: Path) -> dict:
    try:
        return json.loads((services_dir(home) / "ui.json").read_text())
    except (OSError, ValueError):
        return {}


def cmd_stop(args) -> int:
    stopped = stop_services(timeout=args.timeout)
    say(f"stopped {', '.join(stopped)}" if stopped else "not running")
    return 0


def cmd_status(args) -> int:
    home = airflow_local.airflow_home()
    running = running_services(home)
    for service in SERVICES:
        pid = running.get(service)
        say(f"{service:14} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    if running:
        url = _ui_state(home).get("url")
        info = health(url) if url else None
        say(f"UI: {url} ({'answering' if info else 'not answering'})")
    return 0 if running else 3  # like `systemctl status`: 3 = not running


def _check_dag(dag_id: str) -> None:
    if dag_id not in ALL_DAGS:
        raise UsageError(f"unknown DAG {dag_id!r}; the DAGs are: {', '.join(ALL_DAGS)}")


def _unpause(dag_id: str, env: dict[str, str]) -> None:
    airflow_cli(["dags", "unpause", dag_id], env)


def _wait_run(dag_id: str, run_id: str, env: dict[str, str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = "queued"
    while time.monotonic() < deadline:
        for run in list_runs(dag_id, env):
            if run.get("run_id") == run_id:
                if run.get("state") != state:
                    state = run.get("state")
                    say(f"  {run_id}: {state}")
                break
        if state in ("success", "failed"):
            return state
        time.sleep(5)
    raise OperateError(f"{dag_id} run {run_id} still {state} after {timeout:.0f} s")


def cmd_trigger(args) -> int:
    _check_dag(args.dag_id)
    ingest = args.dag_id in INGEST_DAGS
    if ingest and not args.month:
        raise UsageError(f"{args.dag_id} loads months: give --month YYYY-MM")
    first = parse_month(args.month) if args.month else None
    last = parse_month(args.to) if args.to else first
    if first and last and last < first:
        raise UsageError(f"--to {last:%Y-%m} is before --month {first:%Y-%m}")
    conf = month_conf(first, last) if ingest else None
    env = local_env()
    if scheduler_running():
        _unpause(args.dag_id, env)
        cmd = ["dags", "trigger", args.dag_id, "-o", "json"]
        if conf:
            cmd += ["-c", json.dumps(conf)]
        result = airflow_cli(cmd, env)
        runs = _json_output(result.stdout)
        run_id = runs[0].get("dag_run_id") if runs else None
        say(f"triggered {args.dag_id} {json.dumps(conf) if conf else ''} -> run {run_id}")
        url = _ui_state(airflow_local.airflow_home()).get("url")
        if url and run_id:
            say(f"  {url}/dags/{args.dag_id}/runs/{run_id}")
        if args.wait and run_id:
            state = _wait_run(args.dag_id, run_id, env, args.timeout)
            return 0 if state == "success" else 1
        return 0
    logical = f"{first:%Y-%m-%d}" if first else f"{dt.datetime.now(dt.UTC):%Y-%m-%d}"
    say(
        f"no scheduler running: airflow dags test {args.dag_id} {logical} "
        f"{json.dumps(conf) if conf else ''}".rstrip()
    )
    try:
        seconds = airflow_local.dags_test(args.dag_id, logical, env, conf)
    except RuntimeError as exc:
        raise OperateError(str(exc)) from exc
    say(f"{args.dag_id} succeeded in {seconds:.0f} s")
    return 0


def cmd_backfill(args) -> int:
    _check_dag(args.dag_id)
    if args.dag_id not in INGEST_DAGS:
        raise UsageError(
            f"{args.dag_id} runs when the raw tables change: trigger it instead"
            f" (cakupan airflow trigger {args.dag_id})"
        )
    blocks = month_blocks(args.dag_id, parse_month(args.from_month), parse_month(args.to_month))
    env = local_env()
    if scheduler_running():
        _unpause(args.dag_id, env)
        cmd = [
            "backfill", "create", "--dag-id", args.dag_id,
            "--from-date", f"{blocks[0][0]:%Y-%m-%d}",
            "--to-date", f"{blocks[-1][0]:%Y-%m-%d}",
            "--reprocess-behavior", args.reprocess,
        ]  # fmt: skip
        result = airflow_cli(cmd, env)
        for line in _clean(result.stdout).splitlines()[-10:]:
            say(line)
        say(
            f"backfill of {args.dag_id}: {len(blocks)} run(s) from {blocks[0][0]:%Y-%m} to"
            f" {blocks[-1][1]:%Y-%m} handed to the scheduler; follow with:"
            f" cakupan airflow runs {args.dag_id}"
        )
        return 0
    say(f"no scheduler running: {len(blocks)} run(s) of {args.dag_id} with airflow dags test")
    logs = airflow_local.airflow_home() / "logs"
    started = time.monotonic()
    for i, (first, last) in enumerate(blocks, 1):
        label = f"{first:%Y-%m}" + (f"..{last:%Y-%m}" if last != first else "")
        log_file = logs / f"dags_test_{args.dag_id}_{first:%Y-%m}.log"
        try:
            seconds = airflow_local.dags_test(
                args.dag_id, f"{first:%Y-%m-%d}", env, month_conf(first, last), log_file
            )
        except RuntimeError as exc:
            say(f"[{i}/{len(blocks)}] {args.dag_id} {label}: FAILED")
            rest = f"--from {first:%Y-%m} --to {blocks[-1][1]:%Y-%m}"
            raise OperateError(
                f"{exc}\nresume with: cakupan airflow backfill {args.dag_id} {rest}"
            ) from exc
        say(f"[{i}/{len(blocks)}] {args.dag_id} {label}: ok in {seconds:.0f} s")
    say(f"backfill of {args.dag_id} done in {time.monotonic() - started:.0f} s")
    return 0


def cmd_runs(args) -> int:
    dag_ids = [args.dag_id] if args.dag_id else ALL_DAGS
    if args.dag_id:
        _check_dag(args.dag_id)
    env = airflow_local.airflow_env()
    airflow_local.ensure_db(env)
    with ThreadPoolExecutor(max_workers=len(dag_ids)) as pool:
        results = list(pool.map(lambda d: list_runs(d, env), dag_ids))
    runs = [run for found in results for run in found]
    runs.sort(key=lambda r: _started(r) or "", reverse=True)
    runs = runs[: args.limit]
    if not runs:
        say("no runs yet")
        return 0
    rows = [
        [
            r.get("dag_id"),
            r.get("run_id"),
            r.get("state"),
            _when(r.get("logical_date")) or "-",
            _when(_started(r)),
            _duration(_started(r), r.get("end_date")),
        ]
        for r in runs
    ]
    say(format_table(["DAG", "RUN ID", "STATE", "LOGICAL DATE", "STARTED", "TOOK"], rows, {5}))
    return 0


LOADS_SQL = """
select load_id, source, source_file, periods, rows_read, rows_landed, rows_rejected,
       rows_skipped, status, started_at, run_id, error, superseded_by
from raw.loads
{where}
order by load_id desc
limit %s
"""


def cmd_loads(args) -> int:
    import psycopg2

    from cakupan.warehouse import connect

    conn = connect(application_name="cakupan-loads")
    try:
        with conn.cursor() as cur:
            where, params = "", []
            if args.source:
                where, params = "where source = %s", [args.source]
            try:
                cur.execute(LOADS_SQL.format(where=where), [*params, args.limit])
            except psycopg2.errors.UndefinedTable:
                say("no loads yet (raw.loads does not exist)")
                return 0
            rows = cur.fetchall()
    finally:
        conn.close()
    if not rows:
        say("no loads yet")
        return 0
    table = []
    errors = []
    for (load_id, source, source_file, periods, read, landed, rejected, skipped, status,
         started, _run_id, error, superseded_by) in rows:  # fmt: skip
        shown = status + (" (replaced)" if superseded_by and status == "succeeded" else "")
        table.append(
            [load_id, source, source_file or "-", format_periods(periods), read, landed,
             rejected, skipped, shown, f"{started:%Y-%m-%d %H:%M:%S}"]
        )  # fmt: skip
        if error:
            errors.append(f"load {load_id}: {error.splitlines()[0][:200]}")
    say(
        format_table(
            ["LOAD", "SOURCE", "FILE", "PERIODS", "READ", "LANDED", "REJECTED", "SKIPPED",
             "STATUS", "STARTED"],
            table,
            {0, 4, 5, 6, 7},
        )
    )  # fmt: skip
    for line in errors:
        say(line)
    return 0


def _guard(func):
    """One clear line on stderr and the error's exit code, for people and for make."""

    def run(args) -> int:
        try:
            return int(func(args) or 0)
        except OperateError as exc:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201
            return exc.exit_code
        except subprocess.TimeoutExpired as exc:
            print(f"error: {exc.cmd[0]} {exc.cmd[1]} timed out", file=sys.stderr)  # noqa: T201
            return 1

    return run


def register(subparsers) -> None:
    """Add `cakupan airflow ...` and `cakupan loads` to the `cakupan` command line."""
    airflow = subparsers.add_parser(
        "airflow",
        help="run the local Airflow (UI and scheduler), trigger and backfill DAGs, list runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = airflow.add_subparsers(dest="airflow_command", required=True)

    ui = sub.add_parser("ui", help="start api-server, scheduler, dag-processor and triggerer")
    ui.add_argument(
        "--port", type=int, default=int(os.environ.get("CAKUPAN_AIRFLOW_PORT", DEFAULT_PORT))
    )
    ui.add_argument(
        "--no-login",
        action="store_true",
        help="no password: every visitor is admin (local use only)",
    )
    ui.add_argument("--no-wait", action="store_true", help="do not wait until it is healthy")
    ui.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for health")
    ui.set_defaults(func=_guard(cmd_ui))

    stop = sub.add_parser("stop", help="stop the services `cakupan airflow ui` started")
    stop.add_argument("--timeout", type=float, default=30.0, help="seconds before SIGKILL")
    stop.set_defaults(func=_guard(cmd_stop))

    status = sub.add_parser("status", help="which services run (exit 3 when none)")
    status.set_defaults(func=_guard(cmd_status))

    trigger = sub.add_parser(
        "trigger", help="run a DAG now (by the scheduler when it runs, else airflow dags test)"
    )
    trigger.add_argument("dag_id", metavar="DAG_ID")
    trigger.add_argument("--month", help="YYYY-MM: the month an ingest DAG loads")
    trigger.add_argument("--to", help="YYYY-MM: load --month .. --to in one run")
    trigger.add_argument(
        "--wait",
        action="store_true",
        help="with a scheduler: wait for the run; exit 1 when it fails",
    )
    trigger.add_argument("--timeout", type=float, default=3600.0, help="seconds, with --wait")
    trigger.set_defaults(func=_guard(cmd_trigger))

    backfill = sub.add_parser("backfill", help="run an ingest DAG for each interval of a range")
    backfill.add_argument("dag_id", metavar="DAG_ID")
    backfill.add_argument("--from", dest="from_month", required=True, metavar="YYYY-MM")
    backfill.add_argument("--to", dest="to_month", required=True, metavar="YYYY-MM")
    backfill.add_argument(
        "--reprocess",
        choices=["none", "failed", "completed"],
        default="completed",
        help="with a scheduler: rerun intervals that already have runs",
    )
    backfill.set_defaults(func=_guard(cmd_backfill))

    runs = sub.add_parser("runs", help="the last DAG runs")
    runs.add_argument("dag_id", nargs="?", metavar="DAG_ID")
    runs.add_argument("--limit", type=int, default=10)
    runs.set_defaults(func=_guard(cmd_runs))

    loads = subparsers.add_parser("loads", help="the last loads into the warehouse (raw.loads)")
    loads.add_argument("--limit", type=int, default=20)
    loads.add_argument("--source", help="only this source (contract name)")
    loads.set_defaults(func=_guard(cmd_loads))
