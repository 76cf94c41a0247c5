"""Person-level matching, status, worklists and desa coverage (docs/PERSONS.md), on a warehouse
of its own (real PostgreSQL, real dbt): the demo's aggregate sources for June 2025, then a
generated Kutai Kartanegara of a few thousand residents (`cakupan.demo.persons`) whose truth
file says which rows are the same person. The tests compare keyed values and counts, never a
NIK or a name.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
import psycopg2
import pytest
from psycopg2 import sql

pytestmark = pytest.mark.integration

CAKUPAN = [sys.executable, "-m", "cakupan.cli"]
RESIDENTS = 4000
PERSON_KEY = "test-person-key-" + "x" * 32
DATASETS = ("register", "membership", "dtsen", "wbp")
PERSONAL_COLUMN = re.compile(r"(^|_)(nik|kk|nama|alamat|address|birth|rt|rw)(_|$)|full_name")


def _run(args, env, timeout=900) -> str:
    result = subprocess.run(
        [*CAKUPAN, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (args, result.stdout[-3000:] + result.stderr[-3000:])
    return result.stdout


def _all(params, query, *args):
    with psycopg2.connect(**params.dsn_kwargs()) as conn, conn.cursor() as cur:
        cur.execute(query, args or None)
        return cur.fetchall()


def _land(params, env, files) -> None:
    """The four person files through the person landing (`cakupan load`); the round trip's
    table as its landing creates it, when this branch has no round trip yet."""
    _run(["load", *(str(getattr(files, dataset)) for dataset in DATASETS)], env)
    with psycopg.connect(**params.dsn_kwargs()) as conn:
        conn.execute(
            "create table if not exists persons.worklist_verifications ("
            " worklist_id text not null, status text not null, verified_by text,"
            " verified_on date, load_id bigint, loaded_at timestamptz)"
        )
        conn.commit()


@pytest.fixture(scope="module")
def wh(pg_server, tmp_path_factory, clean_env):
    """The warehouse: aggregates built with no person data first (kept as `empty`), then the
    person files landed and everything built again."""
    name = f"cakupan_persons_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**pg_server.dsn_kwargs())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    params = pg_server.replace(dbname=name)
    tmp = tmp_path_factory.mktemp("persons")
    sources = tmp / "sources"
    env = dict(clean_env)
    env.update(
        AIRFLOW_CONN_WAREHOUSE=params.url(mask=False),
        CAKUPAN_SOURCES_DIR=str(sources),
        CAKUPAN_PERSON_KEY=PERSON_KEY,
    )
    build = ["dbt", "build", "--target-path", str(tmp / "dbt_target")]
    _run(["demo", "generate", "--out", str(sources)], env, timeout=600)
    _run(
        [
            "load",
            str(sources / "kemendagri" / "kode_wilayah_kepmendagri_2025.csv"),
            str(sources / "bps" / "bridge_kode_bps_kemendagri_2020.csv"),
            str(sources / "dukcapil" / "penduduk_kabkota_2025_s1.csv"),
            str(sources / "bpjs" / "rekap_peserta_jkn_2025_06.xlsx"),
        ],
        env,
    )
    _run(build, env)
    empty = {
        relation: _all(params, f"select count(*) from {relation}")[0][0]  # noqa: S608 - constant
        for relation in ("persons.person_status", "persons.worklist_items",
                         "marts.fct_coverage_desa_month", "marts.fct_coverage_district_month")
    }  # fmt: skip
    from cakupan.demo.persons import generate_persons

    files = generate_persons(sources / "persons", residents=RESIDENTS)
    _land(params, env, files)
    _run(build, env)
    yield {"params": params, "env": env, "files": files, "empty": empty, "build": build}
    with admin.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (name,)
        )
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
    admin.close()


def _truth(files) -> dict[tuple[str, int], int | None]:
    with files.truth.open(encoding="utf-8", newline="") as f:
        return {
            (row["dataset"], int(row["row_number"])): int(row["person_id"])
            if row["person_id"]
            else None
            for row in csv.DictReader(f)
        }


def _links(params) -> list[tuple[str, int, int | None]]:
    """(dataset, row number, register row number or None) of every linked-to-be record."""
    return _all(
        params,
        "select records.dataset, records.row_number, register.row_number"
        " from restricted.int_person_links as links"
        " join restricted.current_person_records as records on records.record_id = links.record_id"
        " left join restricted.person_records as register"
        "   on register.record_id = links.register_record_id",
    )


def _quality(wh) -> dict[str, float]:
    truth = _truth(wh["files"])
    links = _links(wh["params"])
    made = [(ds, row, linked) for ds, row, linked in links if linked is not None]
    correct = sum(1 for ds, row, linked in made if truth[(ds, row)] == linked)
    expected = sum(1 for (ds, _), person in truth.items() if ds != "register" and person)
    return {
        "links": len(links),
        "precision": correct / len(made),
        "recall": correct / expected,
        "errors": len(made) - correct + expected - correct,
    }


def test_a_warehouse_without_person_data_builds(wh):
    empty = wh["empty"]
    assert empty["persons.person_status"] == 0
    assert empty["persons.worklist_items"] == 0
    assert empty["marts.fct_coverage_desa_month"] == 0
    assert empty["marts.fct_coverage_district_month"] == 514


def test_every_record_is_linked_or_not_with_evidence(wh):
    rows = dict(
        _all(
            wh["params"],
            "select match_kind, count(*) from restricted.int_person_links"
            " where evidence is not null and match_probability between 0 and 1 group by 1",
        )
    )
    records = _all(
        wh["params"],
        "select count(*) from restricted.current_person_records where dataset <> 'register'",
    )[0][0]
    assert sum(rows.values()) == records
    assert rows["nik"] > rows["probable"] > 0
    assert rows["none"] > 0  # BPJS members the register does not have


def test_matching_meets_its_precision_and_recall_goals(wh):
    quality = _quality(wh)
    assert quality["precision"] >= 0.99, quality
    assert quality["recall"] >= 0.97, quality


def _file_rows(path: Path) -> list[dict[str, str]]:
    """A generated file's rows by header (the WBP workbook's sheet `WBP`)."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("WBP").to_python()
        header = [str(h) for h in sheet[0]]
        return [
            {h: "" if v is None else str(v) for h, v in zip(header, row, strict=False)}
            for row in sheet[1:]
        ]
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _expected_lists(files) -> dict[str, int]:
    """The worklists' sizes the truth implies (docs/PERSONS.md, "Worklists")."""
    truth = _truth(files)
    register = _file_rows(files.register)
    cards: dict[int, list[dict[str, str]]] = defaultdict(list)
    for number, row in enumerate(_file_rows(files.membership), start=1):
        person = truth[("membership", number)]
        if person:
            cards[person].append(row)
    desil: dict[int, int] = {}
    for number, row in enumerate(_file_rows(files.dtsen), start=1):
        person = truth[("dtsen", number)]
        if person:
            desil[person] = min(desil.get(person, 10), int(row["DESIL"]))
    counts = defaultdict(int)
    for number, row in enumerate(register, start=1):
        alive = row["STATUS_HIDUP"] != "MATI"
        own = cards.get(number, [])
        active = [c for c in own if c["STATUS_PESERTA"] == "AKTIF"]
        if not alive:
            counts["dead_still_active"] += bool(active)
            continue
        counts["not_enrolled"] += not own
        counts["inactive"] += bool(own) and not active
        pbi = any(c["SEGMEN"] in ("PBI APBN", "PBI APBD") for c in active)
        counts["pbi_apbd_candidate"] += desil.get(number, 10) <= 4 and not pbi
    membership = _file_rows(files.membership)
    active_niks = {r["NIK"] for r in membership if r["STATUS_PESERTA"] == "AKTIF" and r["NIK"]}
    prisoners = set()
    for number, row in enumerate(_file_rows(files.wbp), start=1):
        person = truth[("wbp", number)]
        if person:
            if not any(c["STATUS_PESERTA"] == "AKTIF" for c in cards.get(person, [])):
                prisoners.add(("register", person))
        elif row["NIK"] not in active_niks:
            prisoners.add(("wbp", number))
    counts["wbp_without_jkn"] = len(prisoners)
    return dict(counts)


