"""`cakupan`: the command line of the warehouse (demo, warehouse, sources, dbt)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys


def _checked_warehouse():
    """The warehouse connection, tried once before dbt runs: one clear error, not dbt's."""
    from cakupan.warehouse import check, resolve_params

    params = resolve_params()
    check(params)
    return params


def _warehouse(args) -> int:
    from cakupan.warehouse import check, embedded, params_from_env, resolve_params

    if args.action == "check":
        params = resolve_params()
        version = check(params)
        print(f"warehouse: {params.describe()}: PostgreSQL {version}")
    elif args.action == "start":
        server = embedded.start()
        print(f"embedded PostgreSQL on 127.0.0.1:{server.port} (data {server.data_dir})")
    elif args.action == "stop":
        print("stopped" if embedded.stop() else "not running")
    elif args.action == "status":
        external = params_from_env()
        if external is not None:
            print(f"AIRFLOW_CONN_WAREHOUSE: {external.url(mask=True)}")
        server = embedded.default()
        state = "running" if embedded.is_running(server) else "stopped"
        print(f"embedded PostgreSQL: {state} (127.0.0.1:{server.port}, data {server.data_dir})")
    elif args.action == "url":
        # for scripts (`export AIRFLOW_CONN_WAREHOUSE=$(cakupan warehouse url --show-password)`)
        print(resolve_params().url(mask=not args.show_password))
    return 0


def _demo(args) -> int:
    try:
        import xlsxwriter  # noqa: F401 - the demo's workbooks
    except ImportError:
        raise RuntimeError(
            "the demo needs its extra: pip install 'cakupan[demo]' (make demo installs it)"
        ) from None
    if args.action == "persons":
        return _demo_persons(args)
    if args.action == "generate":
        from pathlib import Path

        from cakupan import config
        from cakupan.demo.generate import generate

        out = Path(args.out) if args.out else config.sources_dir()
        files = generate(out, extras=True, progress=print, persons=args.persons)
        print(f"{len(files)} files written to {out}")
        return 0
    from cakupan.demo.run import run

    return run(generate=not args.keep_sources, from_month=args.from_month, persons=args.persons)


def _demo_persons(args) -> int:
    """`cakupan demo persons --residents N --out DIR`: only the synthetic person files."""
    import time
    from pathlib import Path

    from cakupan import config
    from cakupan.demo.persons import generate_persons

    out = Path(args.out) if args.out else config.sources_dir() / "persons"
    residents = args.residents or args.persons
    started = time.monotonic()
    print(f"synthetic Kutai Kartanegara: {residents:,} residents, seed {args.seed} -> {out}")
    files = generate_persons(
        out, residents=residents, seed=args.seed, period=args.period, progress=print
    )
    for path in files.paths():
        print(f"  {path.name}")
    counts = files.counts
    print(
        f"register {counts['register_rows']:,}, BPJS {counts['membership_rows']:,}, "
        f"DTSEN {counts['dtsen_rows']:,}, WBP {counts['wbp_rows']:,} rows "
        f"({time.monotonic() - started:.1f} s)"
    )
    return 0


def _dbt(args) -> int:
    from cakupan.pipeline import run_dbt

    return run_dbt(args.dbt_args, params=_checked_warehouse(), check=False)


def _transform(args) -> int:
    from cakupan.pipeline import transform

    if args.after is not None:
        # the former form, kept for scripts: the loads themselves now tell what changed
        print(
            "note: --after is now --new-loads: it builds what every load since the last "
            "transform changes, whichever sources they were (no contract names needed)",
            file=sys.stderr,
        )
    params = _checked_warehouse()
    return transform(
        new_loads=args.new_loads or args.after is not None,
        full_refresh=args.full_refresh,
        params=params,
        check=False,
    )


def _summary(args) -> int:
    from cakupan.summary import read_summary
    from cakupan.warehouse import connect, resolve_params

    conn = connect(resolve_params())  # fails first, with the one-line connection error
    try:
        for line in read_summary(conn).lines():
            print(line)
    finally:
        conn.close()
    return 0


class _ToProgress(logging.Handler):
    """Log records shown as the progress line (the API client's retries: `HTTP 503; retry 1 of
    4 in 1.0 s`), so that a failure ends in its one error line and nothing else."""

    def __init__(self, step) -> None:
        super().__init__(logging.WARNING)
        self.step = step

    def emit(self, record: logging.LogRecord) -> None:
        self.step(record.getMessage())


