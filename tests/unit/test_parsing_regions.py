"""Region names and codes -> current Kemendagri codes, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_inputs.build import MINI_ALIASES, MINI_HISTORY, MINI_REGIONS, mini_resolver
from cakupan.parsing.regions import RegionResolver, normalize_region_name


@pytest.fixture(scope="module")
def resolver() -> RegionResolver:
    return mini_resolver()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kab. Aceh Selatan", ("aceh selatan", "kabupaten")),
        ("KAB.ACEH SELATAN", ("aceh selatan", "kabupaten")),
        ("Kab Bogor", ("bogor", "kabupaten")),
        ("Kabupaten  Bogor", ("bogor", "kabupaten")),
        ("Kota Bogor", ("bogor", "kota")),
        ("Kota Adm. Jakarta Pusat", ("jakarta pusat", "kota")),
        ("Kota Administrasi Jakarta Pusat", ("jakarta pusat", "kota")),
        ("Kab. Adm. Kep. Seribu", ("kepulauan seribu", "kabupaten")),
        ("S I A K", ("siak", None)),
        ("Kab. S I A K", ("siak", "kabupaten")),
        ("Tojo Una-Una", ("tojo una una", None)),
        ("Kotabaru", ("kotabaru", None)),
        ("Kotamobagu", ("kotamobagu", None)),
        ("Provinsi Jawa Barat", ("jawa barat", "provinsi")),
        ("  palangka   raya ", ("palangka raya", None)),
    ],
)
def test_normalize(text, expected):
    assert normalize_region_name(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kab. Bogor", "32.01"),
        ("KABUPATEN BOGOR", "32.01"),
        ("Kota Bogor", "32.71"),
        ("kota  bogor", "32.71"),
        ("Kota Palangkaraya", "62.71"),
        ("Kota Palangka Raya", "62.71"),
        ("KOTA PALANGKA RAYA", "62.71"),
        ("Palangka Raya", "62.71"),  # no kabupaten of that name: unique without type
        ("Kab. S I A K", "14.08"),
        ("Kab. Mahakam Hulu", "64.11"),
        ("Kab. Mahakam Ulu", "64.11"),
        ("KAB. SORONG", "96.01"),
        ("Kab. Kutai Kartanegara", "64.02"),
        ("Jawa Barat", "32"),
        ("Provinsi Jawa Tengah", "33"),
    ],
)
def test_resolve_name(resolver, text, code):
    result = resolver.resolve_name(text)
    assert (result.code, result.reason) == (code, None)
    assert result.ok


def test_ambiguous_name_is_never_guessed(resolver):
    result = resolver.resolve_name("Bogor")
    assert result.code is None
    assert result.reason == (
        "ambiguous region name 'Bogor': 32.01 Kabupaten Bogor, 32.71 Kota Bogor"
    )
    assert result.candidates == ("32.01 Kabupaten Bogor", "32.71 Kota Bogor")
    # a province hint cannot split a kabupaten from a kota of the same province
    assert resolver.resolve_name("Bogor", province_hint="Jawa Barat").code is None
    assert resolver.resolve_name("Pekalongan", province_hint="33").code is None


def test_unknown_name_lists_three_closest(resolver):
    result = resolver.resolve_name("Kab. Bogr")
    assert result.code is None
    assert result.reason == (
        "unknown region name 'Kab. Bogr'; closest: 32.01 Kabupaten Bogor,"
        " 32.71 Kota Bogor, 33.25 Kabupaten Batang"
    )
    assert len(result.candidates) == 3
    assert resolver.resolve_name("").reason == "empty region name"
    assert resolver.resolve_name("Kota Siak").code is None  # Siak is a kabupaten


def test_province_hint_narrows_duplicates_across_provinces():
    rows = [
        dict(
            zip(
                ["code", "name", "level", "district_type", "province_code", "bps_code"],
                r,
                strict=True,
            )
        )
        for r in MINI_REGIONS
    ]
    rows.append(
        {
            "code": "99.01",
            "name": "Batang",
            "level": "district",
            "district_type": "kabupaten",
            "province_code": "99",
            "bps_code": "9901",
        }
    )
    rows.append(
        {
            "code": "99",
            "name": "Contoh",
            "level": "province",
            "district_type": "",
            "province_code": "99",
            "bps_code": "99",
        }
    )
    resolver = RegionResolver(rows)
    assert resolver.resolve_name("Kab. Batang").code is None
    assert resolver.resolve_name("Kab. Batang", province_hint="Jawa Tengah").code == "33.25"
    assert resolver.resolve_name("Kab. Batang", province_hint="99").code == "99.01"
    # a hint never rejects a unique match (provinces split: Sorong listed under Papua Barat)
    assert resolver.resolve_name("Kab. Sorong", province_hint="Jawa Barat").code == "96.01"


def test_kemendagri_codes(resolver):
    assert resolver.resolve_code("64.02", "kemendagri").code == "64.02"
    assert resolver.resolve_code("6402", "kemendagri").code == "64.02"  # same code, no dot
    assert resolver.resolve_code(64.02, "kemendagri").code == "64.02"
    assert resolver.resolve_code("32", "kemendagri").code == "32"
    old = resolver.resolve_code("92.01", "kemendagri")
    assert old.code == "96.01"
    assert old.note == "old Kemendagri code 92.01 (KAB. SORONG, decree 2020) is now 96.01"
    assert resolver.resolve_code("99.99", "kemendagri").reason == (
        "unknown Kemendagri code '99.99'"
    )
    assert resolver.resolve_code("32.01.01", "kemendagri").reason == (
        "not a Kemendagri province or kab/kota code: '32.01.01'"
    )
    assert resolver.resolve_code("", "kemendagri").reason == "empty region code"


def test_bps_codes_go_through_the_bridge(resolver):
    assert resolver.resolve_code("6403", "bps").code == "64.02"  # not 64.03
    assert resolver.resolve_code(6403, "bps").code == "64.02"
    assert resolver.resolve_code("6402", "bps").reason == "unknown BPS code '6402'"
    assert resolver.resolve_code("64.03", "bps").code is None
    assert resolver.resolve_code("Kota Bogor", "name").code == "32.71"


def test_from_files_reads_the_three_csvs(tmp_path: Path):
    (tmp_path / "r.csv").write_text(
        "code,name,level,district_type,province_code,bps_code\n"
        + "\n".join(",".join(r) for r in MINI_REGIONS)
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "a.csv").write_text(
        "alias,code\n" + "\n".join(f"{a},{c}" for a, c in MINI_ALIASES) + "\n"
    )
    (tmp_path / "h.csv").write_text(
        "code,name,decree_year,current_code\n" + "\n".join(",".join(r) for r in MINI_HISTORY)
    )
    resolver = RegionResolver.from_files(tmp_path / "r.csv", tmp_path / "a.csv", tmp_path / "h.csv")
    assert resolver.resolve_name("Kab. Mahakam Hulu").code == "64.11"
    assert resolver.resolve_code("92.71", "kemendagri").code == "96.71"


def test_package_reference_defaults():
    resolver = RegionResolver.default()
    assert resolver is RegionResolver.default()
    assert resolver.resolve_name("Kota Palangkaraya").code == "62.71"
    assert resolver.resolve_name("Kota Palangka Raya").code == "62.71"
    assert resolver.resolve_name("Kota Pekalongan").code == "33.75"
    assert resolver.resolve_name("Kab. Pekalongan").code == "33.26"
    assert resolver.resolve_name("Kab. Batang").code == "33.25"
    assert resolver.resolve_name("Bogor").code is None
    assert resolver.resolve_code("6403", "bps").code == "64.02"
    assert resolver.resolve_code("92.01", "kemendagri").code == "96.01"
