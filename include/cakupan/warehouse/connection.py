"""Resolve the warehouse from the Airflow connection `warehouse` (env `AIRFLOW_CONN_WAREHOUSE`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

ENV_VAR = "AIRFLOW_CONN_WAREHOUSE"


@dataclass(frozen=True)
class WarehouseParams:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    options: dict

    def dsn_kwargs(self) -> dict:
        kwargs = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }
        kwargs.update(self.options)
        return kwargs

    def url(self, *, mask: bool = True) -> str:
        password = "***" if mask else quote(self.password, safe="")
        auth = f"{quote(self.user, safe='')}:{password}@" if self.password else f"{self.user}@"
        return f"postgresql://{auth}{self.host}:{self.port}/{self.dbname}"


def parse_url(value: str) -> WarehouseParams:
    """Parse an Airflow connection given as URI (`postgresql://...`) or as JSON."""
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra else {}
        return WarehouseParams(
            host=data.get("host") or "127.0.0.1",
            port=int(data.get("port") or 5432),
            user=data.get("login") or "postgres",
            password=data.get("password") or "",
            dbname=data.get("schema") or "postgres",
            options={k: v for k, v in extra.items() if k in ("sslmode", "connect_timeout")},
        )
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise ValueError(
            f"{ENV_VAR} must be a postgresql:// URL or Airflow JSON connection, "
            f"not scheme {parts.scheme!r}"
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return WarehouseParams(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        options={k: v for k, v in query.items() if k in ("sslmode", "connect_timeout")},
    )


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


def connect(params: WarehouseParams | None = None, *, application_name: str = "cakupan"):
    import psycopg2

    params = params or resolve_params()
    return psycopg2.connect(application_name=application_name, **params.dsn_kwargs())


def masked_url(params: WarehouseParams | None = None) -> str:
    return (params or resolve_params()).url(mask=True)
