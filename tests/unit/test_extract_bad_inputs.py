"""The bad-input corpus (tests/unit/bad_inputs/corpus.py): every file-level fault, exactly.

The cases that reach their rows (rejects and accepted values) are checked against the warehouse,
where rows are accepted: tests/integration/test_acceptance.py.
"""

from __future__ import annotations

import pytest
from bad_inputs.build import mini_resolver
from bad_inputs.corpus import CASES, Fault
from cakupan.sources import xlsx_stream
from cakupan.sources.contracts import parse_contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import extract_file
from cakupan.sources.landed import sheets_to_land

FAULT_CASES = [c for c in CASES if any(isinstance(e, Fault) for e in c.expect)]
XLSX_FAULT_CASES = [c for c in FAULT_CASES if c.contract.get("kind") == "xlsx"]


@pytest.fixture(scope="module")
def resolver():
    return mini_resolver()


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert len(FAULT_CASES) >= 10


@pytest.mark.parametrize("case", FAULT_CASES, ids=[c.id for c in FAULT_CASES])
def test_file_fault(case, tmp_path, resolver):
    _check_fault(case, tmp_path, resolver)


@pytest.mark.parametrize("case", XLSX_FAULT_CASES, ids=[c.id for c in XLSX_FAULT_CASES])
def test_file_fault_streamed_in_chunks(case, tmp_path, resolver, monkeypatch):
    """The same faults when every worksheet is read in chunks of a few rows
    (`cakupan.sources.xlsx_stream`, used for large worksheets)."""
    monkeypatch.setattr(xlsx_stream, "STREAM_ABOVE_BYTES", 0)
    monkeypatch.setattr(xlsx_stream, "CHUNK_BYTES", 600)
    _check_fault(case, tmp_path, resolver)


def _check_fault(case, tmp_path, resolver):
    path = case.build(tmp_path)
    contract = parse_contract(case.contract, case.id)
    fault = next(e for e in case.expect if isinstance(e, Fault))
    with pytest.raises(SourceFileError) as info:
        extraction = extract_file(path, contract, resolver=resolver)
        try:  # a fault found only while reading the rows (what a landing does)
            for item in sheets_to_land(extraction):
                for _ in item.rows or ():
                    pass
        finally:
            extraction.close()
    assert fault.matches(info.value.fault), info.value.fault
    assert str(info.value) == f"{path}: {info.value.fault}"
    assert "\n" not in str(info.value)
