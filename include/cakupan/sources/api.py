"""API sources as extractions: a contract's request fetched, its records shaped as a file's rows.

A BPS WebAPI table (`cakupan.sources.bps`) or a CKAN datastore resource (`cakupan.sources.ckan`)
lands through the landing of files (`cakupan.landing.load.land_file`): `extract_api` fetches the
whole answer (every CKAN page) with one `ApiClient`, and presents its records as one sheet,
`records`, whose header row (row 0) is the records' keys (a `BpsRecord`'s fields; CKAN's field
ids) and whose rows 1..N are their values. `extract_reader` maps that header to the contract's
fields by their aliases, so typing, region matching, rejects and replacement are the files' own.

What a file does not have is the load's provenance (`ApiRequest`, written to `raw.loads`): the
endpoint and the parameters without any key, the SHA-256 of the response bodies in request
order (`source_sha256`, also each row's `_source_sha256`) and the fetch time. The request's
location (endpoint and parameters, no key, no paging) is the load's `source_file`, so a rerun of
the same request replaces its previous load.

Faults end in one `ApiSourceError` naming the contract and the request, before anything lands:
HTTP 429 (after `Retry-After`), 5xx, timeouts and malformed or truncated JSON are retried by the
`ApiClient` a bounded number of times first (`api_retry_policy`). **An empty answer is an error**
(BPS `list-not-available` or an empty `datacontent`, CKAN `total` 0): a source that answers
nothing for a period it is asked about has not published it (or the request is wrong); loading
"nothing" would only hide that, and could never replace the period's earlier load anyway.

The period a request asks for (`RequestPeriod`: a year `2024`, or a month `2024-03`) goes into
the request (BPS: the tahun code `th`, year - 1900; CKAN: a `{year}` or `{period}` in `filters`)
and, with `period: {from: request}`, is every row's period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cakupan.parsing.header import match_fields
from cakupan.sources.bps import BpsClient
from cakupan.sources.bps.client import BPS_BASE_URL, BpsRecord
from cakupan.sources.ckan import CkanClient
from cakupan.sources.contracts import Contract
from cakupan.sources.extract import Extraction, extract_reader
from cakupan.sources.http import ApiClient, ApiError, ApiNoData, RetryPolicy
from cakupan.sources.readers import Sheet

__all__ = [
    "ApiCredentials",
    "ApiRequest",
    "ApiSourceError",
    "RequestPeriod",
    "api_retry_policy",
    "credentials_from_env",
    "credentials_from_fields",
    "extract_api",
    "parse_request_period",
    "plan_request",
    "uses_period",
]

SHEET = "records"
BPS_KEYS = [
    "vervar_code",
    "vervar_label",
    "var_code",
    "var_label",
    "unit",
    "turvar_code",
    "turvar_label",
    "year",
    "tahun_code",
    "turtahun_code",
    "turtahun_label",
    "value",
]
_BPS_PARAMS = {"domain", "var", "th", "lang"}
_CKAN_PARAMS = {"resource_id", "filters", "page_size"}
_PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2}))?")
_PLACEHOLDERS = ("{year}", "{period}")


class ApiSourceError(Exception):
    """An API source that could not be loaded: one line naming the contract and the request
    (never a key). Nothing was loaded. `request` is the request, when it got that far."""

    def __init__(self, message: str, request: ApiRequest | None = None) -> None:
        super().__init__(message)
        self.request = request

    def __reduce__(self):  # pickled by Airflow: the message only
        return (type(self), (str(self),))


# --------------------------------------------------------------------------- the period asked for


@dataclass(frozen=True)
class RequestPeriod:
    """A period asked of an API: a year (`2024`) or a month (`2024-03`)."""

    text: str
    first: dt.date  # its first day: the rows' `_period`
    grain: str  # "year" or "month"

    @property
    def year(self) -> int:
        return self.first.year


def parse_request_period(text: str | int) -> RequestPeriod:
    """`2024` -> the year 2024; `2024-03` -> March 2024."""
    value = str(text).strip()
    m = _PERIOD.fullmatch(value)
    if m is None or not 1900 <= int(m[1]) <= 2100 or (m[2] and not 1 <= int(m[2]) <= 12):
        raise ValueError(f"period {value!r}: expected a year (2024) or a month (2024-03)")
    if m[2]:
        month = int(m[2])
        return RequestPeriod(f"{m[1]}-{month:02d}", dt.date(int(m[1]), month, 1), "month")
    return RequestPeriod(m[1], dt.date(int(m[1]), 1, 1), "year")


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return any(p in value for p in _PLACEHOLDERS)
    if isinstance(value, Mapping):
        return any(_has_placeholder(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_placeholder(v) for v in value)
    return False


def uses_period(contract: Contract) -> bool:
    """Whether a request of this contract is for one period (else it reads the whole source)."""
    if contract.period is not None and contract.period.source == "request":
        return True
    if contract.kind == "bps_api":
        return "th" not in contract.params
    return _has_placeholder(contract.params)


def _fill(value: Any, period: RequestPeriod) -> Any:
    """`{year}` / `{period}` in parameter values; a value that is only `{year}` is the number."""
    if isinstance(value, str):
        if value == "{year}":
            return period.year
        return value.replace("{year}", str(period.year)).replace("{period}", period.text)
    if isinstance(value, Mapping):
        return {k: _fill(v, period) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, period) for v in value]
    return value


def _check_period(contract: Contract, period: RequestPeriod | None) -> None:
    needs = contract.period is not None and contract.period.source == "request"
    needs = needs or (contract.kind == "ckan_datastore" and _has_placeholder(contract.params))
    if needs and period is None:
        raise ApiSourceError(
            f"{contract.name}: its request is for one period: pass --period (a year such as"
            " 2024, or a month such as 2024-03)"
        )
    if period is not None and not uses_period(contract):
        raise ApiSourceError(
            f"{contract.name}: its request reads the whole source and takes no --period"
            " (rows carry their own period)"
        )
    if period is not None and contract.kind == "bps_api" and period.grain != "year":
        raise ApiSourceError(
            f"{contract.name}: BPS WebAPI tables are asked for by year: --period {period.year},"
            f" not {period.text}"
        )


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class ApiCredentials:
    """What an Airflow connection gives an API source: a base URL and a key (either may be
    missing). The key never shows in `repr`."""

    url: str | None = None
    key: str | None = field(default=None, repr=False)


def credentials_from_fields(
    conn_type: str | None = None,
    host: str | None = None,
    port: int | str | None = None,
    schema: str | None = None,
    password: str | None = None,
) -> ApiCredentials:
    """An Airflow connection's fields as credentials: the password is the key; the host (a whole
    URL such as `https://webapi.bps.go.id/v1/api`, or a host name with `conn_type` http/https,
    port and schema as the path) the base URL."""
    url = None
    if host:
        if "://" in host:
            url = host
        else:
            scheme = conn_type if conn_type in ("http", "https") else "https"
            url = f"{scheme}://{host}" + (f":{port}" if port else "")
        if schema:
            url = url.rstrip("/") + "/" + schema.strip("/")
    return ApiCredentials(url=url, key=password or None)


def credentials_from_env(
    conn_id: str | None, environ: Mapping[str, str] | None = None
) -> ApiCredentials:
    """The Airflow connection `conn_id` from its variable `AIRFLOW_CONN_<ID>` (JSON or URI), as
    Airflow reads it; none set: no credentials. For the CLI, which runs without Airflow."""
    if not conn_id:
        return ApiCredentials()
    environ = os.environ if environ is None else environ
    text = (environ.get(f"AIRFLOW_CONN_{conn_id.upper()}") or "").strip()
    if not text:
        return ApiCredentials()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ApiSourceError(
                f"AIRFLOW_CONN_{conn_id.upper()} is not valid JSON (its text is not shown)"
            ) from None
        return credentials_from_fields(
            data.get("conn_type"),
            data.get("host"),
            data.get("port"),
            data.get("schema"),
            data.get("password"),
        )
    parts = urllib.parse.urlsplit(text)
    password = urllib.parse.unquote(parts.password) if parts.password else None
    host = parts.hostname or ""
    url = None
    if host:
        scheme = parts.scheme if parts.scheme in ("http", "https") else "https"
        url = f"{scheme}://{host}" + (f":{parts.port}" if parts.port else "") + parts.path
    return ApiCredentials(url=url, key=password)


def api_retry_policy(environ: Mapping[str, str] | None = None) -> tuple[RetryPolicy, float]:
    """The retry policy and per-request timeout of API loads: `CAKUPAN_API_MAX_ATTEMPTS` (5),
    `CAKUPAN_API_MAX_SECONDS` (120, all attempts), `CAKUPAN_API_BACKOFF` (1 s, doubling),
    `CAKUPAN_API_TIMEOUT` (30 s per request)."""
    env = os.environ if environ is None else environ
    policy = RetryPolicy(
        max_attempts=int(env.get("CAKUPAN_API_MAX_ATTEMPTS", "5")),
        max_total_seconds=float(env.get("CAKUPAN_API_MAX_SECONDS", "120")),
        backoff_base=float(env.get("CAKUPAN_API_BACKOFF", "1")),
        jitter=min(1.0, float(env.get("CAKUPAN_API_BACKOFF", "1"))),
    )
    return policy, float(env.get("CAKUPAN_API_TIMEOUT", "30"))


# --------------------------------------------------------------------------- the request


@dataclass
class ApiRequest:
    """One API source's request and what it returned: the load's provenance."""

    endpoint: str  # no key
    params: dict[str, Any]  # no key, no paging
    location: str  # endpoint and parameters: the load's `source_file`
    fetched_at: dt.datetime
    sha256: str = ""
    responses: int = 0
    bytes: int = 0
    records: int = 0


class _Bodies:
    """Hashes every accepted response body, in request order."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.count = 0
        self.size = 0

    def __call__(self, body: bytes) -> None:
        self.digest.update(body)
        self.count += 1
        self.size += len(body)


