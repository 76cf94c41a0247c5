"""Worklists and the round trip, on a real PostgreSQL: `cakupan worklist` writes one XLSX per
kecamatan with a sheet per desa (read back with python-calamine), formula-like names stay text,
the command prints paths and counts but never a name or a NIK, and a returned workbook loads
back through `cakupan load --contract worklist_verification` (unknown ids and results rejected
without values; reloading the same workbook replaces its own earlier load).

The person tables are fixture rows in the spec's shapes (docs/PERSONS.md): synthetic people.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from cakupan.cli import main
from cakupan.landing.person_schema import ensure_person_schema
from cakupan.landing.raw import ensure_landing_schema
from cakupan.parsing.worklist import COLUMNS
from cakupan.pipeline import run_dbt
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.integration

JUNE, MAY = dt.date(2025, 6, 1), dt.date(2025, 5, 1)
# (record_id, desa, nik, kk, name, sex, birth date, address, rt, rw)
PEOPLE = [
    (1, "64.02.01.2001", "6402011203850001", "6402010101100001", '=HYPERLINK("http://x","klik")',
     "L", dt.date(1985, 3, 12), "Jl. Mangkurawang No. 5", "003", "001"),
    (2, "64.02.01.2001", "6402015507900002", "6402010101100002", "-Ani", "P",
     dt.date(1990, 7, 15), "+62 Gang Mawar", "004", "002"),
    (3, "64.02.01.2002", "6402010202800003", "6402010101100003", "@Budi Santoso", "L",
     dt.date(1980, 2, 2), "Jl. Poros", "001", "001"),
    (4, "64.02.01.2002", "6402016108750004", "6402010101100004", "Siti Rahmah", "P",
     dt.date(1975, 8, 21), "Jl. Poros", "001", "001"),
    (5, "64.02.02.2004", "6402020303700005", "6402020101100005", "Muhammad Yusuf", "L",
     dt.date(1970, 3, 3), "Jl. Danau", "002", "003"),
    (6, "64.02.02.2004", "6402024404600006", "6402020101100006", "Hj. Aminah", "P",
     dt.date(1960, 4, 4), "Jl. Danau", "002", "003"),
]  # fmt: skip
# (worklist_id, list_kind, period, desa, record_id, detail)
ITEMS = [
    ("a0000000000000000001", "not_enrolled", JUNE, "64.02.01.2001", 1, None),
    ("a0000000000000000002", "inactive", JUNE, "64.02.01.2001", 2, "MENUNGGAK IURAN"),
    ("a0000000000000000003", "pbi_apbd_candidate", JUNE, "64.02.01.2002", 3, "2"),
    ("a0000000000000000004", "not_enrolled", JUNE, "64.02.01.2002", 4, None),
    ("a0000000000000000005", "dead_still_active", JUNE, "64.02.02.2004", 5, "PBPU"),
    (
        "a0000000000000000006",
        "wbp_without_jkn",
        JUNE,
        "64.02.02.2004",
        6,
        "Rutan Kelas IIA Tenggarong",
    ),
    ("a0000000000000000004", "not_enrolled", MAY, "64.02.01.2002", 4, None),
]

# persons.worklist_items as the spec shapes it (the dbt model of the matching builds it)
ITEMS_DDL = """
drop schema if exists persons cascade;
drop schema if exists restricted cascade;
drop schema if exists reference cascade;
create schema persons;
create table persons.worklist_items (
    worklist_id text not null, list_kind text not null, period date not null,
    district_code text not null, kecamatan_code text, desa_code text, record_id bigint,
    person_key text, detail text, status text, verified_by text, verified_on date,
    primary key (worklist_id, period)
);
"""


@pytest.fixture()
def persons_db(db, warehouse, monkeypatch):
    """The fixture person tables, and the CLI pointed at the test database."""
    with db.cursor() as cur:
        cur.execute(ITEMS_DDL)
    db.commit()
    ensure_landing_schema(db)
    ensure_person_schema(db)  # restricted.person_records, reference.wilayah (the real codes)
    with db.cursor() as cur:
        for rid, desa, nik, kk, name, sex, born, address, rt, rw in PEOPLE:
            cur.execute(
                "insert into restricted.person_records (record_id, load_id, row_number,"
                " district_code, kecamatan_code, desa_code, nik, nik_status, kk, full_name, sex,"
                " birth_date, address, rt, rw) values (%s, 1, %s, '64.02', %s, %s, %s, 'valid',"
                " %s, %s, %s, %s, %s, %s, %s)",
                (rid, rid, desa[:8], desa, nik, kk, name, sex, born, address, rt, rw),
            )
        for wid, kind, period, desa, rid, detail in ITEMS:
            cur.execute(
                "insert into persons.worklist_items (worklist_id, list_kind, period,"
                " district_code, kecamatan_code, desa_code, record_id, person_key, detail)"
                " values (%s, %s, %s, '64.02', %s, %s, %s, md5(%s::text), %s)",
                (wid, kind, period, desa[:8], desa, rid, rid, detail),
            )
    db.commit()
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    return db


def _leaks(text: str) -> list:
    """The fixture records whose NIK, No. KK or name is in `text`, and "16 digits" when a
    16-digit number is: keys only, so a failing assert shows no personal data (assert on the
    returned list held in a variable, never on a call with the text as its argument)."""
    leaked = [rid for rid, _d, nik, kk, name, *_r in PEOPLE if nik in text or kk in text
              or name in text]  # fmt: skip
    if re.search(r"(?<![0-9a-f])\d{16}(?![0-9a-f])", text):
        leaked.append("16 digits")
    return leaked


def _sheets(path: Path) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_worklists_written_per_kecamatan_and_desa(persons_db, tmp_path, capsys):
    out = tmp_path / "worklists"
    assert main(["worklist", "--district", "64.02", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    leaks = _leaks(captured.out + captured.err)
    assert leaks == []
    assert sorted(p.name for p in out.iterdir()) == [
        "64.02.01 Muara Muntai 2025-06.xlsx",
        "64.02.02 Loa Kulu 2025-06.xlsx",
    ]
    assert "2 worklist files (6 rows) for 64.02" in captured.out

    muntai = _sheets(out / "64.02.01 Muara Muntai 2025-06.xlsx")
    assert list(muntai) == ["2001 Perian", "2002 Muara Leka"]
    header = [h for _k, h, _w in COLUMNS]
    for rows in muntai.values():
        assert rows[1] == header
    assert [len(rows) - 2 for rows in muntai.values()] == [2, 2]
    perian = muntai["2001 Perian"]
    by_id = {row[0]: row for row in perian[2:]}
    # formula-like names and addresses come back as the very text written
    first, second = by_id["a0000000000000000001"], by_id["a0000000000000000002"]
    assert first[4] == PEOPLE[0][4] and second[4] == "-Ani" and second[7] == "+62 Gang Mawar"
    assert first[1] == "Belum terdaftar JKN" and second[1] == "Peserta nonaktif"
    assert first[2] == PEOPLE[0][2] and first[3] == PEOPLE[0][3]  # NIK and No. KK as text
    assert (first[8], first[9], first[10]) == ("003", "001", "Perian")
    assert first[6] == dt.date(1985, 3, 12)
    with zipfile.ZipFile(out / "64.02.01 Muara Muntai 2025-06.xlsx") as zf:
        xml = zf.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
        assert "dataValidation" in xml and "Terverifikasi" in xml
        assert '<pane xSplit="1" ySplit="2"' in xml and "<autoFilter" in xml

    loa_kulu = _sheets(out / "64.02.02 Loa Kulu 2025-06.xlsx")
    assert {name: len(rows) - 2 for name, rows in loa_kulu.items()} == {"2004 Loa Kulu Kota": 2}
    kinds = sorted(row[1] for row in loa_kulu["2004 Loa Kulu Kota"][2:])
    assert kinds == ["Meninggal masih aktif", "WBP tanpa JKN"]


def test_worklist_period_and_unknown_district(persons_db, tmp_path, capsys):
    assert main(["worklist", "--district", "64.02", "--out", str(tmp_path), "--period",
                 "2025-05"]) == 0  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["64.02.01 Muara Muntai 2025-05.xlsx"]
    capsys.readouterr()
    assert main(["worklist", "--district", "64.02", "--out", str(tmp_path), "--period",
                 "2024-01"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "no worklist for 2024-01 in district 64.02 (months with one: 2025-06, 2025-05)" in err
    assert main(["worklist", "--district", "64.03", "--out", str(tmp_path)]) == 1
    assert "no worklist rows for district 64.03" in capsys.readouterr().err


def _returned(written: Path, target: Path, results: dict[str, tuple]) -> Path:
    """A returned workbook: the written one read with calamine and written again with the
    officers' results in the last four columns (what Excel or LibreOffice would save)."""
    sheets = _sheets(written)
    target.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(target))
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            row = list(row)
            if r >= 2 and row[0] in results:
                row[12:16] = results[row[0]]
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()))
                elif value not in ("", None):
                    ws.write_string(r, c, str(value))
    book.close()
    return target


