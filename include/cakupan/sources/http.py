"""Fetch JSON from HTTP APIs with timeouts, bounded retries and secrets kept out of messages.

`fetch_json` is the one way the API clients (`cakupan.sources.bps`, `cakupan.sources.ckan`) talk
HTTP. It uses only the standard library (`urllib.request`), so it adds no dependency.

Policy:

* every request has a timeout (`timeout`, seconds; per socket operation, capped by what is left
  of `max_total_seconds`);
* HTTP 429, HTTP 5xx, timeouts and connection errors (refused, reset, truncated transfer) are
  retried; the wait before retry *n* (0-based) is `backoff_base * 2**n` (capped at `max_backoff`)
  plus at most `jitter` times that (random), unless the response carries `Retry-After`
  (seconds or an HTTP date), which is honoured exactly;
* retries are bounded in count (`max_attempts` requests in all) and in time
  (`max_total_seconds`): when the next wait would overrun the time budget the call gives up at
  once instead of sleeping;
* any other 4xx fails at once (no retry);
* a 2xx body that is not valid JSON (for example cut off by a proxy) is retried **once**: a cut
  body is usually transient, but a server that keeps answering non-JSON (an HTML maintenance
  page) will not change its mind, so a second invalid body is an `ApiError`;
* a body that is JSON but not an object is an `ApiError` (both clients expect objects).

Every failure is an `ApiError` whose message names the URL with secrets masked (`key=***`, and
the path segment after `/key/`, as BPS puts its key in the path) and the last status (`503`,
`timeout`, `connection error`, `invalid JSON`). Each retry is logged at WARNING on the
`cakupan.sources.http` logger, with the masked URL only. Secret values (query or path
parameters named in `secret_params`, headers named in `secret_headers`) are also replaced by
`***` anywhere they would appear in a message (for example echoed back in an error body).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC
from typing import Any

__all__ = [
    "ApiError",
    "ApiNoData",
    "build_url",
    "fetch_json",
    "mask_url",
    "parse_retry_after",
]

logger = logging.getLogger("cakupan.sources.http")

MASK = "***"
USER_AGENT = "cakupan/0.1 (JKN coverage warehouse)"
DEFAULT_SECRET_HEADERS = ("authorization", "x-ckan-api-key", "x-api-key")
_SNIPPET_CHARS = 200
_MIN_SECRET_CHARS = 4  # shorter values are not scrubbed from free text (they would mangle it)


class ApiError(RuntimeError):
    """An API call failed. The message never contains secrets.

    Attributes: `url` (masked), `status` (an HTTP status code, or one of `"timeout"`,
    `"connection error"`, `"invalid JSON"`, or `None` when the API answered but said no),
    `payload` (the decoded JSON body of the failing response, when there was one) and
    `attempts` (requests made).
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | str | None = None,
        payload: Any = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.payload = payload
        self.attempts = attempts


class ApiNoData(ApiError):
    """The API answered correctly that it has no data for the request.

    A subclass of `ApiError` so that a caller that does not expect "no data" fails loudly; a
    caller that can accept it catches `ApiNoData` and treats the result as empty.
    """


# --------------------------------------------------------------------------- URLs and secrets


def build_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """`url` with `params` appended to its query string (`None` values are left out)."""
    if not params:
        return url
    pairs = [(str(k), _param_text(v)) for k, v in params.items() if v is not None]
    if not pairs:
        return url
    parts = urllib.parse.urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(pairs)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def mask_url(url: str, secret_params: Iterable[str] = ("key",)) -> str:
    """`url` with the values of secret parameters replaced by `***`.

    A name in `secret_params` is masked both as a query parameter (`?key=abc` -> `?key=***`)
    and as a path pair (`/key/abc/` -> `/key/***/`, the BPS WebAPI style). Names compare
    case-insensitively. User info (`user:password@`) is masked too.
    """
    names = {n.lower() for n in secret_params}
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    segments = parts.path.split("/")
    for i in range(len(segments) - 1):
        if segments[i].lower() in names and segments[i + 1]:
            segments[i + 1] = MASK
    query_pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() in names for k, _ in query_pairs):
        query = "&".join(
            f"{urllib.parse.quote_plus(k)}={MASK}"
            if k.lower() in names
            else urllib.parse.urlencode([(k, v)])
            for k, v in query_pairs
        )
    else:
        query = parts.query
    return urllib.parse.urlunsplit(
        parts._replace(netloc=netloc, path="/".join(segments), query=query)
    )