def test_worklists_have_the_sizes_the_truth_implies(wh):
    expected = _expected_lists(wh["files"])
    got = dict(
        _all(wh["params"], "select list_kind, count(*) from persons.worklist_items group by 1")
    )
    # every matching error can move one person in or out of a list
    tolerance = _quality(wh)["errors"]
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for kind, count in expected.items():
        assert count > 0, kind
        assert abs(got[kind] - count) <= tolerance, (kind, got[kind], count, tolerance)


def test_desa_figures_roll_up_to_the_register_and_the_district(wh):
    register = _file_rows(wh["files"].register)
    alive = sum(1 for row in register if row["STATUS_HIDUP"] != "MATI")
    desa = _all(
        wh["params"],
        "select count(*), sum(residents), sum(participants), sum(active_participants)"
        " from marts.fct_coverage_desa_month where district_code = '64.02'",
    )[0]
    district = _all(
        wh["params"],
        "select register_residents, person_participants, bpjs_recap_participants"
        " from marts.fct_person_reconciliation_district_month where district_code = '64.02'",
    )[0]
    assert desa[1] == alive == district[0]
    assert desa[2] == district[1]
    assert 0 < desa[3] < desa[2] < desa[1]
    assert desa[0] > 200  # Kukar's 237 desa/kelurahan, nearly all with residents
    assert district[2] is not None  # the aggregate recap of June 2025 beside it