def _one(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        rows = cur.fetchall()
    conn.commit()
    return rows


def test_returned_workbook_loads_back(persons_db, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["worklist", "--district", "64.02", "--out", str(out)]) == 0
    sources = tmp_path / "sources"
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(sources))
    returned = _returned(
        out / "64.02.01 Muara Muntai 2025-06.xlsx",
        sources / "worklists" / "returned" / "64.02.01 Muara Muntai 2025-06.xlsx",
        {
            "a0000000000000000001": ("Terverifikasi", "Rina (Puskesos)", dt.date(2025, 7, 2),
                                     "rumah kosong"),
            "a0000000000000000002": ("sudah terdaftar jkn", "Rina (Puskesos)", "03-07-2025", ""),
            "a0000000000000000003": ("Pindah ke Samarinda", "Rina", "03-07-2025", ""),
            "a0000000000000000004": ("not_found", "", "04-07-2025", ""),
        },
    )  # fmt: skip
    book = CalamineWorkbook.from_path(str(returned))
    assert book.sheet_names == ["2001 Perian", "2002 Muara Leka"]
    capsys.readouterr()
    assert main(["load", str(returned), "--contract", "worklist_verification"]) == 0
    captured = capsys.readouterr()
    leaks = _leaks(captured.out + captured.err)
    assert leaks == []
    assert re.search(r"read 4, accepted 2, rejected 2, skipped 0", captured.out)

    rows = _one(persons_db, "select worklist_id, status, verified_by, verified_on, district_code,"
                " kecamatan_code from persons.worklist_verifications order by 1")  # fmt: skip
    assert rows == [
        ("a0000000000000000001", "verified", "Rina (Puskesos)", dt.date(2025, 7, 2), "64.02",
         "64.02.01"),
        ("a0000000000000000002", "enrolled_now", "Rina (Puskesos)", dt.date(2025, 7, 3), "64.02",
         "64.02.01"),
    ]  # fmt: skip
    rejects = _one(persons_db, "select sheet, source_row, column_name, reason, source_values"
                   " from raw.rejects order by source_row")  # fmt: skip
    assert [(r[0], r[1], r[2], r[4]) for r in rejects] == [
        ("2002 Muara Leka", 3, "verified_by", None),
        ("2002 Muara Leka", 4, "result", None),
    ]
    assert rejects[1][3].startswith("result: not a verification result (one of: Terverifikasi")
    notes = _one(persons_db, "select worklist_id, note from restricted.worklist_verification_notes")
    assert notes == [("a0000000000000000001", "rumah kosong")]

    # reloading the same workbook replaces its own earlier load
    first_load = _one(persons_db, "select max(load_id) from raw.loads")[0][0]
    assert main(["load", str(returned), "--contract", "worklist_verification"]) == 0
    loads = _one(persons_db, "select load_id, status, superseded_by from raw.loads order by 1")
    assert loads == [(first_load, "succeeded", first_load + 1), (first_load + 1, "succeeded", None)]
    counts = _one(persons_db, "select load_id, count(*) from persons.worklist_verifications"
                  " group by 1")  # fmt: skip
    assert counts == [(first_load + 1, 2)]

    # `cakupan loads remove` takes a verification load's rows and notes out
    assert main(["loads", "remove", str(first_load + 1)]) == 0
    assert "removed load" in capsys.readouterr().out
    left = _one(persons_db, "select (select count(*) from persons.worklist_verifications),"
                " (select count(*) from restricted.worklist_verification_notes)")  # fmt: skip
    assert left == [(0, 0)]


