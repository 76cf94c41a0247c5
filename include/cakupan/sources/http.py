"""JSON over HTTP for the API clients: one pooled `httpx.Client`, retries by `tenacity`.

httpx does the HTTP (pooled keep-alive connections, timeouts, redirects, proxies from the
environment) and tenacity runs the retry loop. What this module adds on top of them:

* the retry *decisions* for JSON APIs: 429, 5xx, timeouts, transport errors (refused, reset, a
  body cut short) and a 2xx body that is not valid JSON are retried; any other 4xx is not; a body
  that is JSON but not an object is an error;
* a wait that honours `Retry-After` (seconds or an HTTP date, `parse_retry_after`) and otherwise
  backs off exponentially with jitter; a `Retry-After` longer than `max_retry_after` ends the call
  at once (retrying sooner than the server asked would only earn another 429);
* a time budget that is checked *before* sleeping (tenacity's `stop_before_delay`) and also caps
  each request's timeout;
* secrets kept out of every log line and message: `mask_url` (the one URL masker of the
  package: query parameters, BPS-style `/key/<value>/` path pairs, user info), also applied to
  the URL httpx itself logs at INFO (`HTTP Request: GET ...`), and the values of secret
  parameters and headers scrubbed from any text (an error body may echo them);
* one error type, `ApiError`, naming the masked URL, the number of attempts, the last status and
  why it gave up.

Use one `ApiClient` per run and pass it to the clients, so that every request (every CKAN page)
reuses the same connection pool:

    with ApiClient(retry=RetryPolicy(max_attempts=5, max_total_seconds=120)) as api:
        records = BpsClient(key, http=api).data("6400", 1975)
        result = CkanClient(portal, http=api).datastore_search_all(resource_id)

Each retry is logged at WARNING on the `cakupan.sources.http` logger with the reason and the
masked URL.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx
import tenacity

__all__ = [
    "ApiClient",
    "ApiError",
    "ApiNoData",
    "RetryPolicy",
    "build_url",
    "mask_url",
    "parse_retry_after",
]

logger = logging.getLogger("cakupan.sources.http")

MASK = "***"
USER_AGENT = "cakupan/0.1 (JKN coverage warehouse)"
SECRET_PARAMS = ("key", "api_key", "apikey", "token", "access_token")
SECRET_HEADERS = ("authorization", "x-ckan-api-key", "x-api-key")
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
    """`url` with `params` added to its query string (`None` values left out, booleans as
    `true`/`false`)."""
    kept = {k: v for k, v in (params or {}).items() if v is not None}
    return str(httpx.URL(url).copy_merge_params(kept)) if kept else url


def mask_url(url: str, secret_params: Iterable[str] = SECRET_PARAMS) -> str:
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
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(k.lower() in names for k, _ in pairs):
        query = "&".join(
            f"{urllib.parse.quote_plus(k)}={MASK}"
            if k.lower() in names
            else urllib.parse.urlencode([(k, v)])
            for k, v in pairs
        )
    return urllib.parse.urlunsplit(
        parts._replace(netloc=netloc, path="/".join(segments), query=query)
    )


def _secret_values(url: str, headers: Mapping[str, str]) -> list[str]:
    """The secret values in `url` and `headers`, as they may appear in text, longest first."""
    names = set(SECRET_PARAMS)
    parts = urllib.parse.urlsplit(url)
    values: set[str] = set()
    segments = parts.path.split("/")
    for i in range(len(segments) - 1):
        if segments[i].lower() in names and segments[i + 1]:
            values.update((segments[i + 1], urllib.parse.unquote(segments[i + 1])))
    for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in names and v:
            values.update((v, urllib.parse.quote_plus(v)))
    if "@" in parts.netloc:
        values.add(parts.netloc.rsplit("@", 1)[0])
    for k, v in headers.items():
        if k.lower() in SECRET_HEADERS and v:
            values.add(v)
            values.update(v.split()[1:])  # "Bearer abc" -> also "abc"
    return sorted((v for v in values if len(v) >= _MIN_SECRET_CHARS), key=len, reverse=True)


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class _MaskLoggedUrls(logging.Filter):
    """httpx logs every request's URL at INFO (`HTTP Request: GET <url> "HTTP/1.1 200 OK"`),
    which would put a key given in the URL in the task log: mask it there too."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_url(str(a)) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


