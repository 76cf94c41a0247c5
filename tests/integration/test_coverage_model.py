"""The coverage model on the demo warehouse: UHC rules and award tiers as data, measures
recomputed and checked against what sources publish, data-quality marts, rollups, denominators,
population groups, regions over time and the incremental facts (docs/COVERAGE_MODEL.md).

`cakupan demo` runs once for this module and test_bi_role.py (`run_demo_once`). The extra demo
sources (population groups, BPS population, earlier decrees) are then generated and loaded with
`cakupan load` unless the demo's DAGs loaded them already, and `cakupan dbt build` builds the
whole project (its data tests and unit tests included).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

pytestmark = pytest.mark.integration

CAKUPAN = [sys.executable, "-m", "cakupan.cli"]
EXTRA_TABLES = (
    "kemendagri_region_history",
    "bps_population",
    "dukcapil_residents_by_age",
    "bpjs_participants_by_age",
    "pemasyarakatan_wbp_jkn",
    "dtsen_desil",
)
_DEMO: dict[str, dict[str, str]] = {}


def _run(args: list[str], env: dict[str, str], timeout: int = 1800) -> str:
    result = subprocess.run(
        [*CAKUPAN, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (args, result.stdout[-4000:] + result.stderr[-4000:])
    return result.stdout


def run_demo_once(warehouse, clean_env) -> dict[str, str]:
    """`cakupan demo` against the session's warehouse, once per test session; the environment."""
    if "env" not in _DEMO:
        env = dict(clean_env)
        env["AIRFLOW_CONN_WAREHOUSE"] = warehouse.url(mask=False)
        _run(["demo"], env)
        _DEMO["env"] = env
    return _DEMO["env"]


def _dbt(env: dict[str, str], tmp: Path, *args: str) -> str:
    # a private target folder: the project's target/manifest.json is what Cosmos renders from
    return _run(["dbt", *args, "--target-path", str(tmp / "dbt_target")], env, timeout=900)


def _missing_extras(conn) -> list[str]:
    missing = []
    with conn.cursor() as cur:
        for table in EXTRA_TABLES:
            cur.execute("select to_regclass(%s)", (f"raw.{table}",))
            if cur.fetchone()[0] is None:
                missing.append(table)
                continue
            cur.execute(f"select exists (select from raw.{table})")  # noqa: S608 - constant
            if not cur.fetchone()[0]:
                missing.append(table)
    return missing


@pytest.fixture(scope="module")
def built(warehouse, clean_env, tmp_path_factory):
    """The demo warehouse with every extra source loaded and the dbt project built (loaded here
    and removed again afterwards when the demo's DAGs did not load them)."""
    env = run_demo_once(warehouse, clean_env)
    tmp = tmp_path_factory.mktemp("coverage")
    with psycopg2.connect(**warehouse.dsn_kwargs()) as conn:
        missing = _missing_extras(conn)
    files: list[Path] = []
    if missing:
        from cakupan.demo.generate import generate_extras

        sources = Path(env["CAKUPAN_SOURCES_DIR"])
        files = generate_extras(sources)
        _run(["load", *map(str, files)], env)
        _dbt(env, tmp, "build")
    yield {"env": env, "tmp": tmp, "loaded_by_test": missing}
    if missing:
        # leave the session's sources and warehouse as the demo made them, for the modules
        # that follow
        for path in files:
            path.unlink(missing_ok=True)
        with psycopg2.connect(**warehouse.dsn_kwargs()) as conn, conn.cursor() as cur:
            for table in EXTRA_TABLES:
                cur.execute(f"drop table if exists raw.{table} cascade")  # noqa: S608
            cur.execute("delete from raw.rejects where source = any(%s)", (list(EXTRA_TABLES),))
            cur.execute("delete from raw.loads where source = any(%s)", (list(EXTRA_TABLES),))
        _dbt(env, tmp, "build", "--full-refresh")


def _autocommit(conn) -> None:
    # no transaction left open: dbt's full refresh renames the tables these queries read
    if not conn.autocommit:
        conn.rollback()
        conn.autocommit = True


