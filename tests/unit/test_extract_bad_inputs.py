"""The bad-input corpus (tests/unit/bad_inputs/corpus.py): every case and its exact outcome."""

from __future__ import annotations

import pytest
from bad_inputs.build import mini_resolver
from bad_inputs.corpus import CASES, Accept, Fault, Reject
from cakupan.sources import xlsx_stream
from cakupan.sources.contracts import parse_contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import ExtractedRow, RejectedRow, extract_file


@pytest.fixture(scope="module")
def resolver():
    return mini_resolver()


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


XLSX_CASES = [c for c in CASES if c.contract.get("kind") == "xlsx"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, resolver):
    _check_case(case, tmp_path, resolver)


@pytest.mark.parametrize("case", XLSX_CASES, ids=[c.id for c in XLSX_CASES])
def test_bad_input_streamed_in_chunks(case, tmp_path, resolver, monkeypatch):
    """The same outcomes when every worksheet is read in chunks of a few rows
    (`cakupan.sources.xlsx_stream`, used for large worksheets)."""
    monkeypatch.setattr(xlsx_stream, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 600)
    streamed = []

    class Recorded(xlsx_stream.SheetStream):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            streamed.append(self)

    monkeypatch.setattr(xlsx_stream, "SheetStream", Recorded)
    _check_case(case, tmp_path, resolver)
    if not any(isinstance(e, Fault) for e in case.expect):
        assert streamed, "the row-level cases must take the chunked path"


def _check_case(case, tmp_path, resolver):
    path = case.build(tmp_path)
    contract = parse_contract(case.contract, case.id)
    faults = [e for e in case.expect if isinstance(e, Fault)]
    if faults:
        with pytest.raises(SourceFileError) as info:
            extraction = extract_file(path, contract, resolver=resolver)
            list(extraction.rows())
        assert faults[0].matches(info.value.fault), info.value.fault
        assert str(info.value) == f"{path}: {info.value.fault}"
        assert "\n" not in str(info.value)
        return

    extraction = extract_file(path, contract, resolver=resolver)
    rows = {row.source_row: row for row in extraction.rows()}
    for expected in case.expect:
        got = rows.get(expected.row)
        assert got is not None, f"row {expected.row} was not yielded: {sorted(rows)}"
        if isinstance(expected, Reject):
            assert isinstance(got, RejectedRow), got
            assert (got.sheet, got.column, got.reason) == (
                expected.sheet,
                expected.column,
                expected.reason,
            )
            assert got.source_values  # the row is kept as it was
        elif isinstance(expected, Accept):
            assert isinstance(got, ExtractedRow), got
            assert got.region_code == expected.region_code
            for name, value in expected.values.items():
                assert got.values[name] == value, name
    assert extraction.rows_read == extraction.rows_accepted + extraction.rows_rejected
    if case.counts is not None:
        assert extraction.counts() == case.counts