def test_unknown_worklist_id_is_rejected(persons_db, tmp_path, capsys, monkeypatch):
    sources = tmp_path / "sources"
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(sources))
    path = sources / "worklists" / "returned" / "typed_by_hand.xlsx"
    path.parent.mkdir(parents=True)
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("2004 Loa Kulu Kota")
    ws.write_row(1, 0, [h for _k, h, _w in COLUMNS])
    ws.write_row(2, 0, ["ffffffffffffffffffff"] + [""] * 11 + ["Meninggal", "Andi", "05-07-2025"])
    ws.write_row(3, 0, ["a0000000000000000005"] + [""] * 11 + ["Meninggal", "Andi", "05-07-2025"])
    ws.write_row(4, 0, ["a0000000000000000005"] + [""] * 11 + ["Pindah", "Andi", "06-07-2025"])
    book.close()
    assert main(["load", str(path), "--contract", "worklist_verification"]) == 0
    assert "read 3, accepted 1, rejected 2" in capsys.readouterr().out
    reasons = _one(persons_db, "select source_row, reason from raw.rejects order by 1")
    assert reasons == [
        (3, "worklist_id: not a worklist item of the warehouse"),
        (5, "worklist_id: repeated in this workbook (the first row is kept)"),
    ]
    status = _one(persons_db, "select worklist_id, status from persons.worklist_verifications")
    assert status == [("a0000000000000000005", "dead")]
    # the same workbook under another name (the same bytes) replaces it too
    copy = shutil.copy(path, path.with_name("typed_by_hand (1).xlsx"))
    assert main(["load", str(copy), "--contract", "worklist_verification"]) == 0
    loads = _one(persons_db, "select superseded_by is null from raw.loads order by load_id")
    assert loads == [(False,), (True,)]
    assert _one(persons_db, "select count(*) from persons.worklist_verifications") == [(1,)]


