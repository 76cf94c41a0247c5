"""A failed build's failing tests, read from dbt's run_results.json (cakupan.failures)."""

from __future__ import annotations

import json

from cakupan.failures import failing_tests


def test_only_failing_or_erroring_tests_with_their_sql(tmp_path):
    results = {
        "results": [
            {"unique_id": "test.cakupan.a", "status": "pass", "compiled_code": "select 1"},
            {"unique_id": "test.cakupan.b", "status": "fail", "failures": 2, "compiled_code": "x"},
            {"unique_id": "test.cakupan.c", "status": "error", "compiled_code": "y"},
            {"unique_id": "model.cakupan.d", "status": "error", "compiled_code": "z"},
            {"unique_id": "test.cakupan.e", "status": "fail", "compiled_code": None},
        ]
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(results))
    assert [r["unique_id"] for r in failing_tests(path)] == ["test.cakupan.b", "test.cakupan.c"]


def test_no_run_results_no_tests(tmp_path):
    assert failing_tests(tmp_path / "missing.json") == []
    (tmp_path / "bad.json").write_text("{not json")
    assert failing_tests(tmp_path / "bad.json") == []
