"""The warehouse: the Airflow connection `warehouse`, or an embedded PostgreSQL for the demo."""

from cakupan.warehouse.connection import (
    WarehouseConnectionLost,
    WarehouseParams,
    WarehouseUnreachable,
    check,
    connect,
    masked_url,
    params_from_env,
    resolve_params,
)

__all__ = [
    "WarehouseConnectionLost",
    "WarehouseParams",
    "WarehouseUnreachable",
    "check",
    "connect",
    "masked_url",
    "params_from_env",
    "resolve_params",
]
