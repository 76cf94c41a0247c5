"""`make bench` (`python benchmarks/bench.py [csv] [xlsx] [persons] [reconcile] [dags] [dbt]
[airflow] [cosmos] [persons_scale]`): measure in one run, print one `name=value` line per
figure (`cosmos` and `persons_scale` only when named: they take minutes).

Tooling, not product: it lives outside `include/cakupan` and is not in the production image.

Ratios, not seconds: these machines are shared and noisy, and a ratio of two runs taken side by
side on the same machine says more than either time alone. Big inputs are generated once into
`.cakupan/bench/` (deterministic) and reused.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cakupan import config
from psycopg import sql

BENCHMARKS = Path(__file__).resolve().parent
ROWS = int(os.environ.get("CAKUPAN_BENCH_ROWS", "1000000"))
BENCH_DB = "cakupan_bench"
HEADER = ["ID", "KODE_WILAYAH", "BULAN", "PBI", "PPU", "PBPU", "BP", "JUMLAH"]

CONTRACT = {
    "name": "bench_membership",
    "description": "benchmark layout: one row per id, 8 columns",
    "kind": "csv",
    "path": "bench/*.csv",
    "fields": {
        "row_id": {"aliases": ["ID"], "type": "integer", "required": True},
        "region_code": {"aliases": ["KODE_WILAYAH"], "required": True},
        "month": {"aliases": ["BULAN"], "type": "month", "required": True},
        "pbi": {"aliases": ["PBI"], "type": "integer"},
        "ppu": {"aliases": ["PPU"], "type": "integer"},
        "pbpu": {"aliases": ["PBPU"], "type": "integer"},
        "bp": {"aliases": ["BP"], "type": "integer"},
        "total": {"aliases": ["JUMLAH"], "type": "integer"},
    },
    "period": {"from": "column", "field": "month"},
    "region": {"field": "region_code", "system": "kemendagri"},
    "key": ["row_id"],
    "raw_table": "raw.bench_membership",
}


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the benchmark's output


def bench_dir() -> Path:
    path = config.state_dir() / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _district_codes() -> list[str]:
    from importlib.resources import files

    text = files("cakupan.reference").joinpath("regions.csv").read_text()
    return [r["code"] for r in csv.DictReader(text.splitlines()) if r["level"] == "district"]


def _rows(n: int):
    rng = random.Random(20261124)
    codes = _district_codes()
    for i in range(1, n + 1):
        parts = [rng.randint(1000, 400000) for _ in range(4)]
        yield [i, codes[i % len(codes)], f"2025-{(i % 12) + 1:02d}", *parts, sum(parts)]


def make_csv(n: int = ROWS) -> Path:
    path = bench_dir() / f"bench_{n}.csv"
    if not path.exists():
        say(f"# generating {path.name} ({n:,} rows)")
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="") as out:
            writer = csv.writer(out, delimiter=";")
            writer.writerow(HEADER)
            writer.writerows(_rows(n))
        tmp.rename(path)
    return path


def make_xlsx(n: int = ROWS) -> Path:
    path = bench_dir() / f"bench_{n}.xlsx"
    if not path.exists():
        import xlsxwriter

        say(f"# generating {path.name} ({n:,} rows; takes a minute, once)")
        tmp = path.with_name(path.stem + ".tmp.xlsx")
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
        sheet = book.add_worksheet("Data")
        sheet.write_row(0, 0, HEADER)
        for r, row in enumerate(_rows(n), start=1):
            sheet.write_row(r, 0, row)
        book.close()
        tmp.rename(path)
    return path


def _admin_and_bench_params(dbname: str = BENCH_DB):
    from cakupan.warehouse import resolve_params

    admin = resolve_params()
    import psycopg

    conn = psycopg.connect(**admin.dsn_kwargs())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (dbname,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    conn.close()
    return admin, admin.replace(dbname=dbname)


def _psql() -> str:
    from cakupan.warehouse.embedded import _bin

    return _bin("psql")


def psql_copy_seconds(params, csv_path: Path, delimiter: str = ";") -> float:
    """`psql \\copy` of the file into a table of the same columns (the floor to compare with)."""
    import psycopg

    conn = psycopg.connect(**params.dsn_kwargs())
    with conn.cursor() as cur:
        cur.execute("drop table if exists public.bench_psql_copy")
        cur.execute(
            "create table public.bench_psql_copy (row_id bigint, region_code text, month text,"
            " pbi bigint, ppu bigint, pbpu bigint, bp bigint, total bigint)"
        )
    conn.commit()
    conn.close()
    env = dict(os.environ, PGPASSWORD=params.password)
    command = (
        f"\\copy public.bench_psql_copy from '{csv_path}' "
        f"with (format csv, header true, delimiter '{delimiter}')"
    )
    started = time.perf_counter()
    subprocess.run(
        [
            _psql(),
            "-h",
            params.host,
            "-p",
            str(params.port),
            "-U",
            params.user,
            "-d",
            params.dbname,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            command,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _load_in_child(path: Path, params, loader: str = "load_once") -> dict:
    """Load one file with the project's loader in a child process; time and peak memory."""
    code = (
        "import json, sys, time, resource\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        f"from bench import {loader} as load_once\n"
        # the modules a load task has imported before it loads (not the load's own time)
        "import cakupan.landing.load, cakupan.sources.extract, cakupan.warehouse\n"
        "import cakupan.pipeline, cakupan.landing.persons\n"
        "t = time.perf_counter(); result = load_once(sys.argv[1])\n"
        "result['seconds'] = time.perf_counter() - t\n"
        # VmHWM: this process's own peak; ru_maxrss would start from the parent's peak at fork
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "result['peak_mb'] = (int(hwm[0].split()[1]) if hwm else"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024\n"
        "print(json.dumps(result))\n"
    )
    env = dict(os.environ, AIRFLOW_CONN_WAREHOUSE=params.url(mask=False))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
    )
    if out.returncode:
        # the load's own message (a cakupan error names the file and the fault, never a value)
        raise SystemExit(f"the load of {path} failed:\n{out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_once(path: str) -> dict:
    """Extract and land one file with the bench contract (what a DAG's load task does)."""
    from cakupan.landing.load import land_file
    from cakupan.sources.contracts import parse_contract
    from cakupan.sources.extract import extract_file
    from cakupan.warehouse import connect

    contract = parse_contract(dict(CONTRACT, kind="xlsx" if path.endswith(".xlsx") else "csv"))
    extraction = extract_file(Path(path), contract)
    conn = connect()
    try:
        result = land_file(conn, contract, extraction, source_file=Path(path).name)
    finally:
        conn.close()
    return {
        "rows_landed": result.rows_landed,
        "rows_rejected": result.rows_rejected,
        "accept_seconds": result.accept_seconds,
    }


# ---- persons: the person landing of a 1,000,000-row register ---------------------------------

PERSON_TABLE_DDL = (
    "create table public.bench_person_copy (nik text, no_kk text, nama_lgkp text,"
    " jenis_klmin text, tmpt_lhr text, tgl_lhr date, alamat text, no_rt text, no_rw text,"
    " kode_desa text, nama_desa text, kode_kec text, nama_kec text, status_hidup text,"
    " tgl_mati date)"
)


def make_person_register(n: int = ROWS) -> Path:
    """The synthetic Kukar of `n` residents (the p/gen generator, `cakupan.demo.persons`),
    once, into `.cakupan/bench/persons_<n>/persons/`; its register has `n` rows."""
    from cakupan.demo.persons import file_names, generate_persons

    folder = bench_dir() / f"persons_{n}" / "persons"
    register = folder / file_names("2025-06")["register"]
    if not register.exists():
        say(f"# generating the synthetic Kukar ({n:,} residents) into {folder}")
        generate_persons(folder, residents=n)
    return register


def person_files(n: int):
    """The five files of the synthetic Kukar of `n` residents (generated once)."""
    from cakupan.demo.persons import PersonFiles, file_names

    register = make_person_register(n)
    names = file_names("2025-06")
    return PersonFiles(
        **{
            name: register.with_name(names[name])
            for name in PersonFiles.__dataclass_fields__
            if name in names
        }
    )


def psql_copy_person_seconds(params, csv_path: Path) -> float:
    """`psql \\copy` of the register into a typed table of its columns (dates typed, day first)."""
    import psycopg

    conn = psycopg.connect(**params.dsn_kwargs())
    with conn.cursor() as cur:
        cur.execute("drop table if exists public.bench_person_copy")
        cur.execute(PERSON_TABLE_DDL)
    conn.commit()
    conn.close()
    _settle(params)
    env = dict(os.environ, PGPASSWORD=params.password, PGDATESTYLE="ISO, DMY")
    command = f"\\copy public.bench_person_copy from '{csv_path}' with (format csv, header true)"
    started = time.perf_counter()
    subprocess.run(
        [_psql(), "-h", params.host, "-p", str(params.port), "-U", params.user, "-d",
         params.dbname, "-v", "ON_ERROR_STOP=1", "-q", "-c", command],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def _settle(params) -> None:
    """A checkpoint before a timed person run, on either side: the writes of the run before
    (a million rows, a dropped database) are flushed then, not inside the next run's time.
    Skipped where the bench's role may not checkpoint."""
    import psycopg

    with psycopg.connect(**params.dsn_kwargs(), autocommit=True) as conn:
        try:
            conn.execute("checkpoint")
        except psycopg.errors.InsufficientPrivilege:
            say("# (no checkpoint before the timed person runs: the role may not)")


def load_person_once(path: str) -> dict:
    """Land, check, key and accept the register (what the persons DAG's load task does)."""
    from cakupan.pipeline import load_file

    os.environ.setdefault("CAKUPAN_PERSON_KEY", "bench-person-key-not-a-secret-0123456789")
    os.environ["CAKUPAN_SOURCES_DIR"] = str(Path(path).parents[1])
    result = load_file(path, "dukcapil_register", allow_shrink=True)
    return {k: result[k] for k in ("rows_landed", "rows_rejected", "nik_invalid", "nik_missing")}


PERSON_DB = "cakupan_bench_persons"
PERSON_RUNS = 5  # each side: the machines are shared, the fastest run is the one least disturbed


def _fresh_person_db(admin) -> object:
    """A new, empty database for one person load (a first load of the register, not a rerun
    that also keeps its predecessor's million rows for the retention period)."""
    import psycopg

    conn = psycopg.connect(**admin.dsn_kwargs(), autocommit=True)
    conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(PERSON_DB)))
    conn.execute(sql.SQL("create database {}").format(sql.Identifier(PERSON_DB)))
    conn.close()
    _settle(admin)
    return admin.replace(dbname=PERSON_DB)