def _one(conn, query: str, *params):
    _autocommit(conn)
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()


def _all(conn, query: str, *params):
    _autocommit(conn)
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _checksum(conn, table: str, order: str) -> str:
    """A digest of a table's rows (`marts` unless `schema.table`), its columns taken by name (not
    by position)."""
    schema, _, table = table.rpartition(".")
    schema = schema or "marts"
    columns = [
        r[0]
        for r in _all(
            conn,
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s order by column_name",
            schema,
            table,
        )
    ]
    select = ", ".join(f'"{c}"::text' for c in columns)
    rows = _all(conn, f"select {select} from {schema}.{table} order by {order}")  # noqa: S608
    return hashlib.sha256(repr(rows).encode()).hexdigest()


# ---------------------------------------------------------------- 1. UHC rules as data


def test_uhc_rules_and_award_tiers_are_data(built, conn):
    rules = {
        r[0]: r[1:]
        for r in _all(
            conn,
            "select uhc_rule_code, rule_kind, award_tier, valid_from_date::text, min_coverage_pct,"
            " min_active_pct, min_pemda_registered_pct, pemda_waived_at_active_pct"
            " from marts.dim_uhc_rules",
        )
    }
    assert rules["uhc_2014"][:2] == ("uhc", None) and rules["uhc_2024"][3:5] == (98, 80)
    assert rules["award_2026_pratama"][1:5] == ("pratama", "2026-01-01", 98, 80)
    assert rules["award_2026_utama"][1:] == ("utama", "2026-01-01", 99, 95, 18, 100)
    assert {r[1] for r in rules.values() if r[0] == "award"} == {"pratama", "madya", "utama"}


def test_every_month_says_its_rule_and_no_award_before_2026(built, conn):
    rows = _all(
        conn,
        "select extract(year from month)::int, array_agg(distinct uhc_rule_code),"
        " count(*) filter (where uhc_award_tier is not null),"
        " count(*) filter (where meets_uhc is null)"
        " from marts.fct_coverage_district_month group by 1 order by 1",
    )
    assert [(r[0], r[1]) for r in rows] == [
        (2022, ["uhc_2014"]),
        (2023, ["uhc_2014"]),
        (2024, ["uhc_2024"]),
        (2025, ["uhc_2024"]),
    ]
    assert all(r[2] == 0 and r[3] == 0 for r in rows)  # the award tiers start in 2026
    # people_to_uhc is what the rule of the month asks for, rounded up
    bad = _one(
        conn,
        "select count(*) from marts.fct_coverage_district_month where people_to_uhc <>"
        " greatest(0, ceil(residents * min_coverage_pct / 100.0) - participants)"
        " or meets_uhc <> (coverage_pct >= min_coverage_pct and active_pct >= min_active_pct)",
    )[0]
    assert bad == 0


# ---------------------------------------------------------------- 2. measures and data quality


def test_measures_are_recomputed_from_counts(built, conn):
    bad = _one(
        conn,
        "select count(*) from marts.fct_coverage_district_month"
        " where coverage_pct <> 100.0 * participants / residents"
        " or active_pct <> 100.0 * active_participants / participants",
    )[0]
    assert bad == 0
    # Kab. Batang, March 2023: the workbook says 87.86, the counts say 87.68
    published, coverage = _one(
        conn,
        "select coverage_pct_published, coverage_pct from marts.fct_coverage_district_month"
        " where district_code = '33.25' and month = '2023-03-01'",
    )
    assert float(published) == 87.86 and round(float(coverage), 2) == 87.68


def test_published_mismatches(built, conn):
    rows = _all(
        conn,
        "select district_code, month::text, measure, published_value, recomputed_value,"
        " difference from dq.dq_published_mismatches where source_name = 'bpjs_membership'"
        " order by district_code, measure",
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("33.25", "2023-03-01", "coverage_pct"),
        ("33.26", "2023-03-01", "participants"),
    ]
    batang, pekalongan = rows
    assert float(batang[3]) == 87.86 and round(float(batang[4]), 2) == 87.68
    assert (pekalongan[3], pekalongan[4], pekalongan[5]) == (842_070, 841_080, 990)
    # the other sources' totals agree with their parts in the demo
    assert (
        _one(
            conn,
            "select count(*) from dq.dq_published_mismatches"
            " where source_name <> 'bpjs_membership'",
        )[0]
        == 0
    )


