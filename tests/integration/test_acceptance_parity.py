"""Loading accepts and rejects exactly what `cakupan sources check` does, row for row.

Every case of the bad-input corpus (tests/unit/bad_inputs) that reaches its rows is extracted
in Python (the rules `sources check` reports) and loaded into a real PostgreSQL (landed by COPY,
accepted in SQL); both must give the same accepted rows (row, period, region, every value), the
same rejects (sheet, row, column, reason) and the same counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from psycopg2 import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))

from bad_inputs.build import mini_resolver  # noqa: E402
from bad_inputs.corpus import CASES, Fault  # noqa: E402
from cakupan.landing.load import land_file  # noqa: E402
from cakupan.sources.contracts import parse_contract  # noqa: E402
from cakupan.sources.extract import ExtractedRow, extract_file  # noqa: E402

pytestmark = pytest.mark.integration

ROW_CASES = [c for c in CASES if not any(isinstance(e, Fault) for e in c.expect)]


@pytest.fixture(scope="module")
def resolver():
    return mini_resolver()


def _value(value):
    return None if value is None else str(value)


def test_the_parity_corpus_is_large_enough():
    assert len(ROW_CASES) >= 20


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.id for c in ROW_CASES])
def test_loading_agrees_with_check(case, tmp_path, resolver, db):
    path = case.build(tmp_path)
    contract = parse_contract(case.contract, case.id)

    reference = extract_file(path, contract, resolver=resolver)
    accepted, rejected = {}, {}
    for row in reference.rows():
        if isinstance(row, ExtractedRow):
            values = {k: _value(v) for k, v in row.values.items()}
            accepted[(row.sheet, row.source_row)] = (row.period, row.region_code, values)
        else:
            rejected[(row.sheet, row.source_row)] = (row.column, row.reason)

    result = land_file(
        db, contract, extract_file(path, contract, resolver=resolver), source_file=path.name
    )

    schema, _, table = contract.raw_table.partition(".")
    names = list(contract.fields)
    with db.cursor() as cur:
        cur.execute(
            sql.SQL("select _sheet, _source_row, _period, _region_code, {} from {}.{}").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(n)) for n in names),
                sql.Identifier(schema),
                sql.Identifier(table),
            )
        )
        loaded = {
            (r[0], r[1]): (r[2], r[3], dict(zip(names, r[4:], strict=True))) for r in cur.fetchall()
        }
        cur.execute(
            "select sheet, source_row, column_name, reason from raw.rejects where _load_id = %s",
            (result.load_id,),
        )
        loaded_rejects = {(r[0], r[1]): (r[2], r[3]) for r in cur.fetchall()}

    # numbers compare as numbers: 95.98 and 95.980 are the same value
    def normal(values):
        out = {}
        for k, v in values.items():
            if v is not None and contract.fields[k].type in ("integer", "number", "percent"):
                from decimal import Decimal

                v = str(Decimal(v).normalize())
            out[k] = v
        return out

    assert {k: (p, r, normal(v)) for k, (p, r, v) in loaded.items()} == {
        k: (p, r, normal(v)) for k, (p, r, v) in accepted.items()
    }
    assert loaded_rejects == rejected
    assert result.rows_read == reference.rows_read
    assert result.rows_rejected == reference.rows_rejected
    assert result.rows_skipped == reference.rows_skipped
    assert result.rows_read == result.rows_landed + result.rows_rejected
