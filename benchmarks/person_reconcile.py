"""`make bench`'s person-level figures: a synthetic Kutai Kartanegara of 750,000 residents
(`CAKUPAN_BENCH_RESIDENTS` changes it) from its four files to its worklists, the way an office
runs it, each step a `cakupan` command in its own process:

- `person_reconcile_s`: load the four person files (`cakupan load`), build the person models and
  the marts they feed (`cakupan dbt build --select path:models/persons+`), write the worklists
  (`cakupan worklist --district 64.02`);
- `person_match_precision`, `person_match_recall`: the links of `restricted.int_person_links`
  against the generator's truth file (membership, DTSEN and WBP records that have a register
  person);
- `person_peak_mb`: the largest peak resident memory of those processes (the server's own
  memory is not in it).

The warehouse is a database of its own (`cakupan_bench_persons`), made anew each run, with the
national reference lists, one population release and the June 2025 BPJS recap of the bench's
demo sources loaded and built before the clock starts (what an office's warehouse is before its
first person load; the reconciliation sets the person level beside that recap).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from psycopg import sql

RESIDENTS = int(os.environ.get("CAKUPAN_BENCH_RESIDENTS", "750000"))
DBNAME = "cakupan_bench_persons"
DISTRICT = "64.02"
# the aggregate sources loaded before the clock starts (paths in the demo sources' folder)
AGGREGATE_FILES = (
    "kemendagri/kode_wilayah_kepmendagri_2025.csv",
    "bps/bridge_kode_bps_kemendagri_2020.csv",
    "dukcapil/penduduk_kabkota_2025_s1.csv",
    "bpjs/rekap_peserta_jkn_2025_06.xlsx",
)
PERSON_CONTRACTS = {
    "register": "dukcapil_register",
    "membership": "bpjs_membership_master",
    "dtsen": "dtsen_individuals",
    "wbp": "wbp_list",
}


def _cakupan(args: list[str], env: dict[str, str], peaks: list[float] | None = None) -> float:
    """One `cakupan` command in its own process; its seconds, and its own peak memory in MB
    appended to `peaks` (`wait4`'s usage of that child alone: `RUSAGE_CHILDREN` would carry
    the peak of any earlier child of the bench, such as a 5-million-row load). Output kept out
    of the bench's (the commands print counts and paths only, but the bench prints figures)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("cakupan")), *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            output.seek(0)
            tail = output.read().strip().splitlines()[-5:]
            raise RuntimeError(f"cakupan {args[0]} failed: " + " | ".join(tail))
    if peaks is not None:
        peaks.append(usage.ru_maxrss / 1024)
    return seconds


def _fresh_database(admin) -> object:
    import psycopg

    conn = psycopg.connect(**admin.dsn_kwargs(), autocommit=True)
    with conn.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (DBNAME,)
        )
        cur.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(DBNAME)))
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(DBNAME)))
    conn.close()
    return admin.replace(dbname=DBNAME)


def _quality(params, truth_path: Path) -> tuple[float, float]:
    """(precision, recall) of the links made against the generator's truth."""
    from cakupan.warehouse import connect

    with truth_path.open(encoding="utf-8", newline="") as f:
        truth = {
            (row["dataset"], int(row["row_number"])): int(row["person_id"])
            if row["person_id"]
            else None
            for row in csv.DictReader(f)
        }
    conn = connect(params)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select records.dataset, records.row_number, register.row_number"
                " from restricted.int_person_links as links"
                " join restricted.current_person_records as records"
                "   on records.record_id = links.record_id"
                " join restricted.person_records as register"
                "   on register.record_id = links.register_record_id"
            )
            made = cur.fetchall()
    finally:
        conn.close()
    correct = sum(1 for dataset, row, linked in made if truth.get((dataset, row)) == linked)
    expected = sum(1 for (dataset, _), person in truth.items() if dataset != "register" and person)
    return correct / max(len(made), 1), correct / max(expected, 1)


def reconcile_figures(admin, files, sources: Path, work_dir: Path, say) -> dict[str, float]:
    """The figures of the module comment, for the generator's `files` (a `PersonFiles`);
    `sources`: the demo sources' folder the aggregate files come from."""
    params = _fresh_database(admin)
    env = dict(
        os.environ,
        AIRFLOW_CONN_WAREHOUSE=params.url(mask=False),
        CAKUPAN_PERSON_KEY=os.environ.get("CAKUPAN_PERSON_KEY", "bench-" + "k" * 40),
    )
    target = ["--target-path", str(work_dir / "dbt_target")]
    # the warehouse before its first person load
    _cakupan(["load", *(str(sources / name) for name in AGGREGATE_FILES)], env)
    _cakupan(["dbt", "build", *target], env)
    steps: dict[str, float] = {}
    peaks: list[float] = []
    for dataset, contract in PERSON_CONTRACTS.items():
        path = getattr(files, dataset)
        load = ["load", str(path), "--contract", contract]
        steps[f"load {dataset}"] = _cakupan(load, env, peaks)
    build = ["dbt", "build", "--select", "path:models/persons+", *target]
    steps["dbt build"] = _cakupan(build, env, peaks)
    out = work_dir / "worklists"
    worklist = ["worklist", "--district", DISTRICT, "--out", str(out)]
    steps["worklists"] = _cakupan(worklist, env, peaks)
    peak_mb = max(peaks)
    precision, recall = _quality(params, files.truth)
    say(
        f"# persons: {RESIDENTS:,} residents from files to worklists: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
        + "; peak MB: "
        + ", ".join(f"{name} {mb:.0f}" for name, mb in zip(steps, peaks, strict=True))
    )
    return {
        "person_reconcile_s": sum(steps.values()),
        "person_match_precision": precision,
        "person_match_recall": recall,
        "person_peak_mb": peak_mb,
    }
