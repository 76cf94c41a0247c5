"""The secret HMAC key that turns NIK, No. KK and No. Kartu into keyed values.

`person_key()` reads it from the environment variable `CAKUPAN_PERSON_KEY` (at least 32
characters, used as UTF-8 bytes; the DAGs set it from the Airflow connection
`cakupan_person_key`), else from `.cakupan/person_key` (mode 0600), which only the demo creates
(`generate=True`); else it stops with one clear error. The key is never logged, printed or sent
to the server at all: the landing keys values itself (`Keyer`, HMAC-SHA256 of RFC 2104, the
pads' hash states computed once and copied per value: `hmac.digest` sets the key up again on
every call, about twice as slow for a million values).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cakupan import config

ENV_VAR = "CAKUPAN_PERSON_KEY"
AIRFLOW_CONNECTION = "cakupan_person_key"
MIN_LENGTH = 32
BLOCK = 64  # SHA-256's block size in bytes


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


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(ipad, opad): the key, hashed when longer than a block, zero-padded to a block and
    XORed with 0x36 and 0x5c (RFC 2104)."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class Keyer:
    """Lower-case hex HMAC-SHA256 of texts (as UTF-8) under one key; equal to
    `hmac.new(key, value, sha256).hexdigest()`."""

    def __init__(self, key: bytes):
        ipad, opad = hmac_pads(key)
        self._inner, self._outer = hashlib.sha256(ipad), hashlib.sha256(opad)

    def keys(self, values: list[str]) -> list[str]:
        inner, outer = self._inner, self._outer
        out = []
        for value in values:
            h = inner.copy()
            h.update(value.encode())
            o = outer.copy()
            o.update(h.digest())
            out.append(o.hexdigest())
        return out


__all__ = ["Keyer", "PersonKeyError", "person_key"]
