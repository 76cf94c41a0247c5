"""BPS WebAPI (webapi.bps.go.id): dynamic tables (`list/model/data`) as `BpsRecord`s."""

from cakupan.sources.bps.client import (
    BPS_BASE_URL,
    BpsAmbiguousKey,
    BpsClient,
    BpsRecord,
    bps_data_url,
    fetch_bps_data,
    parse_bps_data,
)

__all__ = [
    "BPS_BASE_URL",
    "BpsAmbiguousKey",
    "BpsClient",
    "BpsRecord",
    "bps_data_url",
    "fetch_bps_data",
    "parse_bps_data",
]
