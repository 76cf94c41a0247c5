"""`make demo`: generate the demo sources, run the DAGs through Airflow, print a summary."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from cakupan import airflow_local, config
from cakupan.warehouse import check, connect, params_from_env, resolve_params

FIRST_MONTH, LAST_MONTH = "2022-01", "2025-12"


PERSONS_MONTH = "2025-06"  # the month of the synthetic Kukar's person files


def steps(
    from_month: str = FIRST_MONTH, *, persons: bool = False
) -> list[tuple[str, str, dict | None]]:
    """The DAG runs of the demo: reference lists, then the months from `from_month` on (and
    the person-level files of the synthetic Kukar, when there are some)."""
    months = {"from_month": from_month, "to_month": LAST_MONTH}
    person_month = {"from_month": PERSONS_MONTH, "to_month": PERSONS_MONTH}
    return [
        ("cakupan_reference", "2025-01-01", None),
        ("cakupan_population", "2025-07-01", months),
        ("cakupan_membership", "2025-12-01", months),
        ("cakupan_special_groups", "2025-12-01", months),
        *([("cakupan_persons", "2025-07-01", person_month)] if persons else []),
        ("cakupan_transform", "2025-12-01", None),
    ]


def say(message: str) -> None:
    print(message, flush=True)  # noqa: T201 - the demo talks to a person


def run(*, generate: bool = True, from_month: str = FIRST_MONTH, persons: int = 20_000) -> int:
    """The whole warehouse on demo data; `from_month` (YYYY-MM) loads fewer months, quicker;
    `persons`: residents of the synthetic Kutai Kartanegara's person files (0: none)."""
    if not (FIRST_MONTH <= from_month <= LAST_MONTH) or len(from_month) != 7:
        raise ValueError(f"--from-month must be a month from {FIRST_MONTH} to {LAST_MONTH}")
    started = time.monotonic()
    external = params_from_env() is not None
    say("[1/5] warehouse: " + ("AIRFLOW_CONN_WAREHOUSE" if external else "embedded PostgreSQL"))
    params = resolve_params()
    version = check(params)  # a connection that cannot work stops here, before any file
    say(f"      {params.describe()} (PostgreSQL {version})")

    if generate:
        from cakupan.demo.generate import generate as generate_sources

        t = time.monotonic()
        files = generate_sources(config.sources_dir(), extras=True, persons=persons)
        say(
            f"[2/5] demo sources: {len(files)} files in {config.sources_dir()} "
            f"({time.monotonic() - t:.1f} s)"
        )
    else:
        say("[2/5] demo sources: kept as they are")

    env = airflow_local.airflow_env(params.airflow_value())
    airflow_local.ensure_db(env)
    if persons:
        from cakupan.warehouse.person_key import person_key

        person_key(generate=True)  # the demo's own key, .cakupan/person_key (never printed)
    runs = steps(from_month, persons=bool(persons))
    first, *ingest, last = runs
    _run_dag(first, env)  # the reference lists the others' region checks read
    with ThreadPoolExecutor(LANES) as pool:  # independent sources: side by side
        lanes = [ingest[i::LANES] for i in range(LANES)]
        for done in [pool.submit(_run_lane, lane, env) for lane in lanes]:
            done.result()
    _run_dag(last, env)

    from cakupan.summary import read_summary

    conn = connect(params)
    try:
        summary = read_summary(conn)
    finally:
        conn.close()
    say("[5/5] summary")
    say("")
    for line in summary.lines():
        say(line)
    say("")
    from cakupan.warehouse.roles import bi_password

    _, password_source = bi_password(generate=False)
    # the BI role logs in with its own password, shown masked
    bi_url = params.replace(user=config.bi_role(), password="-").url(mask=True)
    say(f"BI tools connect to: {bi_url} (schemas marts and dq; password: {password_source})")
    for line in _worklists_written():
        say(line)
    say(f"Done in {time.monotonic() - started:.0f} s.")
    return 0


LANES = 2  # `airflow dags test` processes at once: each is mostly one core's Python


def _run_lane(lane: list[tuple[str, str, dict | None]], env: dict[str, str]) -> None:
    for run in lane:
        _run_dag(run, env)


def _run_dag(run: tuple[str, str, dict | None], env: dict[str, str]) -> None:
    dag_id, logical_date, conf = run
    label = "[4/5] transform" if dag_id == "cakupan_transform" else "[3/5] ingest"
    say(f"{label}: airflow dags test {dag_id} ...")
    seconds = airflow_local.dags_test(dag_id, logical_date, env, conf)
    say(f"      {dag_id} succeeded in {seconds:.0f} s")


def _worklists_written() -> list[str]:
    """Where the transform DAG wrote the worklists (`write_worklists`): one line per district."""
    root = config.worklist_dir()
    lines = []
    for district in sorted(p for p in root.glob("??.??") if p.is_dir()):
        files = sorted(district.glob("*.xlsx"))
        if files:
            lines.append(
                f"Worklists of {district.name} (synthetic personal data): {len(files)} XLSX,"
                f" one per kecamatan, in {district}"
            )
    return lines
