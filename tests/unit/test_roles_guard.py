"""Office scopes are checked before any role is made; the guard reads PostgreSQL's durations."""

from __future__ import annotations

import pytest
from cakupan.warehouse.guard import timeout_seconds
from cakupan.warehouse.roles import check_scope


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("5min", 300.0),
        ("30000", 30.0),
        ("1500ms", 1.5),
        ("1h", 3600.0),
        ("0", None),
        ("", None),
        (None, None),
    ],
)
def test_timeout_seconds(value, seconds):
    assert timeout_seconds(value) == seconds


def test_timeout_seconds_refuses_what_is_not_a_duration():
    with pytest.raises(ValueError, match="statement_timeout 'soon' is not a duration"):
        timeout_seconds("soon")


def test_check_scope_accepts_a_kab_kota_and_its_kecamatan():
    check_scope("64.02", None)
    check_scope("64.02", "64.02.01")


@pytest.mark.parametrize(
    ("district", "kecamatan", "message"),
    [
        ("6402", None, "--district '6402': a kab/kota code such as 64.02"),
        ("64.99", None, "--district 64.99: no such kab/kota in regions.csv"),
        ("64.02", "64.03.01", "--kecamatan '64.03.01': a kecamatan code of kab/kota 64.02"),
        ("64.02", "64.02.1", "--kecamatan '64.02.1': a kecamatan code of kab/kota 64.02"),
    ],
)
def test_check_scope_refuses(district, kecamatan, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        check_scope(district, kecamatan)


def test_every_person_mart_gets_the_rls_post_hook():
    """The project's own models under models/persons/marts/ (dbt parse's manifest, `make`)."""
    import json
    from pathlib import Path

    manifest = Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "manifest.json"
    assert manifest.exists(), "run `make manifest` (dbt parse) first"
    nodes = json.loads(manifest.read_text())["nodes"].values()
    marts = [
        node
        for node in nodes
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith("models/persons/marts/")
    ]
    assert {"person_status", "worklist_items"} <= {node["name"] for node in marts}
    for node in marts:
        assert node["schema"] == "persons", node["name"]
        hooks = [hook["sql"] for hook in node["config"]["post-hook"]]
        # the policy and grants (and the model's own `analyze`, which reads no role)
        assert "{{ person_rls() }}" in hooks, node["name"]
        assert set(hooks) <= {"{{ person_rls() }}", "analyze {{ this }}"}, node["name"]
        assert all(hook["transaction"] for hook in node["config"]["post-hook"]), node["name"]
        # the policy reads both codes
        assert {"district_code", "kecamatan_code"} <= set(node["columns"]), node["name"]
    others = [
        node
        for node in nodes
        if node["resource_type"] == "model" and node not in marts and node["schema"] == "persons"
    ]
    assert others == []  # nothing reaches `persons` without the hook
