"""Client for the BPS WebAPI dynamic-table endpoint (`list/model/data`).

BPS puts every parameter in the URL path, the API key included:

    https://webapi.bps.go.id/v1/api/list/model/data/lang/ind/domain/{domain}/var/{var}/
        [th/{th}/]key/{key}/

A response describes the table with five code lists (`vervar`, `var`, `turvar`, `tahun`,
`turtahun`, each a list of `{"val": code, "label": text}`) and gives the cells in
`datacontent`, a dict whose keys are the *concatenation* of the five codes as decimal text
(`str(vervar) + str(var) + str(turvar) + str(tahun) + str(turtahun)`). Codes have varying
lengths, so a key cannot be split back into codes; this module builds every candidate key from
the lists and looks it up exactly. If two different code tuples concatenate to the same key the
table is ambiguous and `BpsAmbiguousKey` is raised (naming both) instead of guessing. Every key
of `datacontent` must be explained by some candidate, or `ApiError` is raised.

`tahun` codes are not years (`123` is 2023): the year is taken from the `tahun` label.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product
from typing import Any

from cakupan.sources.http import ApiClient, ApiError, ApiNoData, mask_url

__all__ = [
    "BPS_BASE_URL",
    "BpsAmbiguousKey",
    "BpsClient",
    "BpsRecord",
    "bps_data_url",
    "fetch_bps_data",
    "parse_bps_data",
]

BPS_BASE_URL = "https://webapi.bps.go.id/v1/api"

_DIMENSIONS = ("vervar", "var", "turvar", "tahun", "turtahun")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_DOMAIN = re.compile(r"^\d{4}$")
_CODE = re.compile(r"^\d+$")
_TH = re.compile(r"^[0-9;:,]+$")
_MAX_LISTED = 5


class BpsAmbiguousKey(ApiError):
    """Two different code tuples of one response concatenate to the same `datacontent` key."""


@dataclass(frozen=True)
class BpsRecord:
    """One cell of a BPS dynamic table.

    Codes are the BPS `val`s as text. `year` is read from the `tahun` label (`tahun_code` is
    BPS's code for it, e.g. `"123"` for 2023). `value` is the number from `datacontent`.
    """

    vervar_code: str
    vervar_label: str
    var_code: str
    turvar_code: str
    turvar_label: str
    year: int
    turtahun_code: str
    value: int | float
    turtahun_label: str = ""
    tahun_code: str = ""
    var_label: str = ""
    unit: str = ""


def bps_data_url(
    domain: str,
    var: int | str,
    key: str,
    *,
    th: int | str | None = None,
    base_url: str = BPS_BASE_URL,
    lang: str = "ind",
) -> str:
    """The `list/model/data` URL. `th` is a BPS tahun *code* (or codes, e.g. `"122;123"`)."""
    domain = str(domain)
    if not _DOMAIN.match(domain):
        raise ValueError(f"BPS domain must be 4 digits (e.g. '6400'), got {domain!r}")
    var_text = str(var)
    if not _CODE.match(var_text):
        raise ValueError(f"BPS var must be a number, got {var!r}")
    if not key:
        raise ValueError("a BPS WebAPI key is required")
    if lang not in ("ind", "eng"):
        raise ValueError(f"lang must be 'ind' or 'eng', got {lang!r}")
    url = f"{base_url.rstrip('/')}/list/model/data/lang/{lang}/domain/{domain}/var/{var_text}/"
    if th is not None:
        th_text = str(th)
        if not _TH.match(th_text):
            raise ValueError(f"th must be BPS tahun code(s) such as '123' or '122;123', got {th!r}")
        url += f"th/{urllib.parse.quote(th_text, safe=';:,')}/"
    return url + f"key/{urllib.parse.quote(key, safe='')}/"


# --------------------------------------------------------------------------- parsing


def _code(value: Any, dimension: str, source: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(f"BPS {source}: {dimension} val {value!r} is not an integer code")
    text = str(value).strip()
    if not _CODE.match(text):
        raise ApiError(f"BPS {source}: {dimension} val {value!r} is not an integer code")
    return text


def _entries(payload: Mapping[str, Any], dimension: str, source: str) -> list[dict[str, Any]]:
    items = payload.get(dimension)
    if not isinstance(items, list) or not items:
        raise ApiError(f"BPS {source}: `{dimension}` is missing or empty")
    entries = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or "val" not in item:
            raise ApiError(f"BPS {source}: `{dimension}` entry {item!r} has no `val`")
        code = _code(item["val"], dimension, source)
        if code in seen:
            raise ApiError(f"BPS {source}: `{dimension}` lists code {code} twice")
        seen.add(code)
        entries.append({**item, "code": code, "label": str(item.get("label", "")).strip()})
    return entries


def _year(entry: Mapping[str, Any], source: str) -> int:
    match = _YEAR.match(entry["label"])
    if not match:
        raise ApiError(
            f"BPS {source}: tahun {entry['code']} has label {entry['label']!r}, not a year"
        )
    return int(match.group(1))


def _number(raw: Any, key: str, source: str) -> int | float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ApiError(f"BPS {source}: datacontent[{key!r}] = {raw!r} is not a number")
    if isinstance(raw, int | float):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            pass
    raise ApiError(f"BPS {source}: datacontent[{key!r}] = {raw!r} is not a number")


def _describe(codes: tuple[str, ...]) -> str:
    return ", ".join(f"{name}={code}" for name, code in zip(_DIMENSIONS, codes, strict=True))


def _check_status(payload: Mapping[str, Any], source: str) -> None:
    """Raise for an error or no-data answer; return for `status: OK`, `available`.

    `status` other than `OK` is an error carrying the API's `message`, except when the answer has
    no message and says `data-availability: list-not-available` (BPS has been seen to send that
    with `status: ERROR`), which is "no data".
    """
    status = payload.get("status")
    availability = payload.get("data-availability")
    message = payload.get("message")
    if isinstance(message, str):
        message = message.strip()
    elif message is not None:
        message = str(message)[:200]
    no_data = availability in ("list-not-available", "not-available")
    if str(status).upper() != "OK" and (message or not no_data):
        raise ApiError(
            f"BPS {source} answered status {status!r}: {message or 'no message'}",
            url=source,
            payload=dict(payload),
        )
    if no_data:
        raise ApiNoData(
            f"BPS {source}: data-availability is {availability!r} (no data for this request)",
            url=source,
            payload=dict(payload),
        )
    if availability != "available":
        raise ApiError(f"BPS {source}: unexpected data-availability {availability!r}", url=source)


def _key_candidates(lists: dict, source: str) -> dict[str, tuple[str, ...]]:
    """datacontent key -> the code tuple it concatenates; two tuples on one key are refused."""
    candidates: dict[str, tuple[str, ...]] = {}
    for combo in product(*(lists[name] for name in _DIMENSIONS)):
        codes = tuple(entry["code"] for entry in combo)
        key = "".join(codes)
        other = candidates.get(key)
        if other is not None:
            raise BpsAmbiguousKey(
                f"BPS {source}: datacontent key {key!r} is ambiguous: both "
                f"({_describe(other)}) and ({_describe(codes)}) concatenate to it",
                url=source,
            )
        candidates[key] = codes
    return candidates


def _check_keys(datacontent: Mapping, candidates: Mapping, source: str) -> None:
    """Every datacontent key is a combination of the listed codes."""
    unexplained = [key for key in datacontent if str(key) not in candidates]
    if unexplained:
        listed = ", ".join(repr(k) for k in unexplained[:_MAX_LISTED])
        extra = len(unexplained) - _MAX_LISTED
        more = f" and {extra} more" if extra > 0 else ""
        raise ApiError(
            f"BPS {source}: {len(unexplained)} datacontent key(s) match no combination of "
            f"vervar/var/turvar/tahun/turtahun codes: {listed}{more}",
            url=source,
        )


def parse_bps_data(payload: Mapping[str, Any], *, source: str = "response") -> list[BpsRecord]:
    """The records of a `list/model/data` response.

    Raises `ApiNoData` for `data-availability` `list-not-available` / `not-available` or an
    empty `datacontent`, `ApiError` for `status` other than `OK` (with the API's `message`) and
    for anything it cannot read exactly, `BpsAmbiguousKey` when two code tuples share a key.
    `source` names the request in messages (pass a masked URL, never one with the key).
    """
    _check_status(payload, source)
    lists = {name: _entries(payload, name, source) for name in _DIMENSIONS}
    datacontent = payload.get("datacontent")
    if datacontent in (None, [], {}):
        raise ApiNoData(f"BPS {source}: datacontent is empty", url=source, payload=dict(payload))
    if not isinstance(datacontent, dict):
        raise ApiError(f"BPS {source}: datacontent is a {type(datacontent).__name__}, not a dict")
    years = {entry["code"]: _year(entry, source) for entry in lists["tahun"]}

    _check_keys(datacontent, _key_candidates(lists, source), source)

    records: list[BpsRecord] = []
    for vervar, var, turvar, tahun, turtahun in product(*(lists[name] for name in _DIMENSIONS)):
        key = vervar["code"] + var["code"] + turvar["code"] + tahun["code"] + turtahun["code"]
        if key not in datacontent:
            continue
        value = _number(datacontent[key], key, source)
        if value is None:
            continue
        records.append(
            BpsRecord(
                vervar_code=vervar["code"],
                vervar_label=vervar["label"],
                var_code=var["code"],
                turvar_code=turvar["code"],
                turvar_label=turvar["label"],
                year=years[tahun["code"]],
                turtahun_code=turtahun["code"],
                value=value,
                turtahun_label=turtahun["label"],
                tahun_code=tahun["code"],
                var_label=var["label"],
                unit=str(var.get("unit") or "").strip(),
            )
        )
    return records


# --------------------------------------------------------------------------- fetching


class BpsClient:
    """Fetches BPS dynamic tables with one API key.

    The key is passed in (the DAG reads it from an Airflow connection); it is never logged and
    is masked (`/key/***/`) in every message. `http` is the run's `ApiClient` (its pooled
    connection and retry policy); without one, each call opens and closes its own.
    """

    def __init__(
        self,
        key: str,
        *,
        http: ApiClient | None = None,
        base_url: str = BPS_BASE_URL,
        lang: str = "ind",
    ) -> None:
        if not key:
            raise ValueError("a BPS WebAPI key is required")
        self._key = key
        self.http = http
        self.base_url = base_url
        self.lang = lang

    def __repr__(self) -> str:
        return f"BpsClient(base_url={self.base_url!r}, lang={self.lang!r}, key='***')"

    def url(self, domain: str, var: int | str, *, th: int | str | None = None) -> str:
        """The request URL with the key masked (for logs and messages)."""
        return mask_url(self._url(domain, var, th))

    def _url(self, domain: str, var: int | str, th: int | str | None) -> str:
        return bps_data_url(domain, var, self._key, th=th, base_url=self.base_url, lang=self.lang)

    @contextmanager
    def _api(self) -> Iterator[ApiClient]:
        if self.http is not None:
            yield self.http
        else:
            with ApiClient() as api:
                yield api

    def data(self, domain: str, var: int | str, *, th: int | str | None = None) -> list[BpsRecord]:
        """The records of table `var` in `domain` (optionally only tahun code(s) `th`).

        Raises `ApiNoData` when BPS says there is no data, `ApiError` otherwise on failure.
        """
        url = self._url(domain, var, th)
        shown = mask_url(url)
        try:
            with self._api() as api:
                payload = api.get_json(url)
        except ApiError as exc:
            # BPS sometimes answers an error status with its usual JSON body: use its words.
            body = exc.payload
            if isinstance(body, dict) and ("status" in body or "data-availability" in body):
                try:
                    _check_status(body, shown)
                except ApiError as api_exc:
                    raise type(api_exc)(
                        f"{api_exc} (HTTP {exc.status})",
                        url=shown,
                        status=exc.status,
                        payload=body,
                        attempts=exc.attempts,
                    ) from None
            raise
        return parse_bps_data(payload, source=shown)


def fetch_bps_data(
    domain: str,
    var: int | str,
    key: str,
    *,
    th: int | str | None = None,
    http: ApiClient | None = None,
    base_url: str = BPS_BASE_URL,
    lang: str = "ind",
) -> list[BpsRecord]:
    """`BpsClient(key, http=http, ...).data(domain, var, th=th)` in one call."""
    return BpsClient(key, http=http, base_url=base_url, lang=lang).data(domain, var, th=th)