@contextlib.contextmanager
def _retries_shown(step):
    logger = logging.getLogger("cakupan.sources.http")
    if logger.getEffectiveLevel() <= logging.INFO:  # -v: every line, as logged
        yield
        return
    handler = _ToProgress(step)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def _load(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cakupan.pipeline import load_file
    from cakupan.warehouse import connect, resolve_params

    if args.period and not args.source:
        raise ValueError("cakupan load: --period is for an API source (--source NAME)")
    if bool(args.files) == bool(args.source):
        raise ValueError("cakupan load: give files, or --source NAME (an API source), not both")

    # one connection for every file, opened before the first file is read (a connection that
    # cannot work fails here, with the one-line error)
    conn = connect(resolve_params(), application_name="cakupan-load")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # the progress on stderr, gone when done (rich prints stdout's lines above it)
    bar = Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    with bar, contextlib.closing(conn):
        files = bar.add_task("loading", total=len(args.files) or 1)

        def step(message: str) -> None:
            bar.update(files, description=message)

        if args.source:
            from cakupan.pipeline import load_api

            with _retries_shown(step):
                result = load_api(
                    args.source,
                    args.period,
                    conn=conn,
                    progress=step,
                    allow_shrink=args.allow_shrink,
                )
            print(
                f"{args.source}: load {result['load_id']}: {result['source_file']}: read"
                f" {result['rows_read']}, landed {result['rows_landed']}, rejected"
                f" {result['rows_rejected']}, skipped {result['rows_skipped']}"
            )
            bar.advance(files)
        for path in args.files:
            step(f"{path}: reading")
            result = load_file(
                path, args.contract, conn=conn, progress=step, allow_shrink=args.allow_shrink
            )
            # `rows_landed` are the rows accepted into the raw table ("landed" in the output is
            # only ever the rows landed as text, before acceptance)
            persons = ""
            if result["raw_table"] == "restricted.person_records":  # counts, never a value
                persons = (
                    f" (kept with an invalid NIK {result['nik_invalid']}, without a NIK"
                    f" {result['nik_missing']}; reasons in raw.person_rejects)"
                )
            print(
                f"{path}: load {result['load_id']}: read {result['rows_read']}, accepted "
                f"{result['rows_landed']}, rejected {result['rows_rejected']}, skipped "
                f"{result['rows_skipped']}{persons}"
            )
            bar.advance(files)
    return 0


def _add_warehouse_and_demo(sub) -> None:
    wh = sub.add_parser("warehouse", help="the embedded PostgreSQL / the warehouse connection")
    wh.add_argument(
        "action",
        choices=["check", "start", "stop", "status", "url"],
        help="check: connect once and print the server's version",
    )
    wh.add_argument("--show-password", action="store_true", help="with url: unmasked")
    wh.set_defaults(func=_warehouse)

    demo = sub.add_parser("demo", help="run the whole warehouse on demo data")
    demo.add_argument(
        "action",
        nargs="?",
        choices=["run", "generate", "persons"],
        default="run",
        help="run (default); generate: the source files only; persons: the person files only",
    )
    demo.add_argument("--out", help="with generate / persons: folder to write to")
    demo.add_argument(
        "--persons",
        type=int,
        default=20_000,
        metavar="N",
        help="residents of the synthetic Kutai Kartanegara's person files (default 20000; 0: none)",
    )
    demo.add_argument("--residents", type=int, metavar="N", help="with persons: residents")
    demo.add_argument("--seed", type=int, default=6402, help="with persons: random seed")
    demo.add_argument("--period", default="2025-06", metavar="YYYY-MM", help="with persons")
    demo.add_argument("--keep-sources", action="store_true", help="do not regenerate sources")
    demo.add_argument(
        "--from-month",
        default="2022-01",
        metavar="YYYY-MM",
        help="load the months from this one to 2025-12 only (quicker; default 2022-01: all)",
    )
    demo.set_defaults(func=_demo)


def _add_pipeline(sub) -> None:
    dbt = sub.add_parser("dbt", help="run dbt against the warehouse connection")
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)
    dbt.set_defaults(func=_dbt)

    transform = sub.add_parser(
        "transform",
        help="dbt build of the warehouse: everything, or what the loads since the last one change",
    )
    what = transform.add_mutually_exclusive_group()
    what.add_argument(
        "--new-loads",
        action="store_true",
        help="only what the loads since the last transform change (a new month: seconds)",
    )
    what.add_argument(
        "--after",
        nargs="*",
        metavar="CONTRACT",
        help="the former form of --new-loads (the contract names are no longer needed)",
    )
    what.add_argument("--full-refresh", action="store_true", help="rebuild everything")
    transform.set_defaults(func=_transform)

    summary = sub.add_parser("summary", help="national coverage, UHC count, lowest districts")
    summary.set_defaults(func=_summary)

    load = sub.add_parser(
        "load", help="load source files, or an API source (--source), into the warehouse now"
    )
    load.add_argument("files", nargs="*")
    load.add_argument("--contract", help="contract name (default: matched by file name)")
    load.add_argument(
        "--source", metavar="NAME", help="an API source's contract (bps_api, ckan_datastore)"
    )
    load.add_argument(
        "--period", help="with --source: the year (2024) or month (2024-03) to ask the API for"
    )
    load.add_argument(
        "--allow-shrink",
        action="store_true",
        help="load a delivery far smaller than the current load of its periods (refused otherwise)",
    )
    load.set_defaults(func=_load)


def build_parser() -> argparse.ArgumentParser:
    from cakupan.operate import register as register_operate
    from cakupan.sources.cli import register as register_sources

    parser = argparse.ArgumentParser(prog="cakupan", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_warehouse_and_demo(sub)
    _add_pipeline(sub)
    register_sources(sub)  # `cakupan sources ...`
    register_operate(sub)  # `cakupan airflow ...`, `cakupan loads`
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line for a person; -v shows the traceback
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