def test_written_workbook_copied_back_unfilled_loads_nothing(persons_db, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert main(["worklist", "--district", "64.02", "--out", str(out)]) == 0
    sources = tmp_path / "sources"
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(sources))
    target = sources / "worklists" / "returned" / "untouched.xlsx"
    target.parent.mkdir(parents=True)
    shutil.copy(out / "64.02.02 Loa Kulu 2025-06.xlsx", target)
    assert main(["load", str(target), "--contract", "worklist_verification"]) == 0
    assert _one(persons_db, "select rows_read, rows_skipped from raw.loads") == [(0, 2)]
    assert _one(persons_db, "select count(*) from persons.worklist_verifications") == [(0,)]


def test_personal_data_stays_out_of_raw(persons_db, tmp_path, monkeypatch):
    """A returned workbook's names and NIKs reach no table outside `restricted`."""
    out = tmp_path / "out"
    assert main(["worklist", "--district", "64.02", "--out", str(out)]) == 0
    sources = tmp_path / "sources"
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(sources))
    returned = _returned(
        out / "64.02.01 Muara Muntai 2025-06.xlsx",
        sources / "worklists" / "returned" / "t.xlsx",
        {"a0000000000000000001": ("Pindah", "Rina", "02-07-2025", "")},
    )
    assert main(["load", str(returned), "--contract", "worklist_verification"]) == 0
    dumped = _one(
        persons_db,
        "select string_agg(t::text, ' ') from (select * from raw.loads) t union all"
        " select string_agg(t::text, ' ') from (select * from raw.rejects) t union all"
        " select string_agg(t::text, ' ') from (select * from persons.worklist_verifications) t",
    )
    leaks = _leaks(" ".join(row[0] or "" for row in dumped))
    assert leaks == []


