"""Client for CKAN's `datastore_search` action, as run by Indonesian Satu Data portals.

    GET {base}/api/3/action/datastore_search?resource_id=...&limit=...&offset=...&sort=_id

answers `{"success": true, "result": {"records": [...], "fields": [...], "total": N,
"total_was_estimated": false, "limit": ..., "offset": ..., "_links": {"start": ..., "next": ...}}}`.

`datastore_search_all` pages with explicit `limit`/`offset` (sorted by `_id`, so that pages are
stable) until it holds `total` rows, and refuses to return a silently short or doubled table:

* a page that repeats a record (`_id`) of an earlier page is an `ApiError` naming the resource and
  both offsets (a server ignoring `offset` would otherwise loop or duplicate rows);
* ending with fewer (or more) rows than `total` is an `ApiError` naming the resource, the counts
  and the offset of the last page;
* `total` changing between pages (the resource was replaced while being read) is an `ApiError`.

When CKAN reports `total_was_estimated: true` (large tables, `total` is a planner estimate), the
count is not enforced: paging stops at the first page shorter than the page size; the result
keeps the flag so the caller can record it. `_links.next` is not followed: explicit offsets are
what the checks above are stated in.

`success: false` (with any HTTP status) is an `ApiError` carrying CKAN's error message. The
optional API token goes in the `Authorization` header and is never logged or put in a message.
All pages of a resource go through one `ApiClient` (the run's, or one opened for the call), so
they reuse one pooled connection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cakupan.sources.http import ApiClient, ApiError

__all__ = ["CkanClient", "CkanResult", "datastore_search_all"]

DEFAULT_PAGE_SIZE = 1000
DEFAULT_MAX_PAGES = 10_000


@dataclass(frozen=True)
class CkanResult:
    """A whole datastore resource.

    `records` are the rows as CKAN returned them (each with its `_id`), in `_id` order; `fields`
    the column descriptions (`{"id": ..., "type": ...}`) of the first page; `total` the count
    CKAN reported; `total_was_estimated` CKAN's flag (if true, `total` is approximate and
    `len(records)` is the real count); `pages` the number of requests that returned a page.
    """

    records: list[dict[str, Any]]
    fields: list[dict[str, Any]]
    total: int
    total_was_estimated: bool
    pages: int
    resource_id: str = ""
    offsets: list[int] = field(default_factory=list)


def _ckan_error_text(error: Any) -> str:
    """CKAN's `error` object as one line: `Not Found Error: Not found: Resource ...`."""
    if not isinstance(error, dict):
        return str(error) if error else "no error message"
    kind = error.get("__type")
    message = error.get("message")
    details = [
        f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in error.items()
        if k not in ("__type", "message")
    ]
    text = str(message) if message else "; ".join(details) or "no error message"
    return f"{kind}: {text}" if kind else text


