"""Loading files against a real PostgreSQL: provenance, all-or-nothing, reruns, rejects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cakupan.pipeline import load_file
from cakupan.sources.errors import SourceFileError

pytestmark = pytest.mark.integration

HEADER = "KODE_WILAYAH;NAMA_WILAYAH;LAKI_LAKI;PEREMPUAN;JUMLAH_PENDUDUK\n"


def _write(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\ufeff" + HEADER + body, encoding="utf-8")
    return path


def _count(conn, query, *args):
    with conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()[0]


def test_good_file_lands_with_provenance_and_reruns_replace(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    path = _write(
        tmp_path / "dukcapil" / "penduduk_kabkota_2023_s1.csv",
        "33.75;Kota Pekalongan;160000;156933;316933\n33.25;Kabupaten Batang;415000;413576;828576\n",
    )
    first = load_file(path, conn=db)
    assert (first["rows_read"], first["rows_landed"], first["rows_rejected"]) == (2, 2, 0)
    with db.cursor() as cur:
        cur.execute(
            "select _source_file, _source_row, _period, _region_code, residents,"
            " _source_values->>'JUMLAH_PENDUDUK', length(_source_sha256)"
            " from raw.dukcapil_residents order by _source_row"
        )
        rows = cur.fetchall()
    assert rows[0] == (
        "dukcapil/penduduk_kabkota_2023_s1.csv",
        2,
        dt.date(2023, 1, 1),
        "33.75",
        316933,
        "316933",
        64,
    )
    second = load_file(path, conn=db)
    third = load_file(path, conn=db)
    # the reruns supersede: every load's rows stay in raw, only the last one's are current
    assert _count(db, "select count(*) from raw.dukcapil_residents") == 6
    current = (
        " from raw.dukcapil_residents r where not exists (select from raw.superseded s"
        " where s.load_id = r._load_id and (s.period = r._period or s.period is null)"
        " and s.region_code in ('*', r._region_code))"
    )
    assert _count(db, "select count(*)" + current) == 2
    assert _count(db, "select count(distinct _load_id)" + current) == 1
    assert _count(db, "select max(_load_id)" + current) == third["load_id"]
    assert (
        _count(db, "select superseded_by from raw.loads where load_id = %s", first["load_id"])
        == second["load_id"]
    )
    assert (
        _count(db, "select superseded_by from raw.loads where load_id = %s", second["load_id"])
        == third["load_id"]
    )
    # its canonical observations: residents, men, women per kab/kota, of the current load only
    assert (
        _count(
            db,
            "select count(*) from raw.observations_residents o where o.load_id = %s",
            third["load_id"],
        )
        == 6
    )


def test_bad_rows_are_kept_with_reasons_and_counted(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    path = _write(
        tmp_path / "dukcapil" / "penduduk_kabkota_2024_s2.csv",
        "33.75;Kota Pekalongan;160000;156933;316933\n"
        "99.99;Negeri Antah;1;1;2\n"
        "33.25;Kabupaten Batang;415000;413576;banyak\n"
        "33.75;Kota Pekalongan;160000;156933;316933\n",
    )
    result = load_file(path, conn=db)
    assert (result["rows_read"], result["rows_landed"], result["rows_rejected"]) == (4, 1, 3)
    with db.cursor() as cur:
        cur.execute(
            "select source_row, reason from raw.rejects where _load_id = %s order by source_row",
            (result["load_id"],),
        )
        rejects = cur.fetchall()
    assert [r[0] for r in rejects] == [3, 4, 5]
    assert "99.99" in rejects[0][1]
    assert "banyak" in rejects[1][1]
    assert "duplicate of row 2" in rejects[2][1]
    assert (
        _count(
            db,
            "select count(*) from raw.loads where load_id = %s and rows_read = rows_landed"
            " + rows_rejected and status = 'succeeded'",
            result["load_id"],
        )
        == 1
    )


def test_file_level_fault_leaves_the_warehouse_unchanged(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    good = _write(
        tmp_path / "dukcapil" / "penduduk_kabkota_2025_s1.csv",
        "33.75;Kota Pekalongan;160000;156933;316933\n",
    )
    load_file(good, conn=db)
    before = _count(db, "select count(*) from raw.dukcapil_residents")
    broken = tmp_path / "dukcapil" / "penduduk_kabkota_2025_s2.csv"
    broken.write_text("this is not the residents table\n1;2;3\n")
    with pytest.raises(SourceFileError) as info:
        load_file(broken, conn=db)
    assert "penduduk_kabkota_2025_s2.csv" in str(info.value)
    assert "\n" not in str(info.value)
    assert _count(db, "select count(*) from raw.dukcapil_residents") == before


def test_failure_midway_rolls_back_everything(db, tmp_path, monkeypatch):
    """A reader that fails while the rows land (the general path, row by row): the load is
    recorded as failed and nothing else stays, not even its landed table."""
    from cakupan.landing import load

    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    path = _write(
        tmp_path / "dukcapil" / "penduduk_kabkota_2024_s1.csv",
        "".join(f"33.{n:02d};Kabupaten {n};1;1;2\n" for n in range(1, 20)),
    )
    real = load.sheets_to_land

    def failing(extraction):
        def rows(inner):
            for number, cells in inner:
                if number == 4:
                    raise OSError("disk went away while reading")
                yield number, cells

        items = real(extraction)
        for item in items:
            item.csv_path, item.rows = None, rows(item.rows)
        return items

    monkeypatch.setattr(load, "sheets_to_land", failing)
    with pytest.raises(OSError, match="disk went away"):
        load_file(path, conn=db)
    assert _count(db, "select to_regclass('raw.dukcapil_residents')") is None
    assert _count(db, "select count(*) from raw.landed_sheets") == 0
    tables = "select count(*) from pg_tables where schemaname = 'raw' and tablename ~ '^dukcapil'"
    assert _count(db, tables) == 0
    assert _count(db, "select count(*) from raw.loads where status = 'failed'") == 1
    assert "disk went away" in _count(db, "select error from raw.loads where status = 'failed'")


def test_awkward_text_survives_copy_unchanged(db, tmp_path, monkeypatch):
    """Quotes, tabs, backslashes, a line break in a quoted cell and non-ASCII text land and
    load as they were (the general path: a quote may span lines)."""
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    awkward = 'Kab. "Toli-Toli"\t\\ tab, back\\slash\nnewline, é ü — 100%'
    quoted = '"' + awkward.replace('"', '""') + '"'
    path = _write(
        tmp_path / "dukcapil" / "penduduk_kabkota_2024_s2.csv",
        f"72.04;{quoted};1;1;2\n33.25;Kabupaten Batang;1;1;2\n",
    )
    result = load_file(path, conn=db)
    assert (result["rows_landed"], result["rows_rejected"]) == (2, 0)
    with db.cursor() as cur:
        cur.execute(
            "select name, residents, _source_values, _source_row from raw.dukcapil_residents"
            " order by _source_row"
        )
        name, residents, source_values, row = cur.fetchone()
    assert (name, residents, row) == (awkward, 2, 2)
    assert source_values["NAMA_WILAYAH"] == awkward
    assert _count(db, "select _source_row from raw.dukcapil_residents where code = '33.25'") == 3


def test_parallel_first_loads_of_one_source_all_succeed(db, warehouse, tmp_path, monkeypatch):
    """Parallel tasks loading files of one source into a warehouse that has no raw table yet
    (the reference DAG's decree lists) must not race each other creating that table."""
    import threading

    import psycopg

    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    paths = [
        _write(
            tmp_path / "dukcapil" / f"penduduk_kabkota_{year}_s1.csv",
            "33.75;Kota Pekalongan;160000;156933;316933\n",
        )
        for year in (2020, 2021, 2022, 2023)
    ]
    # three rounds on an empty warehouse (creating the tables), then three on the existing
    # tables, where landing one file and accepting another must not deadlock
    for attempt in range(6):
        if attempt < 3:
            with db.cursor() as cur:
                cur.execute("drop schema if exists raw cascade")
            db.commit()
        barrier = threading.Barrier(len(paths))
        errors: list[BaseException] = []

        def load(path, barrier=barrier, errors=errors):
            conn = psycopg.connect(**warehouse.dsn_kwargs())
            try:
                barrier.wait()
                load_file(path, conn=conn)
            except BaseException as exc:  # reported below, with the attempt
                errors.append(exc)
            finally:
                conn.close()

        threads = [threading.Thread(target=load, args=(path,)) for path in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], f"attempt {attempt}: {errors}"
        rounds = attempt - 1 if attempt >= 3 else 1
        assert _count(db, "select count(*) from raw.loads where status = 'succeeded'") == (
            4 * rounds
        )
        assert _count(db, "select count(*) from raw.loads") == 4 * rounds
        # each round's loads supersede the last round's, whose rows stay in raw
        assert _count(db, "select count(*) from raw.dukcapil_residents") == 4 * rounds
        assert _count(db, "select count(distinct _period) from raw.dukcapil_residents") == 4
        assert _count(db, "select count(*) from raw.loads where superseded_by is null") == 4


def test_superseded_rows_are_purged_after_the_retention(db, tmp_path, monkeypatch):
    """CAKUPAN_SUPERSEDED_RETENTION_DAYS: a load superseded as a whole longer ago loses its
    rows (raw table, observations); the load log keeps it, with purged_at."""
    monkeypatch.setenv("CAKUPAN_SOURCES_DIR", str(tmp_path))
    path = _write(
        tmp_path / "dukcapil" / "penduduk_kabkota_2021_s2.csv",
        "33.75;Kota Pekalongan;160000;156933;316933\n33.25;Kabupaten Batang;415000;413576;828576\n",
    )
    first = load_file(path, conn=db)
    monkeypatch.setenv("CAKUPAN_SUPERSEDED_RETENTION_DAYS", "never")
    second = load_file(path, conn=db)
    rows = "select count(*) from raw.dukcapil_residents where _load_id = %s"
    assert _count(db, rows, first["load_id"]) == 2  # kept: retention never
    monkeypatch.setenv("CAKUPAN_SUPERSEDED_RETENTION_DAYS", "0")
    third = load_file(path, conn=db)
    assert third["purged_loads"] == [first["load_id"], second["load_id"]]
    for load in (first, second):
        assert _count(db, rows, load["load_id"]) == 0
        assert (
            _count(db, "select count(*) from raw.observations where load_id = %s", load["load_id"])
            == 0
        )
        assert (
            _count(
                db,
                "select purged_at is not null from raw.loads where load_id = %s",
                load["load_id"],
            )  # fmt: skip
            is True
        )
    assert _count(db, rows, third["load_id"]) == 2