if not any(isinstance(f, _MaskLoggedUrls) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_MaskLoggedUrls())


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header value, or `None` if absent or unreadable.

    Accepts delay-seconds (`"120"`, also `"1.5"`) or an HTTP date
    (`"Wed, 21 Oct 2015 07:28:00 GMT"`); a date in the past gives 0. `now` is a Unix time
    (default: the current time).
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --------------------------------------------------------------------------- retry policy


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry and how long to wait.

    At most `max_attempts` requests and `max_total_seconds` in all, whichever comes first (a wait
    that would overrun the budget is not started). The wait before retry *n* (1-based) is the
    response's `Retry-After` if it has one (more than `max_retry_after` seconds ends the call),
    else `backoff_base * 2**(n-1)` plus up to `jitter` seconds (random), at most `max_backoff`.
    """

    max_attempts: int = 5
    max_total_seconds: float = 120.0
    backoff_base: float = 1.0
    max_backoff: float = 30.0
    jitter: float = 1.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_total_seconds <= 0:
            raise ValueError("max_total_seconds must be positive")


class _Transient(Exception):
    """A failure worth retrying: `status` (an int or a word) and a human `detail`."""

    def __init__(
        self, status: int | str, detail: str, retry_after: float | None = None, payload: Any = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.payload = payload


def _retry_after(state: tenacity.RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return exc.retry_after if isinstance(exc, _Transient) else None


class _WaitRetryAfterOr(tenacity.wait.wait_base):
    def __init__(self, fallback: tenacity.wait.wait_base) -> None:
        self.fallback = fallback

    def __call__(self, state: tenacity.RetryCallState) -> float:
        seconds = _retry_after(state)
        return self.fallback(state) if seconds is None else seconds


class _StopRetryAfterOver(tenacity.stop.stop_base):
    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        seconds = _retry_after(state)
        return seconds is not None and seconds > self.cap


# --------------------------------------------------------------------------- the client


def _snippet(body: bytes) -> str:
    text = " ".join(body[: _SNIPPET_CHARS * 4].decode("utf-8", errors="replace").split())
    return text[:_SNIPPET_CHARS] + "..." if len(text) > _SNIPPET_CHARS else text


def _try_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))
    except ValueError:  # UnicodeDecodeError is a ValueError
        return None


def _retry_logger(shown: str, secrets, policy):
    """tenacity's `before_sleep`: one WARNING per retry, with the reason and the wait."""

    def log_retry(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception()
        how = "Retry-After" if _retry_after(state) is not None else "backoff"
        logger.warning(
            "GET %s: %s; retry %d of %d in %.2f s (%s)",
            shown,
            _scrub(exc.detail, secrets),
            state.attempt_number,
            policy.max_attempts - 1,
            state.upcoming_sleep,
            how,
        )

    return log_retry


def _why_given_up(state: tenacity.RetryCallState, policy) -> str:
    n, wait, retry_after = state.attempt_number, state.upcoming_sleep, _retry_after(state)
    if n >= policy.max_attempts:
        return f"gave up after max_attempts={policy.max_attempts}"
    if retry_after is not None and retry_after > policy.max_retry_after:
        return (
            f"the server asked to wait {retry_after:.1f} s (Retry-After), more than "
            f"max_retry_after={policy.max_retry_after:g} s"
        )
    how = "Retry-After" if retry_after is not None else "backoff"
    return (
        f"waiting {wait:.1f} s ({how}) would exceed the time budget of "
        f"{policy.max_total_seconds:g} s"
    )


def _give_up(shown: str, secrets, policy):
    """tenacity's `retry_error_callback`: one `ApiError` naming the URL, tries and reason."""

    def give_up(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception()
        n = state.attempt_number
        message = f"GET {shown} failed after {n} attempt{'s' if n != 1 else ''}"
        message += f" in {state.seconds_since_start:.1f} s: last status {exc.status}"
        if exc.detail != f"HTTP {exc.status}":
            message += f" ({exc.detail})"
        raise ApiError(
            _scrub(f"{message}; {_why_given_up(state, policy)}", secrets),
            url=shown,
            status=exc.status,
            payload=exc.payload,
            attempts=n,
        ) from None

    return give_up


class ApiClient:
    """A pooled `httpx.Client` with the retry policy; use it as a context manager, one per run.

    `timeout` (seconds) applies to each phase of a request (connect, each read, ...) and is
    capped by what is left of the time budget. `headers` go with every request. `sleep` is
    injectable for tests; the time budget is measured on the real (monotonic) clock, so waits
    that are recorded rather than slept do not count against it. `on_body`, when given, is
    called with the bytes of every response that was accepted as a JSON object (a load hashes
    them: its provenance).
    """

    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_body: Callable[[bytes], None] | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.on_body = on_body
        self.timeout = timeout
        self._headers = dict(headers or {})
        self._sleep = sleep
        self._client = httpx.Client(
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **self._headers},
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"ApiClient(retry={self.retry!r}, timeout={self.timeout!r})"

    def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """GET `url` (with `params` added to the query) and return the decoded JSON object.

        Retries as described in the module docstring; raises `ApiError` on failure.
        """
        full_url = build_url(url, params)
        shown = mask_url(full_url)
        headers = dict(headers or {})
        secrets = _secret_values(full_url, {**self._headers, **headers})
        policy = self.retry
        started = time.monotonic()

        retrying = tenacity.Retrying(
            stop=(
                tenacity.stop_after_attempt(policy.max_attempts)
                | tenacity.stop_before_delay(policy.max_total_seconds)
                | _StopRetryAfterOver(policy.max_retry_after)
            ),
            wait=_WaitRetryAfterOr(
                tenacity.wait_exponential_jitter(
                    multiplier=policy.backoff_base, max=policy.max_backoff, jitter=policy.jitter
                )
            ),
            retry=tenacity.retry_if_exception_type(_Transient),
            before_sleep=_retry_logger(shown, secrets, policy),
            retry_error_callback=_give_up(shown, secrets, policy),
            sleep=self._sleep,
        )
        for attempt in retrying:
            with attempt:
                remaining = policy.max_total_seconds - (time.monotonic() - started)
                timeout = max(0.001, min(self.timeout, remaining))
                return self._once(full_url, headers, timeout, shown, secrets, attempt)
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def _once(
        self,
        url: str,
        headers: dict[str, str],
        timeout: float,
        shown: str,
        secrets: list[str],
        attempt: tenacity.AttemptManager,
    ) -> dict[str, Any]:
        """One request: the JSON object, or `_Transient` (retry) or `ApiError` (do not)."""
        try:
            response = self._client.get(url, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            raise _Transient("timeout", f"no answer within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise _Transient("connection error", f"{type(exc).__name__}: {exc}") from None
        status, body = response.status_code, response.content
        if status == 429 or 500 <= status <= 599:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Transient(status, f"HTTP {status}", retry_after, _try_json(body))

        def fail(detail: str, payload: Any) -> ApiError:
            return ApiError(
                _scrub(f"GET {shown} failed: {detail}", secrets),
                url=shown,
                status=status,
                payload=payload,
                attempts=attempt.retry_state.attempt_number,
            )

        if not 200 <= status <= 299:
            raise fail(f"HTTP {status}" + (f": {_snippet(body)}" if body else ""), _try_json(body))
        try:
            payload = json.loads(body.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise _Transient("invalid JSON", f"body is not UTF-8 ({exc.reason})") from None
        except ValueError as exc:
            starts = f", starts {_snippet(body)!r})" if body else ", empty body)"
            raise _Transient("invalid JSON", f"{exc} ({len(body)} bytes{starts}") from None
        if not isinstance(payload, dict):
            raise fail(f"expected a JSON object, got {type(payload).__name__}", payload)
        if self.on_body is not None:
            self.on_body(body)
        return payload
