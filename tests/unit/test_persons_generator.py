"""The synthetic Kutai Kartanegara's person files: structure, truth, NIK, flaw rates.

The files hold synthetic personal data: the assertions compare counts and shares, never a NIK
or a name (a failing assert shows numbers only).
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from datetime import date, datetime

import pytest
from cakupan.demo import persons as gen
from cakupan.parsing.wilayah import desa_of, kecamatan_of
from nik_rule import nik_problem  # the NIK rule as a test oracle (tests/unit/nik_rule.py)
from python_calamine import CalamineWorkbook

RESIDENTS = 6_000
SEED = 11


class _Rows(list):
    """Rows of a file; their repr (shown when a test fails) is their count only."""

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def _read(path):
    with path.open(encoding="utf-8", newline="") as f:
        return _Rows(csv.DictReader(f))


def _wbp(path):
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("WBP").to_python()
    header = [str(h) for h in rows[0]]
    return header, _Rows(dict(zip(header, r, strict=True)) for r in rows[1:])


@pytest.fixture(scope="module")
def kab(tmp_path_factory):
    out = tmp_path_factory.mktemp("persons")
    files = gen.generate_persons(out, residents=RESIDENTS, seed=SEED)
    truth = defaultdict(dict)
    for t in _read(files.truth):
        assert int(t["row_number"]) not in truth[t["dataset"]]  # one truth line per file row
        truth[t["dataset"]][int(t["row_number"])] = int(t["person_id"]) if t["person_id"] else 0
    register = _read(files.register)
    header, wbp = _wbp(files.wbp)
    return _Safe(
        {
            "files": files,
            "register": register,
            "membership": _read(files.membership),
            "dtsen": _read(files.dtsen),
            "wbp_header": header,
            "wbp": wbp,
            "truth": truth,
        }
    )


class _Safe(dict):
    """The fixture's data; its repr (shown when a test fails) holds no NIK and no name."""

    def __repr__(self) -> str:
        return f"<synthetic kabupaten: {', '.join(self)}>"


def _within(observed: int, rate: float, n: int) -> bool:
    """`observed` within 4 standard deviations (+2) of `rate * n` (a binomial count)."""
    expected = rate * n
    return abs(observed - expected) <= 4 * math.sqrt(expected * (1 - rate)) + 2


def test_files_and_headers(kab):
    files = kab["files"]
    assert [p.name for p in files.paths()] == list(gen.file_names("2025-06").values())
    with files.register.open(encoding="utf-8") as f:
        assert f.readline().strip().split(",") == gen.REGISTER_HEADER
    assert list(kab["membership"][0]) == gen.BPJS_HEADER
    assert list(kab["dtsen"][0]) == gen.DTSEN_HEADER
    assert kab["wbp_header"] == gen.WBP_HEADER
    assert len(kab["register"]) == RESIDENTS
    assert files.counts["register_rows"] == RESIDENTS
    assert files.counts["membership_rows"] == len(kab["membership"])


def test_truth_covers_every_row_of_every_file(kab):
    truth = kab["truth"]
    for dataset, rows in (
        ("register", kab["register"]),
        ("membership", kab["membership"]),
        ("dtsen", kab["dtsen"]),
        ("wbp", kab["wbp"]),
    ):
        assert sorted(truth[dataset]) == list(range(1, len(rows) + 1)), dataset
        assert all(0 <= p <= RESIDENTS for p in truth[dataset].values()), dataset
    assert all(p == r for r, p in truth["register"].items())
    assert [int(r["NO"]) for r in kab["wbp"]] == list(range(1, len(kab["wbp"]) + 1))