class CkanClient:
    """Reads datastore resources from one CKAN portal.

    `api_key` (optional) is sent as the `Authorization` header. `http` is the run's `ApiClient`
    (pooled connection, retry policy, applied to each page request); without one,
    `datastore_search_all` opens one for its pages and closes it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        http: ApiClient | None = None,
        api_key: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        sort: str | None = "_id",
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        self.page_size = page_size
        self.sort = sort
        self.max_pages = max_pages
        self.http = http

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return f"CkanClient(base_url={self.base_url!r}, api_key={key})"

    @property
    def search_url(self) -> str:
        return f"{self.base_url}/api/3/action/datastore_search"

    def _page(
        self,
        api: ApiClient,
        resource_id: str,
        offset: int,
        limit: int,
        filters: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"resource_id": resource_id, "limit": limit, "offset": offset}
        if self.sort:
            params["sort"] = self.sort
        if filters:
            params["filters"] = json.dumps(dict(filters), separators=(",", ":"))
        headers = {"Authorization": self._api_key} if self._api_key else None
        where = f"CKAN datastore_search of resource {resource_id} at offset {offset}"
        try:
            payload = api.get_json(self.search_url, params, headers=headers)
        except ApiError as exc:
            body = exc.payload
            if isinstance(body, dict) and body.get("success") is False:
                raise ApiError(
                    f"{where} failed: {_ckan_error_text(body.get('error'))} "
                    f"(HTTP {exc.status}, {exc.url})",
                    url=exc.url,
                    status=exc.status,
                    payload=body,
                    attempts=exc.attempts,
                ) from None
            raise
        if payload.get("success") is not True:
            raise ApiError(
                f"{where} failed: {_ckan_error_text(payload.get('error'))}",
                payload=payload,
            )
        result = payload.get("result")
        if not isinstance(result, dict):
            raise ApiError(f"{where}: the answer has no `result` object")
        if not isinstance(result.get("records"), list):
            raise ApiError(f"{where}: `result.records` is missing or not a list")
        total = result.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ApiError(f"{where}: `result.total` is {total!r}, not a count")
        return result

    def datastore_search_all(
        self,
        resource_id: str,
        *,
        filters: Mapping[str, Any] | None = None,
    ) -> CkanResult:
        """Every record of `resource_id` (optionally matching `filters`), checked as described
        in the module docstring. An empty resource gives an empty `CkanResult`, not an error."""
        if not resource_id:
            raise ValueError("resource_id is required")
        if self.http is not None:
            return self._read_all(self.http, resource_id, filters)
        with ApiClient() as api:
            return self._read_all(api, resource_id, filters)

    def _read_all(
        self, api: ApiClient, resource_id: str, filters: Mapping[str, Any] | None
    ) -> CkanResult:
        records: list[dict[str, Any]] = []
        first_seen: dict[Any, int] = {}
        offsets: list[int] = []
        fields: list[dict[str, Any]] = []
        total: int | None = None
        estimated = False
        offset = 0
        while True:
            if len(offsets) >= self.max_pages:
                raise ApiError(
                    f"CKAN resource {resource_id}: more than max_pages={self.max_pages} pages "
                    f"(at offset {offset}); raise page_size or max_pages"
                )
            result = self._page(api, resource_id, offset, self.page_size, filters)
            offsets.append(offset)
            page = result["records"]
            if total is None:
                total = result["total"]
                estimated = bool(result.get("total_was_estimated", False))
                fields = list(result.get("fields") or [])
            elif result["total"] != total and not estimated:
                raise ApiError(
                    f"CKAN resource {resource_id}: total changed from {total} to "
                    f"{result['total']} at offset {offset}; the resource changed while paging"
                )
            _check_page_ids(resource_id, page, offset, first_seen, offsets)
            records.extend(page)
            if not page:
                break
            offset += len(page)
            if estimated:
                limit = result.get("limit")
                effective = limit if isinstance(limit, int) and limit > 0 else self.page_size
                if len(page) < effective:
                    break
            elif len(records) >= total:
                break

        assert total is not None
        if not estimated and len(records) != total:
            raise _count_mismatch(resource_id, len(records), total, len(page), offsets)
        return CkanResult(
            records=records,
            fields=fields,
            total=total,
            total_was_estimated=estimated,
            pages=len(offsets),
            resource_id=resource_id,
            offsets=offsets,
        )


def _check_page_ids(
    resource_id: str, page: list, offset: int, first_seen: dict[Any, int], offsets: list[int]
) -> None:
    """Every record has an `_id`, and no page repeats a record of an earlier page."""
    for record in page:
        if not isinstance(record, dict) or "_id" not in record:
            raise ApiError(
                f"CKAN resource {resource_id}: a record at offset {offset} has no `_id`; "
                "cannot check the pages"
            )
        record_id = record["_id"]
        if record_id in first_seen:
            raise ApiError(
                f"CKAN resource {resource_id}: the page at offset {offset} repeats "
                f"record _id {record_id} of the page at offset {first_seen[record_id]} "
                f"(pages at offsets {', '.join(map(str, offsets))})"
            )
        first_seen[record_id] = offset


def _count_mismatch(
    resource_id: str, got: int, total: int, last_page: int, offsets: list[int]
) -> ApiError:
    pages = ", ".join(map(str, offsets))
    if got < total:
        return ApiError(
            f"CKAN resource {resource_id}: short read: got {got} of total {total} records; the"
            f" page at offset {offsets[-1]} returned {last_page} (pages at offsets {pages})"
        )
    return ApiError(
        f"CKAN resource {resource_id}: got {got} records, more than total {total}"
        f" (pages at offsets {pages})"
    )


def datastore_search_all(
    base_url: str,
    resource_id: str,
    *,
    http: ApiClient | None = None,
    api_key: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    filters: Mapping[str, Any] | None = None,
) -> CkanResult:
    """`CkanClient(base_url, http=..., api_key=..., page_size=...).datastore_search_all(...)`."""
    client = CkanClient(base_url, http=http, api_key=api_key, page_size=page_size)
    return client.datastore_search_all(resource_id, filters=filters)
