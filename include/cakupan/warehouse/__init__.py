"""The warehouse: the Airflow connection `warehouse`, or an embedded PostgreSQL for the demo."""

from cakupan.warehouse.connection import (
    WarehouseParams,
    WarehouseUnreachable,
    check,
    connect,
    masked_url,
    params_from_env,
    resolve_params,
)

__all__ = [
    "WarehouseParams",
    "WarehouseUnreachable",
    "check",
    "connect",
    "masked_url",
    "params_from_env",
    "resolve_params",
]
