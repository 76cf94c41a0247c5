"""Settings read from environment variables, with defaults for the local demo."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout (or deployment) root: `CAKUPAN_HOME`, else the folder holding `dags/`."""
    env = os.environ.get("CAKUPAN_HOME")
    if env:
        return Path(env).resolve()
    # include/cakupan/config.py -> project root, when running from a checkout
    candidate = PACKAGE_DIR.parents[1]
    if (candidate / "dbt_project").is_dir():
        return candidate
    return Path.cwd().resolve()


def state_dir() -> Path:
    """Git-ignored folder for the embedded server's data, generated sources and run state."""
    path = project_root() / ".cakupan"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sources_dir() -> Path:
    env = os.environ.get("CAKUPAN_SOURCES_DIR")
    return Path(env).resolve() if env else state_dir() / "sources"


def extra_contract_dirs() -> list[Path]:
    """`CAKUPAN_CONTRACTS_DIR`: folders (separated by `:`) of an office's own contracts, read
    beside the package's; a layout is onboarded there without touching the product."""
    env = os.environ.get("CAKUPAN_CONTRACTS_DIR", "")
    return [Path(part).resolve() for part in env.split(os.pathsep) if part.strip()]


def dbt_project_dir() -> Path:
    env = os.environ.get("CAKUPAN_DBT_PROJECT_DIR")
    return Path(env).resolve() if env else project_root() / "dbt_project"


def embedded_port() -> int:
    return int(os.environ.get("CAKUPAN_PG_PORT", "54329"))


def bi_role() -> str:
    return os.environ.get("CAKUPAN_BI_ROLE", "bi_reader")


def worklist_dir() -> Path:
    """`CAKUPAN_WORKLIST_DIR`: where the transform DAG writes the worklists (one folder per
    kab/kota); default `$CAKUPAN_HOME/.cakupan/worklists`."""
    env = os.environ.get("CAKUPAN_WORKLIST_DIR")
    return Path(env).resolve() if env else state_dir() / "worklists"
