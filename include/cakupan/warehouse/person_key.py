"""The secret HMAC key that turns NIK, No. KK and No. Kartu into keyed values.

`person_key()` reads it from the environment variable `CAKUPAN_PERSON_KEY` (at least 32
characters, used as UTF-8 bytes; the DAGs set it from the Airflow connection
`cakupan_person_key`), else from `.cakupan/person_key` (mode 0600), which only the demo creates
(`generate=True`); else it stops with one clear error. The key is never logged, printed or sent
to the server at all: the landing keys values itself (`Keyer`: polars-hash's HMAC-SHA256, a
polars expression that runs on polars' threads without the GIL, a third of hashlib's time per
value).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cakupan import config

if TYPE_CHECKING:  # polars only where values are keyed: a task that reads the key needs none
    import polars as pl

ENV_VAR = "CAKUPAN_PERSON_KEY"
AIRFLOW_CONNECTION = "cakupan_person_key"
MIN_LENGTH = 32


class PersonKeyError(RuntimeError):
    """No usable key: says where one is looked for, never what a key holds."""


def key_file() -> Path:
    return config.state_dir() / "person_key"


def person_key(*, generate: bool = False) -> bytes:
    """The HMAC key: `CAKUPAN_PERSON_KEY`, else `.cakupan/person_key` (created when `generate`,
    the demo's own); raises `PersonKeyError` without one."""
    value = os.environ.get(ENV_VAR)
    if value:
        if len(value) < MIN_LENGTH:
            raise PersonKeyError(
                f"{ENV_VAR} is too short: a person key has at least {MIN_LENGTH} characters"
            )
        return value.encode("utf-8")
    path = key_file()
    if not path.exists() and generate:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48))
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise PersonKeyError(f"{path} must be readable by its owner only (chmod 600 {path})")
        text = path.read_text(encoding="utf-8").strip()
        if len(text) < MIN_LENGTH:
            raise PersonKeyError(f"{path} holds no usable key (at least {MIN_LENGTH} characters)")
        return text.encode("utf-8")
    raise PersonKeyError(
        f"no person key: set {ENV_VAR} (or the Airflow connection {AIRFLOW_CONNECTION})"
    )


class Keyer:
    """Lower-case hex HMAC-SHA256 (RFC 2104) of texts (as UTF-8) under one key, as a polars
    expression; equal to `hmac.new(key, value, sha256).hexdigest()`, null for null. The key sits
    in the expression's options, which neither its text nor a polars error shows."""

    def __init__(self, key: bytes):
        self._key = key.decode("utf-8")  # `person_key()`'s bytes are a text's

    def __repr__(self) -> str:
        return "Keyer(<key>)"

    def expr(self, values: pl.Expr) -> pl.Expr:
        import polars_hash  # noqa: F401 - registers the `chash` namespace of polars expressions

        return values.chash.hmac_sha256(key=self._key)


__all__ = ["Keyer", "PersonKeyError", "person_key"]
