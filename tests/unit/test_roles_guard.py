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
