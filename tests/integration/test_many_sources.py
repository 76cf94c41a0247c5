"""Many partial sources, one truth (docs/CONTRACTS.md, "Feeding the warehouse's measures").

One warehouse of its own, loaded with `cakupan load` and built with `cakupan transform` (real
PostgreSQL, real dbt): the national recap for October..December 2025, a branch office's table in
a layout of its own (before the national recap for October, after it for December), and a made-up
Dinkes recap for January 2026 that no other source gives. The contracts of the branch and of the
Dinkes recap live in an office's own folder (`CAKUPAN_CONTRACTS_DIR`): onboarding them takes a
contract and nothing else. The tests run in file order on the same warehouse.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

pytestmark = pytest.mark.integration

CAKUPAN = [sys.executable, "-m", "cakupan.cli"]

BRANCH_CONTRACT = """
name: bpjs_kc_samarinda
publisher: bpjs_kesehatan
description: A made-up branch layout (KC Samarinda), six kab/kota of Kalimantan Timur.
kind: csv
path: kc_samarinda/kc_samarinda_*.csv
fields:
  wilayah: {aliases: [Kabupaten/Kota], required: true}
  peserta: {aliases: [Peserta], type: integer, required: true, measure: participants}
  aktif: {aliases: [Aktif], type: integer, measure: participants_active}
  non_aktif: {aliases: [Non Aktif], type: integer, measure: participants_inactive}
  penduduk: {aliases: [Penduduk], type: integer, measure: residents_published}
  cakupan: {aliases: [Cakupan (%)], type: percent, measure: coverage_pct_published}
period: {from: filename, pattern: '_(\\d{4}-\\d{2})\\.csv$'}
region: {field: wilayah, system: name}
feeds: {dataset: jkn_membership, grain: month, coverage: partial}
raw_table: raw.bpjs_kc_samarinda
"""

DINKES_CONTRACT = """
name: dinkes_rekap_jkn
publisher: dinkes
description: A made-up national recap by a health office, keyed by Kemendagri codes.
kind: csv
path: dinkes/rekap_dinkes_jkn_*.csv
fields:
  kode_wilayah: {aliases: [KODE WILAYAH], required: true}
  nama: {aliases: [NAMA KAB/KOTA]}
  jml_peserta: {aliases: [JML PESERTA JKN], type: integer, required: true, measure: participants}
  peserta_aktif: {aliases: [PESERTA AKTIF], type: integer, measure: participants_active}
  jml_penduduk: {aliases: [JML PENDUDUK], type: integer, measure: residents_published}