def test_rejected_rows_and_loads(built, conn):
    rejects = _all(
        conn,
        "select source_name, source_location, column_name, reason, source_row"
        " from dq.dq_rejected_rows order by source_location",
    )
    assert rejects == _all(
        conn,
        "select source, source_file, column_name, reason, source_row from raw.rejects"
        " order by source_file",
    )
    bps = [r for r in rejects if r[0] == "bps_population"]
    assert len(bps) == 4 and all("9999" in r[3] for r in bps)  # the API's aggregate row
    total, balanced, loads = _one(
        conn,
        "select count(*) filter (where status = 'succeeded'),"
        " count(*) filter (where rows_balance), (select count(*) from raw.loads)"
        " from dq.dq_loads",
    )
    assert total == balanced and total > 0
    assert loads == _one(conn, "select count(*) from dq.dq_loads")[0]


def test_source_completeness(built, conn):
    rows = _all(
        conn,
        "select source_name, count(*), min(districts_reported), max(districts_expected),"
        " max(unknown_districts) from dq.dq_source_completeness group by 1 order by 1",
    )
    by_source = {r[0]: r[1:] for r in rows}
    assert by_source["bpjs_membership"] == (48, 514, 514, 0)
    assert by_source["dukcapil_residents"] == (8, 514, 514, 0)
    assert by_source["bps_population"] == (4, 514, 514, 0)
    assert by_source["bpjs_participants_by_age"] == (48, 514, 514, 0)
    assert by_source["dtsen_desil"] == (2, 514, 514, 0)
    assert by_source["pemasyarakatan_wbp_jkn"][0] == 4  # not every kab/kota has prisoners


def test_outliers(built, conn):
    above = _one(
        conn, "select count(*) from marts.fct_coverage_district_month where coverage_pct > 100"
    )[0]
    assert (
        above
        == _one(
            conn, "select count(*) from dq.dq_outliers where check_name = 'coverage_above_100'"
        )[0]
    )
    threshold = _one(
        conn,
        "select coalesce(min(threshold), 3) from dq.dq_outliers"
        " where check_name = 'coverage_change'",
    )[0]
    changes = _one(
        conn,
        "select count(*) from (select coverage_pct - lag(coverage_pct) over"
        " (partition by district_code order by month) as change"
        " from marts.fct_coverage_district_month) as t where abs(change) > %s",
        threshold,
    )[0]
    assert (
        changes
        == _one(conn, "select count(*) from dq.dq_outliers where check_name = 'coverage_change'")[0]
    )


# ---------------------------------------------------------------- 3. rollups


def test_province_and_national_rollups(built, conn):
    assert _one(
        conn, "select count(*), count(distinct month) from marts.fct_coverage_province_month"
    ) == (38 * 48, 48)
    month, residents, participants, coverage, meeting = _one(
        conn,
        "select month::text, residents, participants, coverage_pct, districts_meeting_uhc"
        " from marts.fct_coverage_national_month order by month desc limit 1",
    )
    assert month == "2025-12-01"
    sums = _one(
        conn,
        "select sum(residents), sum(participants), count(*) filter (where meets_uhc)"
        " from marts.fct_coverage_district_month where month = '2025-12-01'",
    )
    assert (residents, participants, meeting) == sums
    assert float(coverage) == pytest.approx(100 * float(participants) / float(residents))
    assert 97 <= float(coverage) <= 99


# ---------------------------------------------------------------- 4. denominators