def _secret_values(
    url: str,
    secret_params: Iterable[str],
    headers: Mapping[str, str],
    secret_headers: Iterable[str],
) -> list[str]:
    names = {n.lower() for n in secret_params}
    header_names = {n.lower() for n in secret_headers}
    parts = urllib.parse.urlsplit(url)
    values: set[str] = set()
    segments = parts.path.split("/")
    for i in range(len(segments) - 1):
        if segments[i].lower() in names and segments[i + 1]:
            values.add(segments[i + 1])
            values.add(urllib.parse.unquote(segments[i + 1]))
    for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in names and v:
            values.add(v)
            values.add(urllib.parse.quote_plus(v))
    if "@" in parts.netloc:
        values.add(parts.netloc.rsplit("@", 1)[0])
    for k, v in headers.items():
        if k.lower() in header_names and v:
            values.add(v)
            # "Bearer abc" -> also "abc"
            values.update(p for p in v.split() if len(p) >= _MIN_SECRET_CHARS)
    # longest first, so that a value containing another is scrubbed whole
    return sorted((v for v in values if len(v) >= _MIN_SECRET_CHARS), key=len, reverse=True)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


# --------------------------------------------------------------------------- Retry-After


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header value, or `None` if absent or unreadable.

    Accepts delay-seconds (`"120"`, also `"1.5"`) or an HTTP date
    (`"Wed, 21 Oct 2015 07:28:00 GMT"`); a date in the past gives 0. `now` is a Unix time
    (default: the current time).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
            return None
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


# --------------------------------------------------------------------------- one attempt