def _location(endpoint: str, params: Mapping[str, Any]) -> str:
    shown = {
        k: json.dumps(v, separators=(",", ":"), sort_keys=True) if isinstance(v, dict) else v
        for k, v in params.items()
        if v is not None
    }
    return endpoint + ("?" + urllib.parse.urlencode(shown) if shown else "")


def _unknown_params(contract: Contract, allowed: set[str]) -> None:
    unknown = sorted(set(contract.params) - allowed)
    if unknown:
        raise ApiSourceError(
            f"{contract.name}: unknown params {', '.join(unknown)} for a {contract.kind} source"
            f" (allowed: {', '.join(sorted(allowed))})"
        )


_Call = Callable[[ApiClient], tuple[list[str], list[list[Any]]]]


def _plan_bps(
    contract: Contract, period: RequestPeriod | None, creds: ApiCredentials
) -> tuple[ApiRequest, _Call]:
    _unknown_params(contract, _BPS_PARAMS)
    params = contract.params
    if "domain" not in params or "var" not in params:
        raise ApiSourceError(f"{contract.name}: a bps_api contract needs params domain and var")
    th = params.get("th")
    if th is None and period is not None:
        th = str(period.year - 1900)  # BPS tahun codes: 124 is 2024
    lang = str(params.get("lang", "ind"))
    base = (creds.url or contract.url or BPS_BASE_URL).rstrip("/")
    shown = {"lang": lang, "domain": str(params["domain"]), "var": str(params["var"]), "th": th}
    request = ApiRequest(
        endpoint=f"{base}/list/model/data",
        params={k: v for k, v in shown.items() if v is not None},
        location="",
        fetched_at=dt.datetime.now(dt.UTC),
    )
    request.location = _location(request.endpoint, request.params)
    if not creds.key:
        raise ApiSourceError(
            f"{contract.name}: no BPS WebAPI key: set the Airflow connection"
            f" {contract.connection or '<connection>'!r} (outside Airflow the variable"
            f" AIRFLOW_CONN_{(contract.connection or 'ID').upper()}) with the key as its password"
        )
    key = creds.key

    def call(api: ApiClient) -> tuple[list[str], list[list[Any]]]:
        client = BpsClient(key, http=api, base_url=base, lang=lang)
        records: list[BpsRecord] = client.data(str(params["domain"]), params["var"], th=th)
        return list(BPS_KEYS), [[getattr(r, k) for k in BPS_KEYS] for r in records]

    return request, call


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _plan_ckan(
    contract: Contract, period: RequestPeriod | None, creds: ApiCredentials
) -> tuple[ApiRequest, _Call]:
    _unknown_params(contract, _CKAN_PARAMS)
    params = contract.params
    resource_id = params.get("resource_id")
    if not resource_id:
        raise ApiSourceError(f"{contract.name}: a ckan_datastore contract needs params resource_id")
    filters = params.get("filters")
    if filters is not None and not isinstance(filters, Mapping):
        raise ApiSourceError(f"{contract.name}: params filters must be a mapping")
    if filters and period is not None:
        filters = _fill(filters, period)
    base = (creds.url or contract.url or "").rstrip("/")
    if not base:
        raise ApiSourceError(f"{contract.name}: no portal URL: set url or the connection's host")
    request = ApiRequest(
        endpoint=f"{base}/api/3/action/datastore_search",
        params={"resource_id": str(resource_id), **({"filters": filters} if filters else {})},
        location="",
        fetched_at=dt.datetime.now(dt.UTC),
    )
    request.location = _location(request.endpoint, request.params)
    page_size = int(params.get("page_size", 1000))

    def call(api: ApiClient) -> tuple[list[str], list[list[Any]]]:
        client = CkanClient(base, http=api, api_key=creds.key, page_size=page_size)
        result = client.datastore_search_all(str(resource_id), filters=filters or None)
        fields = [f.get("id") for f in result.fields if isinstance(f, Mapping)]
        keys = [str(k) for k in fields if k]
        for record in result.records:
            keys += [k for k in record if k not in keys]
        return keys, [[_cell(record.get(k)) for k in keys] for record in result.records]

    return request, call