period: {from: filename, pattern: '_(\\d{4}-\\d{2})\\.csv$'}
region: {field: kode_wilayah, system: kemendagri}
feeds: {dataset: jkn_membership, grain: month}
raw_table: raw.dinkes_rekap_jkn
"""

KALTIM = {  # name as the branch writes it -> Kemendagri code
    "Kota Samarinda": "64.72",
    "Kab. Kutai Kartanegara": "64.02",
    "Kota Bontang": "64.74",
    "Kab. Kutai Timur": "64.08",
    "Kab. Kutai Barat": "64.07",
    "Kab. Mahakam Ulu": "64.11",
}


def _run(args, env, *, ok=True, timeout=900) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*CAKUPAN, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    if ok:
        assert result.returncode == 0, (args, result.stdout[-3000:] + result.stderr[-3000:])
    return result


def _one(conn, query, *params):
    with conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    conn.rollback()
    return row[0] if row is not None and len(row) == 1 else row


def _all(conn, query, *params):
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    conn.rollback()
    return rows


def _write_csv(path: Path, header: list[str], rows: list[list], delimiter=";") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _branch(sources: Path, month: str, figures: dict[str, tuple]) -> Path:
    """The branch table: name, participants, active, non-active, residents, coverage."""
    rows = [[name, *figures[name]] for name in KALTIM]
    return _write_csv(
        sources / "kc_samarinda" / f"kc_samarinda_{month}.csv",
        ["Kabupaten/Kota", "Peserta", "Aktif", "Non Aktif", "Penduduk", "Cakupan (%)"],
        rows,
        delimiter=",",
    )


def _national(conn, month: str) -> dict[str, tuple[int, int, int]]:
    """district -> (participants, active, residents published) of the national recap."""
    rows = _all(
        conn,
        "select region_code,"
        " max(value) filter (where measure = 'participants' and group_code = 'all'),"
        " sum(value) filter (where measure = 'participants_active'),"
        " max(value) filter (where measure = 'residents_published')"
        " from raw.observations_jkn_membership o join raw.loads l using (load_id)"
        " where o.source = 'bpjs_membership' and o.period = %s and l.superseded_by is null"
        " group by region_code",
        f"{month}-01",
    )
    return {code: (int(p), int(a), int(r)) for code, p, a, r in rows}


@pytest.fixture(scope="module")
def wh(pg_server, tmp_path_factory, clean_env):
    name = f"cakupan_many_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**pg_server.dsn_kwargs())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    params = pg_server.replace(dbname=name)
    tmp = tmp_path_factory.mktemp("many")
    contracts = tmp / "contracts"
    contracts.mkdir()
    (contracts / "bpjs_kc_samarinda.yml").write_text(BRANCH_CONTRACT)
    (contracts / "dinkes_rekap_jkn.yml").write_text(DINKES_CONTRACT)
    env = dict(clean_env)
    env.update(
        AIRFLOW_CONN_WAREHOUSE=params.url(mask=False),
        CAKUPAN_SOURCES_DIR=str(tmp / "sources"),
        CAKUPAN_CONTRACTS_DIR=str(contracts),
        DBT_TARGET_PATH=str(tmp / "dbt_target"),
    )
    sources = tmp / "sources"
    _run(["demo", "generate", "--out", str(sources)], env, timeout=600)
    conn = psycopg2.connect(**params.dsn_kwargs())
    base = [
        sources / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv",
        sources / "bps" / "bridge_kode_bps_kemendagri_2020.csv",
        sources / "dukcapil" / "penduduk_kabkota_2025_s2.csv",
    ]
    _run(["load", *map(str, base)], env)
    # October: the branch first (made-up figures), then the national recap
    branch_oct = {n: (1000, 900, 100, 2000, "50,00") for n in KALTIM}
    _run(["load", str(_branch(sources, "2025-10", branch_oct))], env)
    months = [sources / "bpjs" / f"rekap_peserta_jkn_2025_{m}.xlsx" for m in ("10", "11", "12")]
    _run(["load", *map(str, months)], env)
    # December: the branch after the national recap, its figures the national ones except
    # Samarinda's participants (+5 %) and Bontang's published coverage (contradicts its own)
    national = _national(conn, "2025-12")
    dec = {}
    for name, code in KALTIM.items():
        participants, active, residents = national[code]
        if name == "Kota Samarinda":
            participants = round(participants * 1.05)
        coverage = 100.0 * participants / residents
        if name == "Kota Bontang":
            coverage += 7
        dec[name] = (participants, active, participants - active, residents, f"{coverage:.2f}")
    _run(["load", str(_branch(sources, "2025-12", dec))], env)
    _run(["transform"], env)
    yield {"env": env, "conn": conn, "sources": sources, "national_dec": national, "tmp": tmp}
    conn.close()
    with admin.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
        )
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
    admin.close()


def test_a_branch_table_never_erases_the_national_recap(wh):
    conn = wh["conn"]
    for month in ("2025-10-01", "2025-12-01"):
        districts, sources = _one(
            conn,
            "select count(*) filter (where has_membership_data),"
            " array_agg(distinct membership_source) from marts.fct_coverage_district_month"
            " where month = %s",
            month,
        )
        assert (districts, sources) == (514, ["bpjs_membership"]), month
    # the national values, not the branch's
    samarinda = _one(
        conn,
        "select participants from marts.fct_coverage_district_month"
        " where district_code = '64.72' and month = '2025-12-01'",
    )
    assert samarinda == wh["national_dec"]["64.72"][0]
    national_oct = _one(
        conn,
        "select sum(participants) from marts.fct_coverage_district_month"
        " where month = '2025-10-01' and district_code = any(%s)",
        list(KALTIM.values()),
    )
    assert national_oct > 6 * 1000  # the branch's made-up 1,000 per kab/kota is not taken


def test_the_branch_values_stay_as_alternatives(wh):
    rows = _all(
        wh["conn"],
        "select month::text, source_name, is_picked, count(*)"
        " from marts.fct_membership_sources_month where district_code = any(%s)"
        " group by 1, 2, 3 order by 1, 2",
        list(KALTIM.values()),
    )
    assert rows == [
        ("2025-10-01", "bpjs_kc_samarinda", False, 6),
        ("2025-10-01", "bpjs_membership", True, 6),
        ("2025-11-01", "bpjs_membership", True, 6),
        ("2025-12-01", "bpjs_kc_samarinda", False, 6),
        ("2025-12-01", "bpjs_membership", True, 6),
    ]
    participants = _one(
        wh["conn"],
        "select participants from marts.fct_membership_sources_month"
        " where district_code = '64.72' and month = '2025-12-01' and source_name = %s",
        "bpjs_kc_samarinda",
    )
    assert participants == round(wh["national_dec"]["64.72"][0] * 1.05)


def test_a_disagreement_is_listed_with_both_sources_and_loads(wh):
    conn = wh["conn"]
    rows = _all(
        conn,
        "select district_code, measure, source_name, value::bigint, other_source_name,"
        " other_value::bigint, load_id is not null and other_load_id is not null"
        " from dq.dq_source_disagreements where month = '2025-12-01' order by 1, 2",
    )
    national = wh["national_dec"]["64.72"][0]
    assert [r[:3] + r[4:5] for r in rows] == [
        ("64.72", "coverage_pct_published", "bpjs_membership", "bpjs_kc_samarinda"),
        ("64.72", "participants", "bpjs_membership", "bpjs_kc_samarinda"),
        ("64.74", "coverage_pct_published", "bpjs_membership", "bpjs_kc_samarinda"),
    ]
    assert rows[1][3:] == (national, "bpjs_kc_samarinda", round(national * 1.05), True)
    assert all(r[6] for r in rows)
    # October: every kab/kota of the branch disagrees (1,000 participants)
    assert (
        _one(
            conn,
            "select count(distinct district_code) from dq.dq_source_disagreements"
            " where month = '2025-10-01' and other_source_name = 'bpjs_kc_samarinda'"
            " and measure = 'participants'",
        )
        == 6
    )


def test_a_sources_own_contradiction_is_flagged(wh):
    rows = _all(
        wh["conn"],
        "select source_name, district_code, measure, round(difference, 2)"
        " from dq.dq_published_mismatches where month = '2025-12-01'"
        " and source_name = 'bpjs_kc_samarinda'",
    )
    assert [(s, d, m) for s, d, m, _ in rows] == [("bpjs_kc_samarinda", "64.74", "coverage_pct")]
    assert abs(rows[0][3] - 7) < 0.01


def test_a_made_up_layout_reaches_the_facts_with_only_a_contract(wh):
    conn, env, sources = wh["conn"], wh["env"], wh["sources"]
    national = wh["national_dec"]
    rows = [[code, "", round(p * 1.01), round(a * 1.01), r] for code, (p, a, r) in national.items()]
    path = _write_csv(
        sources / "dinkes" / "rekap_dinkes_jkn_2026-01.csv",
        ["KODE WILAYAH", "NAMA KAB/KOTA", "JML PESERTA JKN", "PESERTA AKTIF", "JML PENDUDUK"],
        rows,
    )
    check = _run(["sources", "check", str(path)], env)
    assert "dinkes_rekap_jkn" in check.stdout
    _run(["load", str(path)], env)
    _run(["transform"], env)
    districts, source, participants = _one(
        conn,
        "select count(*) filter (where has_membership_data), max(membership_source),"
        " sum(participants) from marts.fct_coverage_district_month where month = '2026-01-01'",
    )
    assert (districts, source) == (514, "dinkes_rekap_jkn")
    assert participants == sum(round(p * 1.01) for p, _, _ in national.values())
    active = _one(
        conn,
        "select active_participants from marts.fct_coverage_district_month"
        " where month = '2026-01-01' and district_code = '64.02'",
    )
    assert active == round(national["64.02"][1] * 1.01)


def test_a_shrinking_delivery_is_refused_unless_allowed(wh):
    conn, env, sources = wh["conn"], wh["env"], wh["sources"]
    national = wh["national_dec"]
    path = sources / "dinkes" / "rekap_dinkes_jkn_2026-01.csv"
    with path.open(encoding="utf-8") as f:
        lines = f.readlines()
    path.write_text("".join(lines[:11]), encoding="utf-8")  # 10 of 514 rows
    loads_before = _one(conn, "select count(*) from raw.loads where status = 'succeeded'")
    refused = _run(["load", str(path)], env, ok=False)
    assert refused.returncode != 0
    message = refused.stderr + refused.stdout
    assert "refusing to replace dinkes_rekap_jkn 2026-01" in message
    assert "this load has 10 rows in 10 regions" in message
    assert "514 rows in 514 regions" in message and "--allow-shrink" in message
    assert _one(conn, "select count(*) from raw.loads where status = 'succeeded'") == loads_before
    # the facts still read the full delivery
    assert _one(
        conn,
        "select count(*) from raw.observations_jkn_membership o where o.period = '2026-01-01'"
        " and o.measure = 'participants' and o.load_id = (select max(load_id) from raw.loads"
        " where source = 'dinkes_rekap_jkn' and status = 'succeeded')",
    ) == len(national)


def test_a_month_that_loses_its_districts_fails_the_transform(wh):
    conn, env, sources = wh["conn"], wh["env"], wh["sources"]
    facts_before = _all(
        conn,
        "select month, count(*), sum(participants) from marts.fct_coverage_district_month"
        " group by 1 order by 1",
    )
    national = wh["national_dec"]
    rows = [[code, "", p, a, r] for code, (p, a, r) in list(national.items())[:10]]
    path = _write_csv(
        sources / "dinkes" / "rekap_dinkes_jkn_2026-02.csv",
        ["KODE WILAYAH", "NAMA KAB/KOTA", "JML PESERTA JKN", "PESERTA AKTIF", "JML PENDUDUK"],
        rows,
    )
    _run(["load", str(path)], env)  # a first delivery of its month: no earlier load to shrink
    failed = _run(["transform"], env, ok=False)
    assert failed.returncode != 0
    report = failed.stderr
    assert "months_keep_their_districts_int_memberships_picked" in report
    assert "month=2026-02-01, check_name=districts" in report
    assert "value=10, previous_month=2026-01-01, previous_value=514" in report
    assert "source_loads=dinkes_rekap_jkn:" in report
    # the marts keep their last good state
    assert (
        _all(
            conn,
            "select month, count(*), sum(participants) from marts.fct_coverage_district_month"
            " group by 1 order by 1",
        )
        == facts_before
    )


def test_removing_the_newer_load_brings_the_older_one_back(wh):
    conn, env, sources = wh["conn"], wh["env"], wh["sources"]
    # the month the guard refused goes: removed by its file, the facts build again
    _run(
        ["loads", "remove", "--file", str(sources / "dinkes" / "rekap_dinkes_jkn_2026-02.csv")], env
    )
    workbook = sources / "bpjs" / "rekap_peserta_jkn_2025_12.xlsx"
    latest = (
        "select max(load_id) from raw.loads where source = 'bpjs_membership'"
        " and status = 'succeeded' and source_file like '%%2025_12%%'"
    )
    first = _one(conn, latest)
    _run(["load", str(workbook)], env)  # a rerun of the same file supersedes the first load
    second = _one(conn, latest)
    assert second > first
    assert _one(conn, "select superseded_by from raw.loads where load_id = %s", first) == second
    observations = "select count(*) from raw.observations_jkn_membership where load_id = %s"
    kept = _one(conn, observations, first)
    assert kept == _one(conn, observations, second) > 0  # superseded, not deleted
    _run(["transform"], env)
    assert _one(
        conn,
        "select array_agg(distinct load_id) from marts.fct_coverage_district_month"
        " where month = '2025-12-01'",
    ) == [second]

    _run(["loads", "remove", str(second)], env)
    assert _one(conn, "select status from raw.loads where load_id = %s", second) == "removed"
    assert _one(conn, observations, second) == 0
    assert _one(conn, "select superseded_by from raw.loads where load_id = %s", first) is None
    _run(["transform"], env)
    assert _one(
        conn,
        "select array_agg(distinct load_id), count(*) filter (where has_membership_data)"
        " from marts.fct_coverage_district_month where month = '2025-12-01'",
    ) == ([first], 514)
