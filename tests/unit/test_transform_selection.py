"""`cakupan transform`: the whole build, or what a source's new loads change."""

import os
import subprocess

import pytest
from cakupan import config
from cakupan.pipeline import transform_args


def test_whole_build_and_full_refresh():
    assert transform_args() == ["build"]
    assert transform_args(full_refresh=True) == ["build", "--full-refresh"]
    with pytest.raises(ValueError, match="full refresh"):
        transform_args(after=["bpjs_membership"], full_refresh=True)


def _selected(args: list[str]) -> set[str]:
    """What `dbt ls` selects with a transform's selection (dbt parses; no warehouse needed)."""
    from cakupan.pipeline import dbt_executable

    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(config.dbt_project_dir()),
        "DBT_TARGET_PATH": str(config.state_dir() / "dbt_ls_target"),
    }
    out = subprocess.run(
        [dbt_executable(), "ls", "-q", *args[1:], "--project-dir", str(config.dbt_project_dir())],
        env=env,
        cwd=config.dbt_project_dir(),
        capture_output=True,
        text=True,
        check=True,
    )
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def test_a_new_month_builds_the_tables_it_changes_and_their_tests():
    selected = _selected(transform_args(after=["bpjs_membership"]))
    models = {n.rsplit(".", 1)[-1] for n in selected if n.startswith("cakupan.marts.fct_")}
    models |= {n.rsplit(".", 1)[-1] for n in selected if n.startswith("cakupan.marts.dq_")}
    assert {
        "fct_coverage_district_month",
        "fct_coverage_group_month",
        "fct_coverage_province_month",
        "fct_coverage_national_month",
        "dq_loads",
        "dq_outliers",
        "dq_published_mismatches",
    } <= models
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