_PLANS: dict[str, Callable[..., tuple[ApiRequest, _Call]]] = {
    "bps_api": _plan_bps,
    "ckan_datastore": _plan_ckan,
}


def plan_request(
    contract: Contract, period: RequestPeriod | None, credentials: ApiCredentials
) -> ApiRequest:
    """The request a load of the contract would make (no network): its provenance."""
    _check_period(contract, period)
    return _PLANS[contract.kind](contract, period, credentials)[0]


# --------------------------------------------------------------------------- records as a sheet


class RecordsReader:
    """The records of one answer as a one-sheet source (the `SourceReader` interface that
    `extract_reader` and the landing use): row 0 the keys, rows 1..N the records."""

    encoding = None
    delimiter = None

    def __init__(self, kind: str, keys: list[str], rows: list[list[Any]], sha256: str):
        self.kind = kind
        self.keys = keys
        self.rows = rows
        self._sha256 = sha256
        self.sheet_names = [SHEET]

    @property
    def sha256(self) -> str:
        return self._sha256

    @sha256.setter
    def sha256(self, value: str) -> None:
        self._sha256 = value

    def select(self, globs: Any = ()) -> list[str]:
        return [SHEET]

    def sheet(self, name: str) -> Sheet:
        def numbered() -> Iterator[tuple[int, list[Any]]]:
            yield 0, list(self.keys)
            yield from enumerate(self.rows, start=1)

        return Sheet(name, numbered(), None, 0, (len(self.rows) + 1) * len(self.keys))

    def close(self) -> None:
        self.rows = []