def person_figures(params, rows: int = ROWS) -> dict[str, float]:
    """The register of `rows` residents loaded into a fresh database, the fastest of
    `PERSON_RUNS` runs, against the fastest of as many `psql \\copy` runs."""
    register = make_person_register(rows)
    copies, runs = [], []
    for _ in range(PERSON_RUNS):  # side by side, in turn: a busy spell slows both
        copies.append(psql_copy_person_seconds(params, register))
        runs.append(_load_in_child(register, _fresh_person_db(params), "load_person_once"))
    floor = min(copies)
    ours = min(runs, key=lambda r: r["seconds"])
    times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    say(
        f"# persons: {ours['rows_landed']:,} register rows landed, checked, keyed and accepted"
        f" in {ours['seconds']:.2f} s (runs: {times}; {ours['rows_rejected']:,} rejected,"
        f" {ours['nik_invalid']:,} kept with an invalid NIK), psql \\copy into a typed table"
        f" {floor:.2f} s (runs: {', '.join(f'{c:.2f}' for c in copies)})"
    )
    return {"ratio": ours["seconds"] / floor, "peak_mb": max(r["peak_mb"] for r in runs),
            "seconds": ours["seconds"], "floor": floor}  # fmt: skip


def calamine_parse_seconds(path: Path) -> float:
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_index(0)
    count = 0
    for _row in sheet.iter_rows():
        count += 1
    return time.perf_counter() - started