def test_transform_dag_task_writes_every_district(persons_db, warehouse, tmp_path):
    """The transform DAG's task `write_worklists`, run by Airflow (`airflow tasks test`) on the
    connection `warehouse`: every district with worklist rows, its latest month, into
    CAKUPAN_WORKLIST_DIR/<district>/; its log holds no NIK or name."""
    from cakupan import airflow_local

    env = airflow_local.airflow_env(warehouse.url(mask=False))
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{tmp_path / 'airflow' / 'a.db'}"
    env["CAKUPAN_WORKLIST_DIR"] = str(tmp_path / "wl")
    env["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "INFO"  # every line the task logs, checked below
    (tmp_path / "airflow").mkdir()
    airflow_local.ensure_db(env)
    cmd = [airflow_local.airflow_bin(), "tasks", "test", "cakupan_transform", "write_worklists",
           "2025-12-01"]  # fmt: skip
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    log = result.stdout + result.stderr
    leaks = _leaks(log)
    assert leaks == []
    assert result.returncode == 0, log[-3000:]
    written = sorted(p.relative_to(tmp_path) for p in (tmp_path / "wl").rglob("*.xlsx"))
    assert written == [
        Path("wl/64.02/64.02.01 Muara Muntai 2025-06.xlsx"),
        Path("wl/64.02/64.02.02 Loa Kulu 2025-06.xlsx"),
    ]
    assert "64.02: 2 worklist files, 6 rows" in log


GENERATED_RESIDENTS = 2_000
# a test key (>= 32 characters) from the environment, as in production; never a real one
TEST_KEY = "worklist-tests-key-0123456789abcdefghij"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A small synthetic Kukar (the project's generator), its four person files."""
    from cakupan.demo.persons import generate_persons

    out = tmp_path_factory.mktemp("sources") / "persons"
    generate_persons(out, residents=GENERATED_RESIDENTS, seed=7)
    return out


def _generated_kabupaten(db, warehouse, generated: Path, monkeypatch) -> None:
    """The generated files loaded by `cakupan load` and the person models built by dbt."""
    with db.cursor() as cur:
        cur.execute("drop schema if exists persons cascade; drop schema if exists restricted"
                    " cascade; drop schema if exists reference cascade")  # fmt: skip
    db.commit()
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", warehouse.url(mask=False))
    monkeypatch.setenv("CAKUPAN_PERSON_KEY", TEST_KEY)
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(generated.parent))
    for name, contract in (("dukcapil_register", "dukcapil_register"),
                           ("bpjs_peserta", "bpjs_membership_master"),
                           ("dtsen", "dtsen_individuals"), ("wbp", "wbp_list")):  # fmt: skip
        (path,) = generated.glob(f"{name}_6402_2025-06.*")
        assert main(["load", str(path), "--contract", contract]) == 0
    assert run_dbt(["seed", "--quiet"], params=warehouse, check=False) == 0
    assert run_dbt(PERSON_BUILD, params=warehouse, check=False) == 0


PERSON_BUILD = ["run", "--select", "+worklist_items", "--quiet"]  # the transform's person models


def test_generated_kabupaten_round_trip(db, warehouse, generated, tmp_path, capsys, monkeypatch):
    """A generated kabupaten: one workbook per kecamatan with worklist rows, a sheet per desa
    with that desa's rows; a returned workbook sets the items' status, verifier and date
    after the next transform; no NIK or name in any command's output."""
    _generated_kabupaten(db, warehouse, generated, monkeypatch)
    per_desa = dict(_one(db, "select desa_code, count(*) from persons.worklist_items"
                         " where district_code = '64.02' group by 1"))  # fmt: skip
    kecamatan = sorted({code[:8] for code in per_desa})
    assert sum(per_desa.values()) > 100 and len(kecamatan) >= 10
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["worklist", "--district", "64.02", "--out", str(out)]) == 0
    files = sorted(out.iterdir())
    assert [f.name[:8] for f in files] == kecamatan
    assert all(f.name.endswith(" 2025-06.xlsx") for f in files)
    for path in files:
        for name, rows in _sheets(path).items():
            desa = path.name[:8] + "." + name[:4]
            assert (len(rows) - 2, rows[1][0]) == (per_desa[desa], "ID daftar kerja"), name

    # the field officers verify the first two rows of every sheet of the first workbook
    chosen = {}
    for rows in _sheets(files[0]).values():
        for i, row in enumerate(rows[2:4]):
            result = ("Terverifikasi", "Pindah")[i]
            chosen[row[0]] = (result, f"Petugas {i}", dt.date(2025, 7, 1 + i), "")
    returned = _returned(files[0], generated.parent / "worklists" / "returned" / files[0].name,
                         chosen)  # fmt: skip
    assert main(["load", str(returned), "--contract", "worklist_verification"]) == 0
    assert run_dbt(PERSON_BUILD, params=warehouse, check=False) == 0
    got = _one(db, "select worklist_id, status, verified_by, verified_on from"
               " persons.worklist_items where worklist_id = any(%s) and period = '2025-06-01'",
               list(chosen))  # fmt: skip
    codes = {"Terverifikasi": "verified", "Pindah": "moved"}
    assert sorted(got) == sorted((wid, codes[r[0]], r[1], r[2]) for wid, r in chosen.items())
    # the next worklist shows what was verified, ready for the next visit
    again = tmp_path / "again"
    assert main(["worklist", "--district", "64.02", "--out", str(again)]) == 0
    shown = {
        row[0]: (row[12], row[13])
        for rows in _sheets(again / files[0].name).values()
        for row in rows[2:]
        if row[0] in chosen
    }
    assert shown == {wid: (r[0], r[1]) for wid, r in chosen.items()}
    captured = capsys.readouterr()
    text = captured.out + captured.err
    found = _generated_personal_data(generated, text)
    assert found == 0


def _generated_personal_data(generated: Path, text: str) -> int:
    """How many NIKs or names of the generated register are in `text` (a count, never them)."""
    import csv

    (register,) = generated.glob("dukcapil_register_*.csv")
    with register.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    niks = {r["NIK"] for r in rows if len(r["NIK"]) >= 10}
    names = {r["NAMA_LGKP"] for r in rows if len(r["NAMA_LGKP"]) >= 8}
    return sum(1 for v in niks | names if v in text)