def test_reconciliation_explains_the_master(wh):
    rows = _all(
        wh["params"],
        "select sum(membership_records), sum(person_participants - moved_in + duplicate_cards"
        " + dead + moved_out + not_in_register + unmatched), sum(not_in_register),"
        " sum(duplicate_cards), sum(moved_out), sum(dead)"
        " from marts.fct_person_reconciliation_district_month",
    )[0]
    records = sum(1 for _ in _file_rows(wh["files"].membership))
    assert rows[0] == rows[1] == records
    counts = wh["files"].counts
    # BPJS members the register lacks, the dead with a card, the second cards, the movers
    assert rows[2] >= counts["membership_not_in_register"] * 0.9
    assert rows[3] > 0 and rows[4] > 0 and rows[5] > 0


def test_no_personal_column_outside_restricted(wh):
    columns = _all(
        wh["params"],
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('persons', 'marts')",
    )
    assert {c[1] for c in columns} >= {"person_status", "worklist_items", "fct_coverage_desa_month"}
    personal = [c for c in columns if PERSONAL_COLUMN.search(c[2])]
    assert personal == []


def test_worklist_ids_are_stable_and_take_the_latest_verification(wh):
    params, env = wh["params"], wh["env"]
    before = dict(
        _all(
            params,
            "select worklist_id, record_id from persons.worklist_items"
            " where person_key not like 'r%' and person_key not like 'w%'",
        )
    )
    some = sorted(before)[:2]
    with psycopg.connect(**params.dsn_kwargs()) as conn:
        conn.execute(
            "insert into persons.worklist_verifications values"
            " (%s, 'not_found', 'petugas a', '2025-07-01', 1, now()),"
            " (%s, 'verified', 'petugas b', '2025-07-03', 1, now()),"
            " (%s, 'moved', 'petugas c', '2025-07-02', 1, now())",
            (some[0], some[0], some[1]),
        )
        conn.commit()
    # the same files again: new loads, new record ids, the same people
    _land(params, env, wh["files"])
    _run(wh["build"], env)
    after = dict(
        _all(
            params,
            "select worklist_id, record_id from persons.worklist_items"
            " where person_key not like 'r%' and person_key not like 'w%'",
        )
    )
    assert set(after) == set(before)
    assert not set(after.values()) & set(before.values())
    statuses = _all(
        params,
        "select worklist_id, status, verified_by, verified_on::text from persons.worklist_items"
        " where worklist_id = any(%s) order by worklist_id",
        some,
    )
    assert statuses == [
        (some[0], "verified", "petugas b", "2025-07-03"),
        (some[1], "moved", "petugas c", "2025-07-02"),
    ]