def test_both_denominators_and_the_bridge(built, conn):
    counts = _one(
        conn,
        "select count(*), count(*) filter (where residents_source = 'dukcapil'"
        " and residents = residents_dukcapil), count(residents_bps)"
        " from marts.fct_coverage_district_month",
    )
    assert counts == (514 * 48, 514 * 48, 514 * 48)
    # Kutai Kartanegara is BPS 6403 and Kemendagri 64.02 (not BPS 6402, which is Kutai Barat)
    bps_6403, bps_6402 = (
        _one(
            conn,
            "select population from raw.bps_population where bps_code = %s and year = 2024",
            code,
        )[0]
        for code in ("6403", "6402")
    )
    residents_bps = _one(
        conn,
        "select residents_bps from marts.fct_coverage_district_month"
        " where district_code = '64.02' and month = '2024-07-01'",
    )[0]
    assert residents_bps == bps_6403 != bps_6402


def test_denominator_source_bps(built, conn):
    env, tmp = built["env"], built["tmp"]
    selection = ["-s", "int_residents_spread_to_months+", "--exclude", "test_type:unit"]
    try:
        _dbt(env, tmp, "build", *selection, "--full-refresh", "--vars", "{denominator_source: bps}")
        rows = _all(
            conn,
            "select district_code, residents_source, residents = residents_bps,"
            " residents_as_of_date::text, reported_under_code"
            " from marts.fct_coverage_district_month"
            " where month = '2023-03-01' and district_code in ('64.02', '93.01')"
            " order by district_code",
        )
        assert rows == [
            ("64.02", "bps", True, "2023-06-30", None),
            ("93.01", "bps", True, "2023-06-30", "91.01"),  # BPS via the 2020 bridge code
        ]
    finally:
        _dbt(env, tmp, "build", *selection, "--full-refresh")
    assert (
        _one(
            conn,
            "select count(*) from marts.fct_coverage_district_month"
            " where residents_source <> 'dukcapil'",
        )[0]
        == 0
    )


# ---------------------------------------------------------------- 5. population groups


def test_population_groups_dimension(built, conn):
    groups = dict(
        _all(
            conn,
            "select population_group_code, population_group_family"
            " from marts.dim_population_groups",
        )
    )
    assert len(groups) == 16
    assert {f: sum(v == f for v in groups.values()) for f in set(groups.values())} == {
        "jkn_segment": 6,
        "sex": 2,
        "age_band": 6,
        "prisoners": 1,
        "poverty": 1,
    }
    labels = _all(
        conn,
        "select label_id, valid_from_date::text from marts.dim_population_group_labels"
        " where population_group_code = 'pbi_apbd' order by valid_from_date",
    )
    assert [r[0] for r in labels] == ["PBI APBD", "Didaftarkan Pemda"]


def test_group_fact_rows(built, conn):
    rows = dict(
        _all(
            conn,
            "select population_group_family, count(*)"
            " from marts.fct_coverage_group_month group by 1",
        )
    )
    assert rows["jkn_segment"] == 514 * 48 * 6  # the segments' rows, unchanged
    assert rows["sex"] == 514 * 48 * 2
    assert rows["age_band"] == 514 * 48 * 6
    assert rows["poverty"] == 514 * 2
    months = [
        r[0]
        for r in _all(
            conn,
            "select distinct month::text from"
            " marts.fct_coverage_group_month where"
            " population_group_code = 'wbp' order by 1",
        )
    ]
    assert months == ["2024-06-01", "2024-12-01", "2025-06-01", "2025-12-01"]
    # sexes and age bands both add up to the segments' total; every group with residents has a
    # coverage
    assert (
        _one(
            conn,
            "select count(*) from (select district_code, month, population_group_family,"
            " sum(share_of_participants_pct) as total from marts.fct_coverage_group_month"
            " where population_group_family in ('jkn_segment', 'sex', 'age_band')"
            " group by 1, 2, 3) as t where abs(total - 100) > 1e-9",
        )[0]
        == 0
    )
    assert (
        _one(
            conn,
            "select count(*) from marts.fct_coverage_group_month"
            " where residents is not null and coverage_pct is null",
        )[0]
        == 0
    )


