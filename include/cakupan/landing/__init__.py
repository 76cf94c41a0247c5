"""Load source files into the warehouse's `raw` schema (`land_file`), with the load log."""

from cakupan.landing.raw import LoadResult, ensure_landing_schema

__all__ = ["LoadResult", "ensure_landing_schema"]
