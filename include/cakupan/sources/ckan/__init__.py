"""CKAN `datastore_search` (Satu Data portals): whole resources, paged and checked."""

from cakupan.sources.ckan.client import CkanClient, CkanResult, datastore_search_all

__all__ = ["CkanClient", "CkanResult", "datastore_search_all"]
