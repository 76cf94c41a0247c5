"""`cakupan transform`: the whole build, or what the loads since the last transform change."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from cakupan import config
from cakupan.dbt_session import NEW_LOADS_SELECTOR, build_args, first_rows
from cakupan.pipeline import dbt_executable, transform

BEFORE = "2025-12-01T08:00:00+00:00"
LATER = "2025-12-02T08:00:00+00:00"
NEVER = "0001-01-01T00:00:00+00:00"  # what dbt writes for a source without rows


def _freshness(loaded_at: dict[str, str]) -> dict:
    """A sources.json as `dbt source freshness` writes it (schema v3), one result per source."""
    result = {
        "snapshotted_at": LATER,
        "max_loaded_at_time_ago_in_s": 60.0,
        "status": "pass",
        "criteria": {"warn_after": {"count": 45, "period": "day"}, "filter": None},
        "adapter_response": {},
        "timing": [],
        "thread_id": "Thread-1",
        "execution_time": 0.01,
    }
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
            "dbt_version": "1.11.0",
            "generated_at": LATER,
            "invocation_id": "00000000-0000-0000-0000-000000000000",
            "env": {},
        },
        "results": [
            {"unique_id": uid, "max_loaded_at": at, **result} for uid, at in loaded_at.items()
        ],
        "elapsed_time": 0.1,
    }


def _dbt_ls(*args: str, target: Path) -> set[str]:
    """What `dbt ls` selects (dbt parses; no warehouse needed)."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(config.dbt_project_dir()),
        "DBT_TARGET_PATH": str(target),
    }
    out = subprocess.run(
        [dbt_executable(), "ls", "-q", *args, "--project-dir", str(config.dbt_project_dir())],
        env=env,
        cwd=config.dbt_project_dir(),
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


@pytest.fixture(scope="module")
def select_new_loads(tmp_path_factory):
    """The nodes the selector `new_loads` picks, given each source's newest row at the last
    transform (`kept`, the --state) and now (target/sources.json, as the freshness step leaves
    it)."""
    target = tmp_path_factory.mktemp("dbt_target")
    sources = {
        "source." + n.removeprefix("source:")
        for n in _dbt_ls("--resource-type", "source", target=target)
    }
    runs = iter(range(100))

    def select(kept: dict[str, str], now: dict[str, str]) -> set[str]:
        state = tmp_path_factory.mktemp(f"state{next(runs)}")
        (state / "sources.json").write_text(json.dumps(_freshness(kept)))
        (target / "sources.json").write_text(json.dumps(_freshness(now)))
        return _dbt_ls(
            "--selector",
            NEW_LOADS_SELECTOR,
            "--state",
            str(state),
            "--resource-type",
            "all",
            target=target,
        )

    select.sources = sources
    return select


def _names(selected: set[str], prefix: str) -> set[str]:
    return {n.rsplit(".", 1)[-1] for n in selected if n.startswith(prefix)}


def test_a_new_month_builds_the_tables_it_changes_and_their_tests(select_new_loads):
    kept = dict.fromkeys(select_new_loads.sources, BEFORE)
    # a membership workbook's load: its raw table and the observations it feeds
    now = {
        **kept,
        "source.cakupan.bpjs.bpjs_membership": LATER,
        "source.cakupan.observations.jkn_membership": LATER,
    }
    selected = select_new_loads(kept, now)
    models = _names(selected, "cakupan.marts.fct_") | _names(selected, "cakupan.marts.dq_")
    assert models == {
        "fct_coverage_district_month",
        "fct_coverage_group_month",
        "fct_coverage_province_month",
        "fct_coverage_national_month",
        "dq_loads",
        "dq_rejected_rows",
        "dq_outliers",
        "dq_published_mismatches",
        # the person level set beside the recap of the same month (the person models
        # themselves are not rebuilt: their freshness is the person loads')
        "fct_person_reconciliation_district_month",
    }
    assert not any("person_status" in n or "int_person_links" in n for n in selected)
    # no views (they read the raw tables as they are), no dimensions, no unit tests
    assert not any(n.rsplit(".", 1)[-1].startswith(("stg_", "int_", "dim_")) for n in selected)
    assert not any(n.startswith("unit_test:") for n in selected)
    # the month guard runs (it blocks the facts); the tests of the SQL's logic (tag `logic`: the
    # grain of the observations and of the views over them) wait for a whole build
    assert not any("int_memberships_unpivoted" in n for n in selected)
    assert "cakupan.intermediate.months_keep_their_districts_int_memberships_picked_" in selected
    assert not any("unique_combination_stg_observations" in n for n in selected)
    # the group fact's table is not rebuilt for a new membership month
    assert "cakupan.intermediate.int_group_participants_month" not in selected
    # 28 nodes, where a whole build has 187 (docs/COVERAGE_MODEL.md, "What a new month runs")
    assert len(selected) == 28, sorted(selected)


def test_nothing_new_builds_only_the_load_log(select_new_loads):
    kept = dict.fromkeys(select_new_loads.sources, BEFORE)
    selected = select_new_loads(kept, kept)
    assert _names(selected, "cakupan.marts.") == {"dq_loads", "dq_rejected_rows"}
    assert not any(".fct_" in n for n in selected)


def test_each_source_with_new_rows_is_selected(select_new_loads):
    """Two sources loaded since the last transform: what either changes; a source the kept
    freshness does not know (new to the project) counts as loaded."""
    kept = dict.fromkeys(select_new_loads.sources, BEFORE)
    residents = "source.cakupan.dukcapil.dukcapil_residents"
    selected = select_new_loads(
        {k: v for k, v in kept.items() if k != residents},
        {**kept, "source.cakupan.kemendagri.kemendagri_regions": LATER},
    )
    # the regions feed the district dimension; the residents (new here) the facts
    assert {"dim_districts", "fct_coverage_district_month"} <= _names(selected, "cakupan.marts.")


def _write(path: Path, loaded_at: dict[str, str]) -> Path:
    path.write_text(json.dumps(_freshness(loaded_at)))
    return path


def test_the_build_each_transform_runs(tmp_path):
    state, fresh = tmp_path / "state", tmp_path / "measured.json"
    state.mkdir()
    membership = "source.cakupan.bpjs.bpjs_membership"
    _write(fresh, {membership: LATER})
    assert build_args(new_loads=False, full_refresh=False, state=state, fresh=fresh) == ["build"]
    assert build_args(new_loads=False, full_refresh=True, state=state, fresh=fresh) == [
        "build",
        "--full-refresh",
    ]
    # the first transform recorded here builds everything
    assert build_args(new_loads=True, full_refresh=False, state=state, fresh=fresh) == ["build"]
    _write(state / "sources.json", {membership: BEFORE})
    assert build_args(new_loads=True, full_refresh=False, state=state, fresh=fresh) == [
        "build",
        "--selector",
        "new_loads",
        "--state",
        str(state),
    ]
    with pytest.raises(ValueError, match="full refresh"):
        transform(new_loads=True, full_refresh=True)


def test_a_source_with_its_first_rows_builds_everything(tmp_path):
    """An optional source's views read an empty stand-in until its raw table exists: its first
    load needs them recreated, which only a whole build does."""
    wbp = "source.cakupan.pemasyarakatan.pemasyarakatan_wbp_jkn"
    membership = "source.cakupan.bpjs.bpjs_membership"
    kept = {wbp: NEVER, membership: BEFORE}
    assert first_rows(_freshness(kept), _freshness({wbp: NEVER, membership: LATER})) == []
    now = {wbp: LATER, membership: LATER}
    assert first_rows(_freshness(kept), _freshness(now)) == [
        "cakupan.pemasyarakatan.pemasyarakatan_wbp_jkn"
    ]
    state = tmp_path / "state"
    state.mkdir()
    _write(state / "sources.json", kept)
    fresh = _write(tmp_path / "measured.json", now)
    assert build_args(new_loads=True, full_refresh=False, state=state, fresh=fresh) == ["build"]