def test_segment_label_of_the_month(built, conn):
    labels = dict(
        _all(
            conn,
            "select month::text, label_id_published from marts.fct_coverage_group_month"
            " where district_code = '33.25' and population_group_code = 'pbi_apbd'"
            " and month in ('2023-12-01', '2024-01-01')",
        )
    )
    assert labels == {"2023-12-01": "PBI APBD", "2024-01-01": "Didaftarkan Pemda"}


def test_sex_and_age_denominators_are_dukcapil(built, conn):
    men, women, total = _one(
        conn,
        "select sum(residents) filter (where population_group_code = 'sex_male'),"
        " sum(residents) filter (where population_group_code = 'sex_female'),"
        " sum(residents) filter (where population_group_family = 'age_band')"
        " from marts.fct_coverage_group_month where month = '2024-03-01'",
    )
    dukcapil = _one(
        conn,
        "select sum(residents_male), sum(residents_female), sum(residents)"
        " from staging.stg_dukcapil__residents where semester_start_month = '2024-01-01'",
    )
    assert (men, women, total) == dukcapil


def test_prisoners_of_rutan_tanah_grogot(built, conn):
    rows = _all(
        conn,
        "select district_code, proposed from marts.fct_wbp_enrolment_facility"
        " where facility_name = 'Rutan Kelas IIB Tanah Grogot' and month = '2024-06-01'"
        " order by district_code",
    )
    assert rows == [("64.01", 338), ("64.09", 254)]  # Paser, Penajam Paser Utara
    inmates, enrolled = _one(
        conn,
        "select sum(inmates), sum(enrolled) from marts.fct_wbp_enrolment_facility"
        " where district_code = '64.09' and month = '2024-06-01'",
    )
    assert _one(
        conn,
        "select residents, participants from marts.fct_coverage_group_month"
        " where district_code = '64.09' and month = '2024-06-01'"
        " and population_group_code = 'wbp'",
    ) == (inmates, enrolled)


def test_poor_residents_are_deciles_1_to_4(built, conn):
    individuals, pbi = _one(
        conn,
        "select sum(individuals), sum(pbi_participants) from raw.dtsen_desil"
        " where _region_code = '53.01' and _period = '2025-06-01' and decile <= 4",
    )
    assert _one(
        conn,
        "select residents, participants from marts.fct_coverage_group_month"
        " where district_code = '53.01' and month = '2025-06-01'"
        " and population_group_code = 'dtsen_desil_1_4'",
    ) == (individuals, pbi)


# ---------------------------------------------------------------- 6. regions over time


def test_codes_over_time(built, conn):
    districts = {
        r[0]: r[1:]
        for r in _all(
            conn,
            "select district_code, valid_from::text, previous_codes from marts.dim_districts"
            " where district_code in ('11.01', '93.01', '96.01', '96.71')",
        )
    }
    assert districts == {
        "11.01": ("2018-01-01", None),
        "93.01": ("2023-01-01", "91.01"),  # Merauke, Papua Selatan since the 2022 split
        "96.01": ("2025-01-01", "92.01"),  # Kabupaten Sorong, Papua Barat Daya
        "96.71": ("2025-01-01", "92.71"),
    }
    assert _one(
        conn,
        "select successor_code, first_decree_year, last_decree_year"
        " from marts.dim_district_codes where region_code = '92.01'",
    ) == ("96.01", 2018, 2023)
    assert _one(
        conn,
        "select count(*), count(distinct district_code)"
        " from marts.dim_district_codes where is_current",
    ) == (514, 514)


def test_old_codes_are_reported_under_current_ones(built, conn):
    rows = _all(
        conn,
        "select extract(year from month)::int, count(*),"
        " array_agg(distinct reported_under_code) from marts.fct_coverage_group_month"
        " where district_code = '93.01' and population_group_family in ('sex', 'age_band')"
        " group by 1 order by 1",
    )
    assert rows[0] == (2022, 12 * 8, ["91.01"])  # BPJS still wrote 91.01 in 2022
    assert all(r[2] == [None] for r in rows[1:])
    assert (
        _one(
            conn,
            "select count(*) from marts.fct_coverage_group_month"
            " where reported_under_code is not null"
            " and month >= '2023-01-01'",
        )[0]
        == 0
    )


