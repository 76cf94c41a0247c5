"""The warehouse: the Airflow connection `warehouse` (env `AIRFLOW_CONN_WAREHOUSE`), given to libpq.

libpq parses what it defines: a URI goes to libpq's own parser
(`psycopg.conninfo.conninfo_to_dict`), and the keywords it yields go to the driver (psycopg 3)
unchanged, so every form libpq accepts works (no password with `trust`, `PGPASSWORD`,
`PGPASSFILE` or `~/.pgpass`, Unix sockets and `peer`, `sslmode`, `options`,
`target_session_attrs`, ...). What no library does without importing Airflow is kept here: an
Airflow connection's fields (`host`, `port`, `login`, `password`, `schema`, `extra`, also as
JSON) mapped to libpq's keywords the way the postgres provider's hook maps them; those keywords
handed to a child process (dbt) as libpq's own environment variables; and a description of the
connection that never shows its password.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

ENV_VAR = "AIRFLOW_CONN_WAREHOUSE"

# extras the postgres provider's hook reads itself and never gives libpq
# (`PostgresHook.ignored_extra_options`, plus Airflow's own JSON keys)
AIRFLOW_ONLY_EXTRAS = frozenset(
    {
        "iam",
        "redshift",
        "redshift-serverless",
        "cursor",
        "cluster-identifier",
        "workgroup-name",
        "aws_conn_id",
        "sqlalchemy_scheme",
        "sqlalchemy_query",
        "azure_conn_id",
        "conn_type",
        "description",
    }
)


class WarehouseUnreachable(RuntimeError):
    """The warehouse connection cannot work: one line for a person, no password in it."""


class WarehouseConnectionLost(RuntimeError):
    """A connection that worked was lost (the server ended it, restarted or crashed, or the
    network failed): the message carries the server's own words. A retry may succeed."""


@dataclass(frozen=True)
class WarehouseParams:
    """A warehouse connection as libpq keywords (what the connection says; libpq fills the rest)."""

    keywords: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, **keywords) -> WarehouseParams:
        """From libpq keywords; None and empty values are left to libpq's defaults."""
        return cls({k: _text(v) for k, v in keywords.items() if v is not None and _text(v) != ""})

    def replace(self, **keywords) -> WarehouseParams:
        """The same connection with some keywords changed (`dbname=...`); None removes one."""
        merged = dict(self.keywords)
        for key, value in keywords.items():
            merged.pop(key, None)
            if value is not None:
                merged[key] = value
        return WarehouseParams.of(**merged)

    def dsn_kwargs(self) -> dict[str, str]:
        """Keyword arguments for `psycopg.connect` (and psycopg2's): the connection as it is."""
        return dict(self.keywords)

    def effective(self, keyword: str) -> str | None:
        """The value libpq will use: the connection's, else libpq's environment variable."""
        value = self.keywords.get(keyword)
        if value:
            return value
        envvar = libpq_env_vars().get(keyword)
        return os.environ.get(envvar) or None if envvar else None

    @property
    def host(self) -> str:
        return self.effective("host") or self.effective("hostaddr") or "(default Unix socket)"

    @property
    def port(self) -> int:
        value = self.effective("port") or "5432"
        return int(value) if value.isdigit() else value  # type: ignore[return-value]

    @property
    def user(self) -> str:
        if user := self.effective("user"):
            return user
        import getpass

        return getpass.getuser()  # libpq's default: the operating-system user

    @property
    def password(self) -> str:
        return self.keywords.get("password", "")

    @property
    def dbname(self) -> str:
        return self.effective("dbname") or self.user

    def describe(self) -> str:
        """`host 127.0.0.1, port 5432, database cakupan, user cakupan`: never the password."""
        return f"host {self.host}, port {self.port}, database {self.dbname}, user {self.user}"

    def libpq_env(self) -> dict[str, str]:
        """The connection as libpq's environment variables (`PGHOST`, `PGSSLMODE`, ...).

        A child process that connects through libpq (dbt, psql) then connects exactly as the
        loaders do, and libpq's own rules fill in what the connection leaves out. A keyword that
        libpq reads from no environment variable cannot be handed on this way: a clear error.
        """
        names = libpq_env_vars()
        missing = sorted(k for k in self.keywords if not names.get(k))
        if missing:
            raise ValueError(
                "the warehouse connection's libpq option(s) "
                f"{', '.join(missing)} have no libpq environment variable, so dbt cannot be "
                "given them; set them on the server or role instead"
            )
        return {names[k]: v for k, v in self.keywords.items()}

    def airflow_value(self) -> str:
        """The connection as an Airflow connection in JSON (for `AIRFLOW_CONN_WAREHOUSE`)."""
        keywords = dict(self.keywords)
        value: dict[str, object] = {"conn_type": "postgres"}
        for key, name in (("host", "host"), ("user", "login"), ("password", "password")):
            if key in keywords:
                value[name] = keywords.pop(key)
        if "dbname" in keywords:
            value["schema"] = keywords.pop("dbname")
        if keywords.get("port", "").isdigit():
            value["port"] = int(keywords.pop("port"))
        if keywords:
            value["extra"] = keywords
        return json.dumps(value)

    def url(self, *, mask: bool = True) -> str:
        """A libpq URI of the connection (password `***` unless `mask=False`)."""
        keywords = dict(self.keywords)
        user = quote(keywords.pop("user", ""), safe="")
        password = keywords.pop("password", "")
        if password:
            user += ":" + ("***" if mask else quote(password, safe=""))
        host = keywords.pop("host", "")
        port = keywords.pop("port", "")
        if host.startswith("/") or "," in host or "," in port:
            keywords["host"] = host  # a socket folder or several hosts: as a query parameter
            if port:
                keywords["port"] = port
            netloc = ""
        else:
            netloc = f"[{host}]" if ":" in host else host
            netloc += f":{port}" if port else ""
        auth = f"{user}@" if user else ""
        path = quote(keywords.pop("dbname", ""), safe="")
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in sorted(keywords.items()))
        return f"postgresql://{auth}{netloc}/{path}" + (f"?{query}" if query else "")


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@functools.cache
def libpq_env_vars() -> dict[str, str]:
    """libpq's own map of connection keywords to environment variables (`sslmode: PGSSLMODE`)."""
    from psycopg import pq

    return {
        o.keyword.decode(): o.envvar.decode() if o.envvar else ""
        for o in pq.Conninfo.get_defaults()
    }


