"""Landing: COPY extracted rows into `raw` tables with provenance, one transaction per load."""

from cakupan.landing.copy import LoadResult, ensure_landing_schema, land

__all__ = ["LoadResult", "ensure_landing_schema", "land"]