# ---------------------------------------------------------------- 7. incremental


def _transform(env: dict[str, str], tmp: Path, *args: str) -> str:
    """`cakupan transform` with the private dbt target folder of `_dbt`."""
    return _run(["transform", *args], {**env, "DBT_TARGET_PATH": str(tmp / "dbt_target")}, 900)


def _built(tmp: Path) -> list[str]:
    """The nodes the last `_transform` ran (its run_results.json)."""
    results = json.loads((tmp / "dbt_target" / "run_results.json").read_text())["results"]
    return [r["unique_id"] for r in results]


def test_a_new_month_does_not_rebuild_history(built, conn):
    env, tmp = built["env"], built["tmp"]
    facts = ("fct_coverage_district_month", "fct_coverage_group_month")

    def versions(table: str) -> dict[str, set[str]]:
        rows = _all(
            conn,
            f"select month::text, array_agg(distinct xmin::text)"  # noqa: S608
            f" from marts.{table} group by 1",
        )
        return {month: set(xmins) for month, xmins in rows}

    # a whole build keeps the sources' freshness (the demo's builds ran in Airflow)
    _transform(env, tmp)
    before = {t: versions(t) for t in facts}
    workbook = Path(env["CAKUPAN_SOURCES_DIR"]) / "bpjs" / "rekap_peserta_jkn_2025_11.xlsx"
    _run(["load", str(workbook)], env)  # a new load of November 2025
    # what the month changes (the facts, their rollups, the dq marts, the person reconciliation
    # that sets the recap beside the person-level count) and their data tests
    _transform(env, tmp, "--new-loads")
    assert len(_built(tmp)) == 28
    assert "model.cakupan.fct_person_reconciliation_district_month" in _built(tmp)
    assert "model.cakupan.person_status" not in _built(tmp)  # no person load: not rebuilt
    after = {t: versions(t) for t in facts}
    for table in facts:
        changed = {m for m in after[table] if after[table][m] != before[table].get(m)}
        assert changed == {"2025-11-01"}, table

    # nothing new: no month is rewritten, only the load log's marts are built (and `--after`,
    # the former form, runs the same)
    _transform(env, tmp, "--after", "bpjs_membership")
    assert {t: versions(t) for t in facts} == after
    assert {n.rsplit(".", 1)[-1] for n in _built(tmp) if n.startswith("model.")} == {
        "dq_loads",
        "dq_rejected_rows",
    }

    # a dimension a fact joins changes (here a rule's description, which no fact shows): each
    # month's inputs fingerprint changes, so the district fact rebuilds every month; the group
    # fact, which does not read the rules, none (built by name: nothing was loaded, so
    # `--new-loads` would not build them)
    with conn.cursor() as cur:
        cur.execute("update marts.dim_uhc_rules set description = description || ' (edited)'")
    conn.commit()
    _dbt(env, tmp, "build", "--select", *facts)
    rebuilt = {t: versions(t) for t in facts}
    district = "fct_coverage_district_month"
    assert all(rebuilt[district][m].isdisjoint(after[district][m]) for m in after[district])
    assert set(rebuilt[district]) == set(after[district])
    assert rebuilt["fct_coverage_group_month"] == after["fct_coverage_group_month"]
    with conn.cursor() as cur:  # as the seed has it again (the full refresh below rebuilds it)
        cur.execute(
            "update marts.dim_uhc_rules set description = left(description, -length(' (edited)'))"
        )
    conn.commit()
    _dbt(env, tmp, "build", "--select", *facts)

    orders = {
        "fct_coverage_district_month": "district_code, month",
        "fct_coverage_group_month": "district_code, month, population_group_code",
        "fct_coverage_province_month": "province_code, month",
        "fct_coverage_national_month": "month",
        "dq.dq_outliers": "district_code, month, check_name",
        "dq.dq_published_mismatches": "source_name, district_code, month, measure, detail",
    }
    incremental = {t: _checksum(conn, t, order) for t, order in orders.items()}
    _transform(env, tmp, "--full-refresh")
    assert {t: _checksum(conn, t, order) for t, order in orders.items()} == incremental