def test_the_real_kecamatan_and_desa_all_peopled(kab):
    expected = {d.code for k in kecamatan_of("64.02") for d in desa_of(k.code)}
    desa = Counter(r["KODE_DESA"] for r in kab["register"])
    assert set(desa) == expected and len(expected) == 237
    assert {r["KODE_KEC"] for r in kab["register"]} == {k.code for k in kecamatan_of("64.02")}
    sizes = sorted(desa.values())
    assert sizes[-1] > 4 * sizes[len(sizes) // 2] / 2  # unequal sizes
    assert all(r["KODE_DESA"].startswith(r["KODE_KEC"] + ".") for r in kab["register"])


def _birth(text: str) -> date:
    return datetime.strptime(text, "%d-%m-%Y").date()


def test_register_niks_pass_the_rule_except_the_flawed(kab):
    counts = kab["files"].counts
    problems = Counter()
    for r in kab["register"]:
        sex = "L" if r["JENIS_KLMIN"] == "LAKI-LAKI" else "P"
        problems[nik_problem(r["NIK"], sex, _birth(r["TGL_LHR"]))] += 1
    failing = RESIDENTS - problems[None]
    assert problems["missing"] == counts.get("register_nik_missing", 0)
    assert failing == counts.get("register_nik_missing", 0) + counts.get("register_nik_invalid", 0)
    assert _within(
        failing, gen.REGISTER_NIK_MISSING_RATE + gen.REGISTER_NIK_INVALID_RATE, RESIDENTS
    )
    dead = sum(r["STATUS_HIDUP"] == "MATI" and bool(r["TGL_MATI"]) for r in kab["register"])
    dated = sum(bool(r["TGL_MATI"]) for r in kab["register"])
    assert dead == dated == kab["files"].counts["register_dead"] > 0
    valid = [r["NIK"] for r in kab["register"] if r["NIK"] and nik_problem(r["NIK"]) is None]
    duplicated = len(valid) - len(set(valid))
    assert duplicated == 0  # unique
    women = [r["NIK"] for r in kab["register"] if r["JENIS_KLMIN"] == "PEREMPUAN" and r["NIK"]]
    women_40 = sum(int(nik[6:8]) > 40 for nik in women)
    n_women = len(women)
    assert women_40 >= n_women - failing


def test_households_share_a_kk_and_an_address(kab):
    by_kk = defaultdict(list)
    for r in kab["register"]:
        by_kk[r["NO_KK"]].append(r)
    sizes = [len(v) for v in by_kk.values()]
    assert 2.8 <= RESIDENTS / len(by_kk) <= 4.5
    assert max(sizes) >= 5 and Counter(sizes)[1] > 0
    assert all(len({(m["ALAMAT"], m["KODE_DESA"]) for m in v}) == 1 for v in by_kk.values())
    assert all(len(kk) == 16 and kk.isdigit() for kk in by_kk)


def test_age_pyramid(kab):
    ages = Counter(min(9, (2025 - _birth(r["TGL_LHR"]).year) // 10) for r in kab["register"])
    share = {k: v / RESIDENTS for k, v in ages.items()}
    assert 0.25 <= share[0] + share[1] <= 0.40  # under 20
    assert share[6] + share.get(7, 0) + share.get(8, 0) + share.get(9, 0) < 0.16  # 60 and over
    assert share[2] > share[5] > share[7]


def _persons_with_membership(kab):
    truth = kab["truth"]["membership"]
    by_person = defaultdict(list)
    for i, row in enumerate(kab["membership"], start=1):
        by_person[truth[i]].append(row)
    return by_person


def test_coverage_below_uhc_and_active_share(kab):
    by_person = _persons_with_membership(kab)
    alive = [i for i, r in enumerate(kab["register"], start=1) if r["STATUS_HIDUP"] == "HIDUP"]
    covered = sum(1 for i in alive if i in by_person)
    assert 0.85 <= covered / len(alive) < 0.95  # Kukar is not at UHC
    rows = kab["membership"]
    active = sum(r["STATUS_PESERTA"] == "AKTIF" for r in rows)
    assert 0.72 <= active / len(rows) <= 0.83
    assert {r["STATUS_PESERTA"] for r in rows} == {"AKTIF", "NON AKTIF"}
    reasons = Counter(r["KETERANGAN"] for r in rows if r["STATUS_PESERTA"] == "NON AKTIF")
    assert set(reasons) == {"MENUNGGAK IURAN", "PHK", "MENINGGAL", "MUTASI", "BELUM VERIFIKASI"}
    assert all(r["KETERANGAN"] == "" for r in rows if r["STATUS_PESERTA"] == "AKTIF")
    segments = Counter(r["SEGMEN"] for r in rows)
    assert set(segments) == {"PBI APBN", "PBI APBD", "PPU", "PBPU", "BP"}
    assert all(0.04 <= segments[s] / len(rows) <= 0.45 for s in segments)
    cards = [r["NO_KARTU"] for r in rows]
    distinct, well_formed = len(set(cards)), sum(len(c) == 13 and c.isdigit() for c in cards)
    assert distinct == well_formed == len(rows)


def test_membership_flaws(kab):
    register = kab["register"]
    by_person = _persons_with_membership(kab)
    rows = kab["membership"]
    n = len(rows)
    not_in_register = len(by_person.get(0, []))
    assert _within(not_in_register, gen.NOT_IN_REGISTER_RATE, RESIDENTS)
    duplicates = sum(1 for p, v in by_person.items() if p and len(v) >= 2)
    assert _within(duplicates, gen.DUPLICATE_CARD_RATE, n)
    dead_active = sum(
        1
        for p, v in by_person.items()
        if p and register[p - 1]["STATUS_HIDUP"] == "MATI"
        for r in v
        if r["STATUS_PESERTA"] == "AKTIF"
    )
    assert dead_active == kab["files"].counts["membership_dead_still_active"] > 0
    missing = sum(r["NIK"] == "" for r in rows)
    assert _within(missing, gen.BPJS_NIK_MISSING_RATE, n)
    matched = [(register[p - 1], r) for p, v in by_person.items() if p for r in v]
    other = sum(1 for g, r in matched if r["NIK"] and g["NIK"] and r["NIK"] != g["NIK"])
    flawed_register = sum(1 for g, r in matched if r["NIK"] and nik_problem(g["NIK"]))
    assert _within(other - flawed_register, gen.BPJS_NIK_MISTYPED_RATE, n)
    same = [(g, r) for g, r in matched if r["NIK"] and r["NIK"] == g["NIK"]]
    disagree = sum(
        1
        for _, r in same
        if nik_problem(r["NIK"], r["JENIS_KELAMIN"], date.fromisoformat(r["TGL_LAHIR"]))
    )
    assert disagree == 0  # the unflawed NIK agrees with BPJS's own sex and birth date
    renamed, n_matched = sum(g["NAMA_LGKP"] != r["NAMA"] for g, r in matched), len(matched)
    assert _within(renamed, gen.BPJS_NAME_VARIANT_RATE, n_matched)
    moved = Counter(
        "district" if not r["KODE_DESA"].startswith("64.02.") else "desa"
        for g, r in matched
        if r["KODE_DESA"] != g["KODE_DESA"]
    )
    assert moved["district"] > 0 and moved["desa"] > moved["district"]
    assert _within(sum(moved.values()), gen.MOVED_DESA_RATE + gen.MOVED_DISTRICT_RATE, n)


def test_name_variants_are_of_the_documented_kinds(kab):
    counts = kab["files"].counts
    for kind in ("muhammad", "title", "old_spelling", "double_letter"):
        assert counts.get(f"membership_name_variant_{kind}", 0) > 0, kind
    names = [r["NAMA"] for r in kab["membership"]]
    muhammad = sum(n.startswith(("M. ", "MOH. ", "MUHAMAD ")) for n in names)
    haji = sum(n.startswith(("H. ", "HJ. ")) for n in names)
    assert muhammad > 0 and haji > 0
    register_names = [r["NAMA_LGKP"] for r in kab["register"]]
    one_word = sum(" " not in n for n in register_names)
    assert 0.1 <= one_word / RESIDENTS <= 0.5
    titled = sum(n.startswith(("H. ", "HJ. ", "DRS. ")) for n in register_names)
    assert titled == 0


def test_dtsen_poor_over_represented_and_candidates(kab):
    rows = kab["dtsen"]
    desil = Counter(int(r["DESIL"]) for r in rows)
    assert set(desil) == set(range(1, 11))
    assert sum(desil[d] for d in range(1, 5)) / len(rows) > 0.55
    by_person = _persons_with_membership(kab)
    truth = kab["truth"]["dtsen"]
    pbi = {"PBI APBN", "PBI APBD"}
    candidates = sum(
        1
        for i, r in enumerate(rows, start=1)
        if int(r["DESIL"]) <= 4
        and truth[i]
        and not any(m["SEGMEN"] in pbi for m in by_person.get(truth[i], []))
    )
    assert candidates > 0.05 * sum(desil[d] for d in range(1, 5))
    assert _within(sum(r["NIK"] == "" for r in rows), gen.DTSEN_NIK_MISSING_RATE, len(rows))


def test_wbp_in_several_districts_some_without_jkn(kab):
    rows, truth = kab["wbp"], kab["truth"]["wbp"]
    assert len(rows) == max(gen.WBP_MIN, round(RESIDENTS * gen.WBP_PER_RESIDENT))
    districts = Counter(r["KODE_DESA_ASAL"][:5] for r in rows if r["KODE_DESA_ASAL"])
    assert len(districts) >= 3 and "64.02" in districts
    outside = [i for i in truth if not truth[i]]
    assert 0 < len(outside) < len(rows)
    assert all(not rows[i - 1]["KODE_DESA_ASAL"].startswith("64.02") for i in outside)
    assert {r["NAMA_UPT"] for r in rows} <= set(gen.WBP_FACILITIES)
    assert all(isinstance(r["NIK"], str) for r in rows)  # text cells, not numbers
    dated = sum(date.fromisoformat(r["TANGGAL_LAHIR"]).year > 1900 for r in rows)
    assert dated == len(rows)  # YYYY-MM-DD, as the wbp_list contract reads it
    by_person = _persons_with_membership(kab)
    inside_without = sum(1 for i, p in truth.items() if p and p not in by_person)
    assert inside_without == kab["files"].counts.get("wbp_in_register_not_enrolled", 0)


def test_no_formula_like_cell_except_the_intended_dash(kab):
    starts = ("=", "+", "-", "@")
    found = Counter()
    for dataset in ("register", "membership", "dtsen", "wbp"):
        for row in kab[dataset]:
            for column, value in row.items():
                if isinstance(value, str) and value.startswith(starts):
                    found[(dataset, column, value == "-")] += 1
    assert set(found) <= {("register", "ALAMAT", True)}
    assert found[("register", "ALAMAT", True)] == kab["files"].counts["register_address_dash"]


def test_deterministic_for_a_seed(kab, tmp_path):
    again = gen.generate_persons(tmp_path / "a", residents=RESIDENTS, seed=SEED)
    for ours, theirs in zip(kab["files"].paths(), again.paths(), strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), ours.name
    other = gen.generate_persons(tmp_path / "b", residents=RESIDENTS, seed=SEED + 1)
    assert other.register.read_bytes() != kab["files"].register.read_bytes()
    assert again.counts == kab["files"].counts


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="residents"):
        gen.generate_persons(tmp_path, residents=10)
    with pytest.raises(ValueError, match="period"):
        gen.generate_persons(tmp_path, residents=2_000, period="2025-6")


def test_cli_writes_the_person_files(tmp_path, capsys):
    from cakupan.cli import main

    out = tmp_path / "persons"
    assert main(["demo", "persons", "--residents", "2000", "--out", str(out), "--seed", "3"]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(gen.file_names("2025-06").values())
    said = capsys.readouterr().out
    assert "register 2,000" in said and "64.02.20 Samboja Barat written" in said
    assert main(["demo", "persons", "--residents", "20", "--out", str(out)]) == 1
    assert "at least 1,000" in capsys.readouterr().err


def test_demo_generate_writes_persons_into_the_sources(tmp_path):
    from cakupan.demo import generate as demo_generate

    said: list[str] = []
    written = demo_generate._write_persons(tmp_path / "persons", 1_500, said.append)
    assert [p.parent.name for p in written] == ["persons"] * 5
    assert "1,500 residents" in said[0]