def _check_keys(contract: Contract, request: ApiRequest, keys: list[str]) -> None:
    """Every required field has a key among the records': else one line listing the keys (the
    API's field names, never its values)."""
    aliases = {n: f.all_aliases() for n, f in contract.fields.items()}
    columns, _ = match_fields(keys, aliases)
    missing = [f for f in contract.required_fields() if f not in columns]
    if missing:
        wanted = "; ".join(f"{f} ({', '.join(repr(a) for a in aliases[f][:4])})" for f in missing)
        raise ApiSourceError(
            f"{contract.name}: the records of {request.location} have no key for the required"
            f" field(s) {wanted}; their keys: {', '.join(keys)}",
            request,
        )


def extract_api(
    contract: Contract,
    period: RequestPeriod | None,
    credentials: ApiCredentials,
    *,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
) -> tuple[Extraction, ApiRequest]:
    """Fetch the contract's request (every page) and prepare its records as a file's rows.

    Raises `ApiSourceError` (one line: the contract, the request, the fault) for a fault of the
    request, of the answer, or an empty answer."""
    if contract.is_file:
        raise ApiSourceError(f"{contract.name}: a {contract.kind} file contract: load its files")
    if not contract.fields:
        raise ApiSourceError(f"{contract.name}: declares no fields: nothing to land")
    _check_period(contract, period)
    request, call = _PLANS[contract.kind](contract, period, credentials)
    default_retry, default_timeout = api_retry_policy()
    bodies = _Bodies()
    request.fetched_at = dt.datetime.now(dt.UTC)
    try:
        with ApiClient(
            retry=retry or default_retry, timeout=timeout or default_timeout, on_body=bodies
        ) as api:
            keys, rows = call(api)
    except ApiNoData as exc:
        raise ApiSourceError(
            f"{contract.name}: empty answer, nothing loaded (an empty result is refused): {exc}",
            request,
        ) from None
    except ApiError as exc:
        raise ApiSourceError(f"{contract.name}: {exc}", request) from None
    request.sha256 = bodies.digest.hexdigest()
    request.responses, request.bytes, request.records = bodies.count, bodies.size, len(rows)
    if not rows:
        raise ApiSourceError(
            f"{contract.name}: empty answer, nothing loaded (an empty result is refused):"
            f" {request.location} returned no records",
            request,
        )
    _check_keys(contract, request, keys)
    reader = RecordsReader(contract.kind, keys, rows, request.sha256)
    request_period = None
    if contract.period is not None and contract.period.source == "request":
        request_period = period.first if period is not None else None
    extraction = extract_reader(
        request.location,  # type: ignore[arg-type]  # names the source in messages
        contract,
        reader,
        period=request_period,
        period_source=f"request period {period.text}" if request_period else None,
    )
    extraction.request = request  # type: ignore[attr-defined]  # the load's provenance
    return extraction, request