# ---------------------------------------------------------------- 9. the interface BI reads


def test_bi_interface_types_names_and_comments(built, conn):
    """Counts are integers, percentages numeric, codes text (the enforced contracts); names
    beside codes; the dq models in `dq`; descriptions stored as comments (persist_docs)."""
    types = dict(
        _all(
            conn,
            "select table_schema || '.' || table_name || '.' || column_name, data_type"
            " from information_schema.columns where table_schema in ('marts', 'dq')",
        )
    )
    for table in ("fct_coverage_district_month", "fct_coverage_group_month"):
        for column in ("participants", "active_participants", "residents"):
            assert types[f"marts.{table}.{column}"] == "bigint", (table, column)
        for column in ("district_code", "district_name", "province_code", "province_name"):
            assert types[f"marts.{table}.{column}"] == "text", (table, column)
        assert types[f"marts.{table}.coverage_pct"] == "numeric"
    for table in ("fct_coverage_province_month", "fct_coverage_national_month"):
        assert types[f"marts.{table}.participants"] == "bigint"
        assert types[f"marts.{table}.districts_meeting_uhc"] == "bigint"
        assert types[f"marts.{table}.active_pct"] == "numeric"
    assert types["marts.fct_coverage_province_month.province_name"] == "text"
    assert types["marts.fct_wbp_enrolment_facility.district_name"] == "text"
    assert not any(name.startswith("marts.dq_") for name in types)
    assert types["dq.dq_loads.rows_read"] == "integer"
    named = _one(
        conn,
        "select count(*), count(*) filter (where fact.district_name = dim.district_name"
        " and fact.province_name = dim.province_name and fact.province_code = dim.province_code)"
        " from marts.fct_coverage_district_month as fact"
        " join marts.dim_districts as dim using (district_code)",
    )
    assert named[0] > 0 and named[0] == named[1]
    comments = _one(
        conn,
        "select obj_description('marts.fct_coverage_district_month'::regclass),"
        " col_description('marts.fct_coverage_district_month'::regclass, ("
        "   select attnum from pg_attribute"
        "   where attrelid = 'marts.fct_coverage_district_month'::regclass"
        "   and attname = 'district_name')),"
        " obj_description('dq.dq_loads'::regclass)",
    )
    assert all(comments), comments


# ---------------------------------------------------------------- 10. dbt unit tests and docs


def test_dbt_unit_tests_and_docs(built):
    env, tmp = built["env"], built["tmp"]
    out = _dbt(env, tmp, "test", "--select", "test_type:unit")
    assert "ERROR=0" in out and "FAIL" not in out.replace("FAIL=0", "")
    _dbt(env, tmp, "docs", "generate")
    assert (tmp / "dbt_target" / "catalog.json").is_file()


def test_the_database_refuses_rows_the_contracts_forbid(built, conn):
    """The row rules are constraints of the contracts: PostgreSQL refuses a bad row as it is
    written, whichever process writes it (an incremental month included)."""
    import psycopg2

    statements = {
        "check": "update marts.fct_coverage_district_month set coverage_pct = -1"
        " where month = (select max(month) from marts.fct_coverage_district_month)",
        "not_null": "update marts.fct_coverage_district_month set district_code = null",
        "unique": "insert into marts.fct_coverage_group_month select * from"
        " marts.fct_coverage_group_month limit 1",
        "accepted": "update marts.dim_districts set district_type = 'kecamatan'",
    }
    sqlstates = {}
    for name, statement in statements.items():
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
        except psycopg2.Error as exc:
            sqlstates[name] = exc.pgcode
        conn.rollback()
    # check_violation, not_null_violation, unique_violation, check_violation
    assert sqlstates == {
        "check": "23514",
        "not_null": "23502",
        "unique": "23505",
        "accepted": "23514",
    }
