"""One `cakupan transform`: dbt's source freshness, then its build, in one dbt process.

After new loads, the build selects what they change with dbt's own selection: the selector
`new_loads` of `dbt_project/selectors.yml` (`source_status:fresher+`) compares the freshness dbt
measures now (`dbt source freshness`, target/sources.json) with the freshness kept from the last
successful transform of this warehouse (`--state`). So no contract names are needed, and a source
added to the project is selected as any other. The two commands run here through dbt's Python API
(`dbtRunner`) on one parse of the project: as two `dbt` processes, the freshness check would add
dbt's start-up (imports, the partial parse, writing the manifest; about 2.5 s here) to a new
month's build of about 4 s.

Run as `python -m cakupan.dbt_session` by `cakupan.pipeline.transform`, in the environment of
`pipeline.dbt_env` (a process of its own: dbt keeps global state, and each transform starts
clean, as a `dbt` command does).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("cakupan.transform")

# dbt_project/selectors.yml: the tables, incremental models and data tests downstream of the
# sources with rows newer than at the last transform, and of the load log
NEW_LOADS_SELECTOR = "new_loads"
STATE_FILE = "sources.json"  # the name dbt reads in --state (source_status)
MEASURED_FILE = "sources.measured.json"
NEVER_LOADED = "0001-01-01"  # dbt's max_loaded_at of a source without rows


def first_rows(previous: dict, current: dict) -> list[str]:
    """Sources with rows now that had none at the last transform, or were not in the project.

    Their staging views may still read the empty stand-in of an optional source that had no raw
    table (macro `optional_source`), or not exist at all: only a whole build creates them.
    """
    before = {r["unique_id"]: r.get("max_loaded_at") for r in previous.get("results", [])}
    found = []
    for result in current.get("results", []):
        loaded_at = result.get("max_loaded_at")
        if not loaded_at or loaded_at.startswith(NEVER_LOADED):
            continue  # no rows now either
        earlier = before.get(result["unique_id"])
        if earlier is None or earlier.startswith(NEVER_LOADED):
            found.append(result["unique_id"].removeprefix("source."))
    return sorted(found)


def build_args(
    *, new_loads: bool, full_refresh: bool, state: Path, fresh: Path | None
) -> list[str]:
    """The `dbt build` of this transform: the new loads' selection, else the whole project.

    `state` is the folder of the freshness kept from the last successful transform, `fresh` the
    freshness just measured (dbt's selection reads the same from target/sources.json).
    """
    if full_refresh:
        return ["build", "--full-refresh"]
    if not new_loads or fresh is None:
        return ["build"]
    kept = state / STATE_FILE
    if not kept.is_file():
        log.warning("no earlier transform recorded for this warehouse: building everything")
        return ["build"]
    new = first_rows(json.loads(kept.read_text()), json.loads(fresh.read_text()))
    if new:
        log.warning("first rows of %s: building everything (views included)", ", ".join(new))
        return ["build"]
    return ["build", "--selector", NEW_LOADS_SELECTOR, "--state", str(state)]


def measured(freshness_result, state: Path) -> Path | None:
    """The freshness just measured, written beside the kept one (kept once the build succeeds);
    None when the folder cannot be written (then `--new-loads` builds everything)."""
    path = state / MEASURED_FILE
    try:
        state.mkdir(parents=True, exist_ok=True)
        freshness_result.write(str(path))
    except OSError as exc:
        log.warning("cannot keep the sources' freshness in %s (%s)", state, exc.strerror)
        return None
    return path


def record(measured_path: Path) -> None:
    """Keep the freshness measured before a successful build: the next `--new-loads` selects
    what was loaded since (rows a load writes during the build are newer than it)."""
    os.replace(measured_path, measured_path.with_name(STATE_FILE))


def _failed(step: str, result, level: int = logging.ERROR) -> None:
    # dbt has logged the nodes' errors; an exception (a database that cannot be reached, a
    # project that does not parse) is said once more in a line of its own
    reason = f": {result.exception}" if result.exception is not None else ""
    log.log(level, "dbt %s failed%s", step, reason)


def run(args: argparse.Namespace) -> int:
    from dbt.cli.main import dbtRunner

    project = ["--project-dir", args.project_dir]
    quiet = ["--quiet"] if args.quiet else []
    parsed = dbtRunner().invoke(["parse", "--quiet", *project])
    if not parsed.success:
        _failed("parse", parsed)
        return 2
    dbt = dbtRunner(manifest=parsed.result)  # the freshness and the build share this parse
    freshness = dbt.invoke(["source", "freshness", *quiet, *project])
    if not freshness.success:
        if args.new_loads:
            _failed("source freshness", freshness)
            log.error("which sources have new loads is unknown: nothing built")
            return 1
        # a whole build needs no freshness; it keeps none, so the next --new-loads builds all
        _failed("source freshness", freshness, logging.WARNING)
    state = Path(args.state)
    fresh = measured(freshness.result, state) if freshness.success else None
    build = build_args(
        new_loads=args.new_loads, full_refresh=args.full_refresh, state=state, fresh=fresh
    )
    built = dbt.invoke([*build, *quiet, *project])
    if not built.success:
        _failed("build", built)
        return 1
    if fresh is not None:
        record(fresh)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cakupan.dbt_session", description=__doc__)
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--state", required=True, help="folder of the last transform's freshness")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--new-loads", action="store_true")
    what.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    logging.basicConfig(format="%(levelname)s %(message)s", level=logging.INFO)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