class _Retryable(Exception):
    def __init__(
        self, status: int | str, detail: str, retry_after: float | None = None, payload: Any = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.payload = payload


class _InvalidJson(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _Fatal(Exception):
    def __init__(self, status: int | str, detail: str, payload: Any = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.payload = payload


def _is_timeout(exc: BaseException | str | None) -> bool:
    return isinstance(exc, TimeoutError) or (
        isinstance(exc, OSError) and "timed out" in str(exc).lower()
    )


def _try_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


def _snippet(body: bytes) -> str:
    text = body[: _SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > _SNIPPET_CHARS:
        text = text[:_SNIPPET_CHARS] + "..."
    return text


def _attempt(opener: Any, request: urllib.request.Request, timeout: float) -> Any:
    """One request. Returns the decoded JSON, or raises _Retryable, _InvalidJson or _Fatal."""
    try:
        with opener.open(request, timeout=timeout) as response:
            status = getattr(response, "status", None) or response.getcode()
            body = response.read()
            headers = response.headers
    except urllib.error.HTTPError as exc:
        status = exc.code
        headers = exc.headers
        try:
            body = exc.read() or b""
        except (OSError, http.client.HTTPException):
            body = b""
    except urllib.error.URLError as exc:
        if _is_timeout(exc.reason):
            raise _Retryable("timeout", f"no answer within {timeout:g} s") from None
        raise _Retryable("connection error", str(exc.reason)) from None
    except TimeoutError:
        raise _Retryable("timeout", f"no answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        if _is_timeout(exc):
            raise _Retryable("timeout", f"no answer within {timeout:g} s") from None
        raise _Retryable("connection error", f"{type(exc).__name__}: {exc}") from None

    if status == 429 or 500 <= status <= 599:
        retry_after = parse_retry_after(headers.get("Retry-After") if headers else None)
        raise _Retryable(status, f"HTTP {status}", retry_after, _try_json(body))
    if not 200 <= status <= 299:
        detail = f"HTTP {status}"
        if body:
            detail += f": {_snippet(body)}"
        raise _Fatal(status, detail, _try_json(body))
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _InvalidJson(f"body is not UTF-8 ({exc.reason})") from None
    except ValueError as exc:
        detail = f"{exc} ({len(body)} bytes"
        detail += f", starts {_snippet(body)!r})" if body else ", empty body)"
        raise _InvalidJson(detail) from None
    if not isinstance(payload, dict):
        raise _Fatal(status, f"expected a JSON object, got {type(payload).__name__}", payload)
    return payload


# --------------------------------------------------------------------------- fetch_json


def fetch_json(
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float = 30.0,
    max_attempts: int = 5,
    max_total_seconds: float = 120.0,
    backoff_base: float = 1.0,
    max_backoff: float = 60.0,
    jitter: float = 0.25,
    secret_params: Iterable[str] = ("key",),
    headers: Mapping[str, str] | None = None,
    secret_headers: Iterable[str] = DEFAULT_SECRET_HEADERS,
    opener: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> dict[str, Any]:
    """GET `url` (with `params` added to the query) and return the decoded JSON object.

    `opener` is anything with `open(request, timeout=...)` returning a response context manager
    (default: `urllib.request.build_opener()`, which honours the usual proxy variables).
    `sleep`, `clock` and `rng` are injectable for tests. See the module docstring for the
    retry policy; raises `ApiError` on failure.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    secret_params = tuple(secret_params)
    headers = dict(headers or {})
    full_url = build_url(url, params)
    shown = mask_url(full_url, secret_params)
    secrets = _secret_values(full_url, secret_params, headers, secret_headers)
    request_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
    opener = opener if opener is not None else urllib.request.build_opener()

    start = clock()
    last_status: int | str | None = None
    last_detail = ""
    last_payload: Any = None
    invalid_json_seen = False
    attempts = 0

    def fail(reason: str) -> ApiError:
        message = f"GET {shown} failed after {attempts} attempt{'s' if attempts != 1 else ''}"
        message += f" in {clock() - start:.1f} s: last status {last_status}"
        if last_detail and last_detail != f"HTTP {last_status}":
            message += f" ({last_detail})"
        if reason:
            message += f"; {reason}"
        return ApiError(
            _scrub(message, secrets),
            url=shown,
            status=last_status,
            payload=last_payload,
            attempts=attempts,
        )

    while True:
        remaining = max_total_seconds - (clock() - start)
        if remaining <= 0:
            raise fail(f"time budget of {max_total_seconds:g} s used up")
        attempts += 1
        request = urllib.request.Request(full_url, headers=request_headers, method="GET")
        try:
            return _attempt(opener, request, min(timeout, remaining))
        except _Fatal as exc:
            message = f"GET {shown} failed: {exc.detail}"
            raise ApiError(
                _scrub(message, secrets),
                url=shown,
                status=exc.status,
                payload=exc.payload,
                attempts=attempts,
            ) from None
        except _InvalidJson as exc:
            last_status, last_detail, last_payload = "invalid JSON", exc.detail, None
            if invalid_json_seen:
                raise fail("the response was not valid JSON twice") from None
            invalid_json_seen = True
            retry_after = None
        except _Retryable as exc:
            last_status, last_detail, last_payload = exc.status, exc.detail, exc.payload
            retry_after = exc.retry_after

        if attempts >= max_attempts:
            raise fail(f"gave up after max_attempts={max_attempts}")
        if retry_after is not None:
            delay = retry_after
            how = "Retry-After"
        else:
            delay = min(max_backoff, backoff_base * 2 ** (attempts - 1))
            delay += delay * jitter * rng()
            how = "backoff"
        elapsed = clock() - start
        if elapsed + delay > max_total_seconds:
            raise fail(
                f"waiting {delay:.1f} s ({how}) would exceed the time budget of "
                f"{max_total_seconds:g} s"
            )
        logger.warning(
            "GET %s: %s; retry %d of %d in %.2f s (%s)",
            shown,
            _scrub(last_detail, secrets),
            attempts,
            max_attempts - 1,
            delay,
            how,
        )
        sleep(delay)