def from_airflow_fields(
    *,
    host: str | None = None,
    port: int | str | None = None,
    login: str | None = None,
    password: str | None = None,
    schema: str | None = None,
    extra: Mapping | None = None,
) -> WarehouseParams:
    """libpq keywords from an Airflow connection's fields, as the postgres provider's hook maps
    them: `schema` is the database, every `extra` (but the hook's own) a libpq keyword."""
    keywords = {"host": host, "port": port, "user": login, "password": password, "dbname": schema}
    for key, value in (extra or {}).items():
        if key not in AIRFLOW_ONLY_EXTRAS:
            keywords[key] = value
    return WarehouseParams.of(**keywords)


def parse_url(value: str) -> WarehouseParams:
    """An Airflow connection's value: a URI (parsed by libpq) or Airflow's JSON form."""
    value = value.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
            extra = data.get("extra") or {}
            if isinstance(extra, str):
                extra = json.loads(extra) if extra.strip() else {}
        except (json.JSONDecodeError, AttributeError) as exc:
            raise ValueError(f"{ENV_VAR} is not valid JSON: {exc}") from None
        return from_airflow_fields(
            host=data.get("host"),
            port=data.get("port"),
            login=data.get("login"),
            password=data.get("password"),
            schema=data.get("schema"),
            extra=extra,
        )
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgres", "postgresql"):
        raise ValueError(
            f"{ENV_VAR} must be a postgresql:// URI or an Airflow connection in JSON, "
            f"not scheme {scheme!r}"
        )
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        keywords = conninfo_to_dict(f"postgresql://{rest}")
    except ProgrammingError as exc:
        # libpq's own reason; it names the part it could not read, never the password
        reason = str(exc).strip().replace("invalid dsn: ", "")
        raise ValueError(f"{ENV_VAR} is not a URI libpq accepts: {reason}") from None
    return WarehouseParams.of(**keywords)


def params_from_env() -> WarehouseParams | None:
    value = os.environ.get(ENV_VAR)
    return parse_url(value) if value else None


def resolve_params(*, start_embedded: bool = True) -> WarehouseParams:
    """The Airflow connection when set, else the embedded server (started when asked)."""
    params = params_from_env()
    if params is not None:
        return params
    from cakupan.warehouse import embedded

    server = embedded.start() if start_embedded else embedded.default()
    return parse_url(embedded.url(server))


def server_reason(exc: BaseException) -> str:
    """libpq's message without its `connection to server ... failed:` frame, on one line.

    psycopg 3 puts `connection failed: ` (or `connection is bad: `) before libpq's message and,
    when libpq tried several addresses, a list of every attempt after it: the last attempt's
    reason is what a person needs."""
    text = str(exc).strip().split("\nMultiple connection attempts failed", 1)[0]
    text = text.removeprefix("connection failed: ").removeprefix("connection is bad: ")
    if " failed: " in text and text.startswith("connection to server"):
        text = text.split(" failed: ", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line.removeprefix("FATAL:").strip() for line in lines) or type(exc).__name__


def connect(params: WarehouseParams | None = None, *, application_name: str = "cakupan"):
    """A psycopg 3 connection (not in autocommit: the caller commits); a connection that cannot
    work raises `WarehouseUnreachable`. Close it with `conn.close()` or `contextlib.closing`:
    `with conn:` closes it too, at the end of the block (psycopg2's only ended the transaction).
    """
    import psycopg

    params = params or resolve_params()
    try:
        return psycopg.connect(fallback_application_name=application_name, **params.dsn_kwargs())
    # OperationalError: the server's reason; ProgrammingError: an option libpq does not know
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        raise WarehouseUnreachable(
            f"cannot connect to the warehouse ({params.describe()}): {server_reason(exc)}"
        ) from None


def check(params: WarehouseParams | None = None) -> str:
    """Connect once and return the server's version; raises `WarehouseUnreachable`."""
    conn = connect(params, application_name="cakupan-check")
    try:
        with conn.cursor() as cur:
            cur.execute("show server_version")
            return cur.fetchone()[0]
    finally:
        conn.close()


def masked_url(params: WarehouseParams | None = None) -> str:
    return (params or resolve_params()).url(mask=True)