def xlsx_as_csv(path: Path) -> Path:
    """The XLSX's rows written as CSV, for the `psql \\copy` part of the XLSX floor."""
    out = path.with_suffix(".rows.csv")
    if not out.exists():
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        with open(out, "w", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            for row in sheet.iter_rows():
                writer.writerow(
                    [int(v) if isinstance(v, float) and v.is_integer() else v for v in row]
                )
    return out


def dag_parse_seconds() -> dict[str, float]:
    """Import time of each DAG file in a fresh interpreter (what the dag-processor pays)."""
    root = config.project_root()
    times = {}
    for path in sorted((root / "dags").glob("*.py")):
        # the dag-processor has Airflow itself imported already: time what the file adds
        code = (
            "import time, runpy, airflow.sdk; t = time.perf_counter();"
            f"runpy.run_path({str(path)!r}, run_name='dagfile');"
            "print(time.perf_counter() - t)"
        )
        env = dict(
            os.environ,
            PYTHONPATH=str(root / "dags"),
            PYTHONWARNINGS="ignore",
            AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
        )
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
        times[path.name] = statistics.median(runs)
    return times


@dataclass(frozen=True)
class History:
    """A history of demo sources the dbt figures are measured on, in a bench database of its own."""

    months: int
    first_month: str  # the generator's `start`
    dbname: str

    def sources(self) -> Path:
        if self.first_month == "2022-01":
            return config.sources_dir()  # the demo's own sources (2022-2025)
        return bench_dir() / "long_history" / "sources"  # bench-only: `make demo` never sees it

    def newest_month(self) -> Path:
        return self.sources() / "bpjs" / "rekap_peserta_jkn_2025_12.xlsx"


HISTORY_48 = History(48, "2022-01", BENCH_DB)
HISTORY_144 = History(144, "2014-01", "cakupan_bench_144")


def SOURCES_DEC_2025() -> Path:  # noqa: N802 - reads like the constant it is
    return HISTORY_48.newest_month()


def _ensure_sources(history: History) -> Path:
    """The history's source files, generated (deterministically) when missing."""
    from cakupan.demo.generate import generate, generate_extras

    sources = history.sources()
    if not history.newest_month().exists():
        note(f"# generating the {history.months}-month sources into {sources}")
        generate(sources, start=history.first_month, extras=True)
    elif not (sources / "bpjs_demografi").exists():
        # sources an earlier bench wrote without the population-group files `make demo` writes:
        # both histories have every kind of source
        note(f"# generating the population-group sources into {sources}")
        generate_extras(sources, start=history.first_month)
    return sources


def note(line: str) -> None:
    """Progress, to stderr: the figures' lines on stdout stay `name=value` and `# ` lines."""
    print(line, file=sys.stderr, flush=True)  # noqa: T201


# what the loaded raw tables depend on besides the files: the loader's code and reference lists
_LOADER_CODE = ("landing", "sources", "contracts", "parsing", "reference", "pipeline.py")


def _loaded_key(sources: Path, last_month: str) -> str:
    """A digest of what `_load_sources` would load and how: the files up to `last_month` (bytes)
    and the loader's code. Equal digests: an earlier load of the history is still current."""
    import hashlib

    digest = hashlib.sha256(last_month.encode())
    package = config.PACKAGE_DIR
    files = [p for part in _LOADER_CODE for p in sorted((package / part).rglob("*"))]
    for path in [*files, *_history_files(sources, last_month)]:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(path.anchor)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _history_files(sources: Path, last_month: str) -> list[Path]:
    """Every source file of the history, but the membership workbooks after `last_month`."""
    return [
        path
        for path in sorted(sources.rglob("*"))
        if path.is_file()
        and path.suffix in (".csv", ".xlsx")
        and not (path.parent.name == "bpjs" and path.stem[-7:].replace("_", "-") > last_month)
    ]


def _load_sources(params, sources: Path, last_month: str) -> None:
    """An empty bench warehouse, then every source file up to `last_month` loaded into it by the
    product's loader, as the ingest DAGs do."""
    from cakupan.pipeline import load_file
    from cakupan.sources.errors import SourceFileError
    from cakupan.warehouse import connect

    files = _history_files(sources, last_month)
    conn = connect(params)
    try:
        # what an earlier run built or loaded (December 2025 among it) goes first
        with conn.cursor() as cur:
            for schema in ("marts", "intermediate", "staging", "reference", "raw"):
                cur.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
        conn.commit()
        started = time.perf_counter()
        # the loads record paths relative to the sources folder, as the demo's loads do
        with _environ({"CAKUPAN_SOURCES_DIR": str(sources)}):
            for i, path in enumerate(files, start=1):
                try:
                    load_file(path, conn=conn)
                except SourceFileError as exc:
                    if "no source contract" not in exc.fault:
                        raise
                if i % 25 == 0 or i == len(files):
                    note(
                        f"# {params.dbname}: loaded {i} of {len(files)} files "
                        f"({time.perf_counter() - started:.0f} s)"
                    )
    finally:
        conn.close()


@contextlib.contextmanager
def _environ(settings: dict[str, str]):
    """These environment variables set for the block, restored after it."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _admin_exec(statement, *args) -> list[tuple]:
    import psycopg
    from cakupan.warehouse import resolve_params

    conn = psycopg.connect(**resolve_params().dsn_kwargs())  # the admin database, not a bench one
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, args or None)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _setup_warehouse_db(params, *, last_month: str, history: History = HISTORY_48) -> None:
    """The history's sources up to `last_month` loaded into an empty bench warehouse.

    A load takes a while (about 1 s per month's workbook): after loading, the database is kept as
    a template (`<db>_loaded`, its comment the digest of the files and the loader's code), and a
    later run whose digest is the same copies the template instead of loading again.
    """
    sources = _ensure_sources(history)
    key = _loaded_key(sources, last_month)
    template = f"{params.dbname}_loaded"
    found = _admin_exec(
        "select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
        template,
    )
    db, tmpl = sql.Identifier(params.dbname), sql.Identifier(template)
    if found and found[0][0] == key:
        note(f"# {params.dbname}: the loaded sources are current, copied from {template}")
        _admin_exec(sql.SQL("drop database if exists {} with (force)").format(db))
        _admin_exec(sql.SQL("create database {} template {} strategy file_copy").format(db, tmpl))
        return
    _load_sources(params, sources, last_month)
    _admin_exec(sql.SQL("drop database if exists {}").format(tmpl))
    _admin_exec(sql.SQL("create database {} template {} strategy file_copy").format(tmpl, db))
    _admin_exec(sql.SQL("comment on database {} is {}").format(tmpl, sql.Literal(key)))


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _bench_dbt_target() -> Path:
    """dbt's target folder for the bench: the project's manifest (Cosmos') stays as it is."""
    return bench_dir() / "dbt_target"


def incremental_figures(params, history: History = HISTORY_48) -> dict[str, float]:
    """Build everything vs add the newest month, each as the product does it (`cakupan transform`).

    Full: `cakupan transform --full-refresh` of the whole project on the history's sources up to
    November 2025 (source freshness, then seeds, every model, data and unit tests). One month:
    December 2025 loaded (not timed, the loaders have their own figures), then
    `cakupan transform --new-loads`: source freshness, then the tables and incremental models the
    new month changes and their data tests (dbt's selector `new_loads`, against the freshness the
    previous transform kept); `ONE_MONTH_REPEATS` times, the fastest kept. Both start from a
    parsed project (dbt's partial parse), as the warehouse's dbt does once it has run.
    """
    from cakupan.pipeline import load_file, run_dbt, transform
    from cakupan.warehouse import connect

    target = _bench_dbt_target()
    logs = bench_dir() / "dbt_logs"
    # a fresh log: dbt rotates it at 10 MB, which could split an invocation's statements
    shutil.rmtree(logs, ignore_errors=True)
    settings = {
        "DBT_TARGET_PATH": str(target),
        # dbt's file log as JSON lines: each statement's duration (SQLQueryStatus) is in it
        "DBT_LOG_PATH": str(logs),
        "DBT_LOG_FORMAT_FILE": "json",
    }
    with _environ(settings):
        _setup_warehouse_db(params, last_month="2025-11", history=history)
        run_dbt(["parse", "--quiet"], params=params)
        full = _timed(lambda: transform(full_refresh=True, params=params, quiet=True))
        full_nodes, full_facts = _run_results(target)
        full_sql = _sql_seconds(logs / "dbt.log", target)
        runs = []
        for _ in range(ONE_MONTH_REPEATS):
            conn = connect(params)
            try:
                with _environ({"CAKUPAN_SOURCES_DIR": str(history.sources())}):
                    load_file(history.newest_month(), conn=conn)
            finally:
                conn.close()
            one = _timed(lambda: transform(new_loads=True, params=params, quiet=True))
            one_nodes, one_facts = _run_results(target)
            runs.append((one, one_nodes, one_facts, _sql_seconds(logs / "dbt.log", target)))
    one, one_nodes, one_facts, one_sql = min(runs)
    return {
        "full_sql_s": full_sql,
        "one_month_sql_s": one_sql,
        "full_build_s": full,
        "one_month_s": one,
        "one_month_runs_s": [round(r[0], 1) for r in runs],
        "full_nodes": full_nodes,
        "one_month_nodes": one_nodes,
        "full_facts_s": full_facts,
        "one_month_facts_s": one_facts,
    }


# the one-month build three times (December 2025 loaded, then loaded again twice: each time one
# month's inputs change, the same work), the fastest compared: the machines are shared
ONE_MONTH_REPEATS = 3


def _sql_seconds(log: Path, target: Path) -> float:
    """The database's share of dbt's last command: the summed durations of its SQL statements
    (dbt's JSON file log, the invocation named in run_results.json)."""
    invocation = json.loads((target / "run_results.json").read_text())["metadata"]["invocation_id"]
    total = 0.0
    with log.open(encoding="utf-8") as lines:
        for line in lines:
            if '"SQLQueryStatus"' not in line:
                continue
            event = json.loads(line)
            if event["info"]["invocation_id"] == invocation:
                total += event["data"]["elapsed"]
    return total


def _run_results(target: Path) -> tuple[int, float]:
    """Nodes dbt ran in its last command, and the execution time of the incremental fact models
    among them (run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return len(results), _incremental_model_seconds(results)


def _incremental_model_seconds(results: list[dict]) -> float:
    """Execution time of the incremental fact models in a run's results."""
    return sum(
        r["execution_time"]
        for r in results
        if r["unique_id"].split(".")[-1]
        in ("fct_coverage_district_month", "fct_coverage_group_month")
    )


QUERIES = {
    "province_month": (
        "\\set p random(0, 37)\n"
        "select f.district_code, d.district_name, f.coverage_pct, f.active_pct, f.meets_uhc\n"
        "from marts.fct_coverage_district_month f\n"
        "join marts.dim_districts d using (district_code)\n"
        "where d.province_code = (select province_code from marts.dim_districts"
        " group by province_code order by province_code offset :p limit 1)"
        " and f.month = date '2025-06-01';\n"
    ),
    "district_24_months": (
        "\\set d random(0, 513)\n"
        "select month, participants, residents, coverage_pct, active_pct\n"
        "from marts.fct_coverage_district_month\n"
        "where district_code = (select district_code from marts.dim_districts"
        " order by district_code offset :d limit 1)"
        " and month between date '2024-01-01' and date '2025-12-01' order by month;\n"
    ),
}


def mart_query_p95_ms(params, *, clients: int = 8, seconds: int = 15) -> float:
    """p95 latency of the typical BI queries under `clients` concurrent pgbench clients."""
    import tempfile

    from cakupan.warehouse.embedded import _bin

    with tempfile.TemporaryDirectory() as tmp:
        scripts = []
        for name, text in QUERIES.items():
            path = Path(tmp) / f"{name}.sql"
            path.write_text(text)
            scripts += ["-f", str(path)]
        env = dict(os.environ, PGPASSWORD=params.password)
        subprocess.run(
            [
                _bin("pgbench"),
                "-h",
                params.host,
                "-p",
                str(params.port),
                "-U",
                params.user,
                "-n",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-l",
                "--log-prefix",
                str(Path(tmp) / "log"),
                *scripts,
                params.dbname,
            ],
            env=env,
            check=True,
            capture_output=True,
            cwd=tmp,
        )
        latencies = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000.0)
    latencies.sort()
    return latencies[int(0.95 * (len(latencies) - 1))]


def _bench_airflow_env(params) -> dict[str, str]:
    from cakupan import airflow_local

    env = airflow_local.airflow_env(params.url(mask=False))
    env["AIRFLOW_HOME"] = str(bench_dir() / "airflow")
    metadata = bench_dir() / "airflow" / "airflow.db"
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{metadata}"
    airflow_local.ensure_db(env)
    return env


def _ensure_built_through(params, last_month: str) -> None:
    """The bench warehouse loaded up to `last_month` and built once (when `dbt` did not run)."""
    import psycopg
    from cakupan.pipeline import run_dbt

    conn = psycopg.connect(**params.dsn_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.fct_coverage_district_month') is not null")
            built = cur.fetchone()[0]
    finally:
        conn.close()
    if not built:
        _setup_warehouse_db(params, last_month=last_month)
        run_dbt(["seed", "--quiet"], params=params)
        run_dbt(["run", "--quiet"], params=params)


def airflow_runs_warm(env: dict[str, str], runs: list[dict]) -> dict:
    """DAG runs in one Airflow process that is already up (`benchmarks/airflow_timing.py`)."""
    from cakupan import config

    env = dict(env)
    dags = str(config.project_root() / "dags")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (dags, env.get("PYTHONPATH")) if p)
    log_file = bench_dir() / "airflow" / "warm_runs.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as out:
        result = subprocess.run(
            [sys.executable, str(BENCHMARKS / "airflow_timing.py"), json.dumps(runs)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=out,
            text=True,
        )
    for line in result.stdout.splitlines():
        if line.startswith("CAKUPAN_TIMING "):
            # every run's task durations, for a closer look: .cakupan/bench/airflow_timing.json
            (bench_dir() / "airflow_timing.json").write_text(line.split(" ", 1)[1])
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(
        f"DAG runs in one Airflow process failed (log: {log_file}):\n{result.stdout[-2000:]}"
    )


REPEATS = 3  # the month through Airflow and directly, three times each; the fastest compared


def orchestration_figures(params) -> dict[str, float]:
    """One month's load + dbt build through Airflow vs the same calls directly.

    Both sides load the December 2025 workbook, run `dbt source freshness` and a `dbt build`
    (models, seeds and every test); the Airflow side as the DAGs do (the transform DAG with its
    default Cosmos execution mode), every task through Airflow's task runner and execution API.

    - warm (the headline figure): Airflow already up, as a deployment's services are. One
      process imports Airflow and the DAG files, makes one warm-up run (the execution API's
      first requests cost about 4 s once per process), then runs the month through both DAGs.
    - cold: each DAG by `airflow dags test` in a fresh process, paying Airflow's start-up twice.

    The machines are shared: each side runs `REPEATS` times and its fastest run is compared.
    """
    from cakupan import airflow_local
    from cakupan.pipeline import load_file, run_dbt
    from cakupan.warehouse import connect

    _ensure_built_through(params, "2025-11")
    env = _bench_airflow_env(params)
    month = {"from_month": "2025-12", "to_month": "2025-12"}
    seconds = {}

    def cold():
        seconds["cold_membership_s"] = airflow_local.dags_test(
            "cakupan_membership", "2025-12-01", env, month
        )
        seconds["cold_transform_s"] = airflow_local.dags_test(
            "cakupan_transform", "2025-12-01", env
        )

    def load():
        conn = connect(params)
        try:
            load_file(SOURCES_DEC_2025(), conn=conn)
        finally:
            conn.close()

    def direct():
        seconds["load_s"] = _timed(load)
        seconds["freshness_s"] = _timed(
            lambda: run_dbt(["source", "freshness", "--quiet"], params=params, check=False)
        )
        seconds["build_s"] = _timed(lambda: run_dbt(["build", "--quiet"], params=params))

    one_month = [
        {"dag_id": "cakupan_membership", "logical_date": "2025-12-01", "conf": month},
        {"dag_id": "cakupan_transform", "logical_date": "2025-12-01", "conf": None},
    ]
    warm = airflow_runs_warm(env, [one_month[0]] + one_month * REPEATS)
    warm_up = warm["runs"][0]["seconds"]
    pairs = [
        (warm["runs"][1 + 2 * i]["seconds"], warm["runs"][2 + 2 * i]["seconds"])
        for i in range(REPEATS)
    ]
    membership, transform = min(pairs, key=sum)
    directs = []
    for _ in range(REPEATS):
        directs.append((_timed(direct), dict(seconds)))
    plain, parts = min(directs, key=lambda d: d[0])
    seconds.update(parts)
    through_cold = _timed(cold)
    return {
        "airflow_s": membership + transform,
        "airflow_runs_s": [round(sum(p), 1) for p in pairs],
        "direct_runs_s": [round(d[0], 1) for d in directs],
        "membership_s": membership,
        "transform_s": transform,
        "startup_s": warm["startup_s"],
        "warm_up_s": warm_up,
        "airflow_cold_s": through_cold,
        "direct_s": plain,
        **seconds,
    }


# (execution mode, test behaviour, watchers) of the transform DAG; the first is the DAG's default
COSMOS_CONFIGS = [
    ("watcher", "build", "marts"),
    ("watcher", "build", "all"),
    ("watcher", "after_each", "all"),
    ("watcher", "after_all", "all"),
    ("local", "after_all", "all"),
]


def _watchers_apply(mode: str, behaviour: str) -> bool:
    """`CAKUPAN_DBT_WATCHERS` only matters when the producer's build runs the tests."""
    return (mode, behaviour) == ("watcher", "build")


def _cosmos_config_name(mode: str, behaviour: str, watchers: str) -> str:
    name = f"{mode}_{behaviour}"
    return f"{name}_{watchers}_watchers" if _watchers_apply(mode, behaviour) else name


def cosmos_test_behaviours(params) -> dict[str, float]:
    """The transform DAG through Airflow under each Cosmos execution mode / TestBehavior."""
    from cakupan import airflow_local

    _ensure_built_through(params, "2025-12")
    env = _bench_airflow_env(params)
    seconds = {}
    for mode, behaviour, watchers in COSMOS_CONFIGS:
        env["CAKUPAN_DBT_EXECUTION_MODE"] = mode
        env["CAKUPAN_DBT_TEST_BEHAVIOR"] = behaviour
        env["CAKUPAN_DBT_WATCHERS"] = watchers
        seconds[_cosmos_config_name(mode, behaviour, watchers)] = airflow_local.dags_test(
            "cakupan_transform", "2025-12-01", env
        )
    return seconds


def _say_incremental(figures: dict[str, float], history: History) -> None:
    say(
        f"# {history.months} months ({history.first_month}..2025-12): dbt build: full refresh "
        f"{figures['full_build_s']:.1f} s ({figures['full_nodes']} nodes), one new month "
        f"(cakupan transform --new-loads) {figures['one_month_s']:.1f} s "
        f"({figures['one_month_nodes']} nodes; the fastest of {figures['one_month_runs_s']} s)"
    )
    say(
        f"# {history.months} months: incremental fact models: full refresh "
        f"{figures['full_facts_s']:.2f} s, one new month {figures['one_month_facts_s']:.2f} s"
    )
    say(
        f"# {history.months} months: time in the database (dbt's SQL statements, summed over its "
        f"4 threads on this machine's cores, so it varies from run to run): full refresh "
        f"{figures['full_sql_s']:.2f} s, one new month {figures['one_month_sql_s']:.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    only = set(argv if argv is not None else sys.argv[1:])
    _admin, params = _admin_and_bench_params()

    if not only or "csv" in only:
        csv_path = make_csv()
        floor = min(psql_copy_seconds(params, csv_path) for _ in range(2))
        ours = _load_in_child(csv_path, params)
        accept = ours["accept_seconds"]
        land = ours["seconds"] - accept  # the file's checks, header, COPY: all but acceptance
        say(
            f"# csv: {ROWS:,} rows landed as text in {land:.2f} s, psql \\copy "
            f"{floor:.2f} s; then accepted in {accept:.2f} s (typed "
            f"{ours['rows_landed']:,}, rejected {ours['rows_rejected']})"
        )
        say(f"csv_load_vs_psql_copy={land / floor:.2f}")
        say(f"csv_load_and_accept_vs_psql_copy={ours['seconds'] / floor:.2f}")

    if not only or "xlsx" in only:
        xlsx_path = make_xlsx()
        rows_csv = xlsx_as_csv(xlsx_path)
        parse = min(calamine_parse_seconds(xlsx_path) for _ in range(2))
        copy = min(psql_copy_seconds(params, rows_csv) for _ in range(2))
        ours = _load_in_child(xlsx_path, params)
        accept = ours["accept_seconds"]
        land = ours["seconds"] - accept  # calamine's read, header, COPY: all but acceptance
        say(
            f"# xlsx: {ROWS:,} rows landed as text in {land:.2f} s, calamine "
            f"parse {parse:.2f} s + psql \\copy {copy:.2f} s; then accepted in {accept:.2f} s"
        )
        say(f"xlsx_load_vs_floor={land / (parse + copy):.2f}")
        say(f"xlsx_load_and_accept_vs_floor={ours['seconds'] / (parse + copy):.2f}")
        say(f"xlsx_load_peak_mb={ours['peak_mb']:.0f}")

    if not only or "persons" in only:
        figures = person_figures(params)
        say(f"person_csv_load_and_accept_vs_psql_copy={figures['ratio']:.2f}")
        say(f"person_load_peak_mb={figures['peak_mb']:.0f}")

    if "persons_scale" in only:
        # the register load at 1 and 5 million residents (generated once: about 3 minutes and
        # 1.5 GB for 5 million), each into a fresh database: how it grows toward a national run
        for n in (1_000_000, 5_000_000):
            register = make_person_register(n)
            floor = psql_copy_person_seconds(params, register)
            ours = _load_in_child(register, _fresh_person_db(params), "load_person_once")
            say(f"# persons_scale: {ours['rows_landed']:,} register rows in {ours['seconds']:.1f} s"
                f" ({ours['rows_landed'] / ours['seconds']:,.0f} rows/s), psql \\copy"
                f" {floor:.1f} s")  # fmt: skip
            say(f"person_load_s_{n // 1_000_000}m={ours['seconds']:.1f}")
            say(f"person_load_vs_psql_copy_{n // 1_000_000}m={ours['seconds'] / floor:.2f}")
            say(f"person_load_peak_mb_{n // 1_000_000}m={ours['peak_mb']:.0f}")

    if not only or "reconcile" in only:
        from person_reconcile import RESIDENTS, reconcile_figures

        files = person_files(RESIDENTS)
        sources = _ensure_sources(HISTORY_48)
        figures = reconcile_figures(_admin, files, sources, bench_dir() / "person_reconcile", say)
        say(f"person_reconcile_s={figures['person_reconcile_s']:.1f}")
        say(f"person_match_precision={figures['person_match_precision']:.5f}")
        say(f"person_match_recall={figures['person_match_recall']:.5f}")
        say(f"person_peak_mb={figures['person_peak_mb']:.0f}")

    if not only or "dags" in only:
        times = dag_parse_seconds()
        for name, seconds in times.items():
            say(f"# dag import {name}: {seconds:.3f} s")
        say(f"dag_parse_s_max={max(times.values()):.3f}")
    if not only or "dbt" in only:
        figures = incremental_figures(params)
        _say_incremental(figures, HISTORY_48)
        say(f"one_month_vs_full_build={figures['one_month_s'] / figures['full_build_s']:.2f}")
        say(
            "one_month_vs_full_build_facts="
            f"{figures['one_month_facts_s'] / figures['full_facts_s']:.2f}"
        )
        _admin, params_144 = _admin_and_bench_params(HISTORY_144.dbname)
        long = incremental_figures(params_144, HISTORY_144)
        _say_incremental(long, HISTORY_144)
        say(f"one_month_growth={long['one_month_s'] / figures['one_month_s']:.2f}")
        say(f"one_month_vs_full_build_144={long['one_month_s'] / long['full_build_s']:.2f}")
        say(f"mart_query_p95_ms={mart_query_p95_ms(params):.1f}")

    if not only or "airflow" in only:
        figures = orchestration_figures(params)
        say(
            f"# one month + dbt build: through Airflow {figures['airflow_s']:.1f} s "
            f"(cakupan_membership {figures['membership_s']:.1f} s + cakupan_transform "
            f"{figures['transform_s']:.1f} s, after Airflow's start-up "
            f"{figures['startup_s']:.1f} s and a warm-up run {figures['warm_up_s']:.1f} s), "
            f"direct {figures['direct_s']:.1f} s (load {figures['load_s']:.1f} s + source "
            f"freshness {figures['freshness_s']:.1f} s + build {figures['build_s']:.1f} s)"
        )
        say(
            f"# runs through Airflow {figures['airflow_runs_s']} s, directly "
            f"{figures['direct_runs_s']} s: the fastest of each compared"
        )
        say(
            f"# cold, one `airflow dags test` process per DAG: {figures['airflow_cold_s']:.1f} s "
            f"(cakupan_membership {figures['cold_membership_s']:.1f} s + cakupan_transform "
            f"{figures['cold_transform_s']:.1f} s)"
        )
        say(f"orchestration_overhead={figures['airflow_s'] / figures['direct_s']:.2f}")
        say(f"orchestration_overhead_cold={figures['airflow_cold_s'] / figures['direct_s']:.2f}")

    if "cosmos" in only:  # slow (four transform runs): `python -m cakupan.bench cosmos`
        seconds = cosmos_test_behaviours(params)
        for (mode, behaviour, watchers), value in zip(
            COSMOS_CONFIGS, seconds.values(), strict=True
        ):
            tasks = f", watchers for {watchers}" if _watchers_apply(mode, behaviour) else ""
            say(
                f"# transform DAG with ExecutionMode.{mode.upper()}, "
                f"TestBehavior.{behaviour.upper()}{tasks}: {value:.1f} s"
            )
        default = _cosmos_config_name(*COSMOS_CONFIGS[0])
        for name in list(seconds)[1:]:
            say(f"cosmos_{name}_vs_{default}={seconds[name] / seconds[default]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
