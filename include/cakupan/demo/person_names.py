"""Indonesian name lists of the synthetic kabupaten and the spelling variants sources make.

Invented combinations of common given names (no real person is meant). Names are upper case, as
Dukcapil and BPJS print them. Groups: Jawa, Banjar, Bugis, Kutai, Dayak (Christian given
names and Dayak names); a newer generation (born 2000 on) draws from `YOUNG_*`.
"""

from __future__ import annotations

import random

GROUPS = ("JAWA", "BANJAR", "BUGIS", "KUTAI", "DAYAK")
GROUP_WEIGHTS = (34, 22, 20, 16, 8)  # shares of households in Kukar (approximate)
MUSLIM = {"JAWA": 0.93, "BANJAR": 1.0, "BUGIS": 1.0, "KUTAI": 0.99, "DAYAK": 0.15}

MALE = {
    "JAWA": "AGUS BUDI SUTRISNO JOKO SUPRIYADI WAHYU BAMBANG HERU SUGENG SLAMET PURNOMO TRI EKO "
    "ARIF HADI SUSILO WIDODO PRASETYO NUGROHO SUYANTO SUPARMAN SUKIRMAN RAHMAT YUDI DIDIK "
    "SUJARWO DARMANTO SUPRAPTO MULYONO KASIMAN TUKIMAN WARSITO",
    "BANJAR": "AHMAD FAUZI RIDUAN SYAHRANI ASPIANNOR NOOR ARBAIN RUSMADI MASRANI JUHRI "
    "GUSTI ANTUNG SAMSUL ISMAIL ABDULLAH HAMDANI SUPIANI HASBULLAH KHAIRUL ZAINUDIN",
    "BUGIS": "ANDI SYAMSUDDIN BASO AMIRUDDIN NASRULLAH ABDUL HASANUDDIN RUSLAN ARIFUDDIN "
    "JUMADI SUDIRMAN HAMZAH BAHTIAR MUSTAKIM SAHABUDDIN IRWAN SUKARDI LA",
    "KUTAI": "AJI AWANG RAHMAN SYAHRUL ZAINAL ISKANDAR JUMRI SAPRUDIN RIDWAN HERMANSYAH "
    "ROSIHAN EDI BAHRANSYAH SAIDIN ARIFIN JAMALUDIN SUPRIADI DAHLAN ASRANI",
    "DAYAK": "YOHANES AGUSTINUS PETRUS STEFANUS MARKUS YOSEF PAULUS ANTONIUS BENEDIKTUS "
    "FRANSISKUS LUKAS YULIUS LAING IBAU LUHAT JUK ANYE LENJAU BIT",
}
FEMALE = {
    "JAWA": "SRI SITI ENDANG SUMARNI SUPARTI WAHYUNI LESTARI RAHAYU SUSANTI YULIANI RATNA TUTIK "
    "SUGIARTI WULANDARI PUJI ASTUTI NINGSIH KARTINI SUMIATI PARTINI MARYATI SUMINAH",
    "BANJAR": "NORHALIZA NORJANAH SALASIAH MASITAH RABIATUL HALIMAH NURHAYATI ARBAYAH NORAINI "
    "JUBAIDAH MAHMUDAH RUSNAH HAIRIAH NORLIANI SARIAH",
    "BUGIS": "HASNAWATI NURHAEDAH SITTI MARLINA KASMAWATI HARTATI RAHMAWATI NURMIATI "
    "MUSDALIFAH HERLINA ASMAWATI HASNAH JUMRIAH SAMSIAH",
    "KUTAI": "DAYANG MASNAH SALMAH ROHANI JAMILAH NORMAH HAMIDAH ZAHRAH FATIMAH RUSMINI "
    "MAIMUNAH ASMAH HAYATI KAMARIAH",
    "DAYAK": "MARIA MARTINA ELISABETH KATARINA YULIANA MAGDALENA LUSIA THERESIA REGINA "
    "VERONIKA ANITA UBUNG IDING LEDANG",
}
SECOND_MALE = {
    "JAWA": "SANTOSO WIBOWO SAPUTRA PRATAMA HIDAYAT WIJAYA SETIADI PURWANTO HANDOKO SULISTYO "
    "SUSANTO SUBAGYO",
    "BANJAR": "RAHMAN HIDAYAT NOOR ANSHARI RIFANI MAULANA SYARIFUDDIN",
    "BUGIS": "AMIR MAPPA RAHIM LATIF SALEH MAHMUD",
    "KUTAI": "RAHMAN EFENDI SAPUTRA SYAHRANI IDRUS",
    "DAYAK": "LAING AJANG LEDJIE HANYE",
}
SECOND_FEMALE = {
    "JAWA": "WATI LESTARI ASTUTI RAHAYU HANDAYANI PUSPITASARI NINGRUM SULASTRI",
    "BANJAR": "HAYATI JANNAH SARI AULIA",
    "BUGIS": "WATI SARI MUNIR",
    "KUTAI": "SARI WATI HAYATI",
    "DAYAK": "LIAH ING LUSI",
}
YOUNG_MALE = (
    "RIZKY FAJAR ADITYA RAFFI FARHAN NAUFAL ALIF DIMAS BAYU GILANG REZA ILHAM YOGA DAFFA "
    "ARDIANSYAH FIRMANSYAH KEVIN ANDIKA AKBAR"
)
YOUNG_FEMALE = (
    "AISYAH PUTRI AULIA NAYLA SALSABILA ZAHRA KHAIRUNNISA AYU DEWI INDAH ANISA FITRI NABILA "
    "AMELIA NADIA RIZKA DINDA CITRA"
)
YOUNG_CHRISTIAN_MALE = "GABRIEL MIKAEL DANIEL SAMUEL YOSUA KRISTIAN"
YOUNG_CHRISTIAN_FEMALE = "GRACE ANGELIN CLARA MICHELLE JESSICA STEFANI"


def _split(table: dict[str, str]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v.split()) for k, v in table.items()}


_MALE, _FEMALE = _split(MALE), _split(FEMALE)
_SECOND_M, _SECOND_F = _split(SECOND_MALE), _split(SECOND_FEMALE)
_YOUNG = {("L", True): tuple(YOUNG_MALE.split()), ("P", True): tuple(YOUNG_FEMALE.split())}
_YOUNG[("L", False)] = tuple(YOUNG_CHRISTIAN_MALE.split())
_YOUNG[("P", False)] = tuple(YOUNG_CHRISTIAN_FEMALE.split())
_CHRISTIAN_M = tuple("YOHANES PETRUS MARKUS YOSEF PAULUS ANTONIUS DAVID".split())
_CHRISTIAN_F = tuple("MARIA MARTINA ELISABETH YULIANA LUSIA THERESIA RUTH".split())

ONE_WORD_RATE_OLD = 0.40  # born before 1970: one word names (SUPARMAN) are common
ONE_WORD_RATE = 0.18
MUHAMMAD_RATE = 0.14  # of Muslim men: MUHAMMAD as the first word
SITI_NUR_RATE = 0.10  # of Muslim women: SITI / NUR as the first word


def person_name(rng: random.Random, group: str, sex: str, birth_year: int, muslim: bool) -> str:
    """An invented upper-case name for a person of `group` born in `birth_year`."""
    male = sex == "L"
    young = birth_year >= 2000
    if young and rng.random() < 0.6:
        first = rng.choice(_YOUNG[(sex, muslim)])
    elif muslim or group != "DAYAK":
        first = rng.choice((_MALE if male else _FEMALE)[group])
    else:
        first = rng.choice(_CHRISTIAN_M if male else _CHRISTIAN_F)
    one_word = ONE_WORD_RATE_OLD if birth_year < 1970 else ONE_WORD_RATE
    words = [first]
    if rng.random() >= one_word:
        second = (_SECOND_M if male else _SECOND_F)[group]
        pool = (_MALE if male else _FEMALE)[group]
        words.append(rng.choice(second if rng.random() < 0.5 else pool))
        if words[1] == first:
            words[1] = rng.choice(second)
        if rng.random() < 0.08:
            words.append(rng.choice(second))
    if muslim and male and rng.random() < MUHAMMAD_RATE:
        words.insert(0, "MUHAMMAD")
    elif muslim and not male and rng.random() < SITI_NUR_RATE and first not in ("SITI", "SITTI"):
        words.insert(0, rng.choice(("SITI", "NUR")))
    return " ".join(words)


_MUHAMMAD = ("MUHAMAD", "MOHAMMAD", "MOHAMAD", "MOH.", "M.", "MUH.")
_OLD_SPELLING = (("J", "DJ"), ("C", "TJ"), ("U", "OE"), ("Y", "J"))
VARIANT_KINDS = ("muhammad", "title", "old_spelling", "double_letter")


def _title(name: str, sex: str, age: int, rng: random.Random) -> str:
    r = rng.random()
    if age >= 40 and r < 0.45:
        return ("H. " if sex == "L" else "HJ. ") + name
    if age >= 25 and r < 0.75:
        return name + ", S.PD"
    if age >= 45 and r < 0.88:
        return "DRS. " + name if sex == "L" else "DRA. " + name
    if age >= 25:
        return "DR. " + name
    return _old_spelling(name, rng)


def _old_spelling(name: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in _OLD_SPELLING if a in name]
    if not options:
        return _double(name, rng)
    a, b = rng.choice(options)
    i = name.index(a)
    return name[:i] + b + name[i + 1 :]


def _double(name: str, rng: random.Random) -> str:
    for i in range(1, len(name)):
        if name[i] == name[i - 1] and name[i].isalpha():
            return name[:i] + name[i + 1 :]  # SYAMSUDDIN -> SYAMSUDIN
    spots = [i for i in range(1, len(name) - 1) if name[i] in "BDKLMNRST" and name[i - 1] != " "]
    if not spots:
        return name + "H" if not name.endswith("H") else name[:-1]
    i = rng.choice(spots)
    return name[: i + 1] + name[i:]  # NURHAYATI -> NURRHAYATI


def name_variant(name: str, sex: str, age: int, rng: random.Random) -> tuple[str, str]:
    """(variant, kind): the name as another office spelled it (still the same person)."""
    if name.startswith("MUHAMMAD "):
        return rng.choice(_MUHAMMAD) + name[8:], "muhammad"
    r = rng.random()
    if r < 0.40:
        return _title(name, sex, age, rng), "title"
    if r < 0.75:
        return _old_spelling(name, rng), "old_spelling"
    return _double(name, rng), "double_letter"


STREETS = (
    "JL. KH. AHMAD DAHLAN|JL. PANGERAN DIPONEGORO|JL. MULAWARMAN|JL. PATTIMURA|JL. GATOT SUBROTO|"
    "JL. IMAM BONJOL|JL. JEND. SUDIRMAN|JL. KARTINI|JL. POROS SAMARINDA|JL. WOLTER MONGINSIDI|"
    "JL. PESUT|JL. MUSO SALIM|JL. BHAYANGKARA|JL. GUNUNG GANDAR|GG. MAWAR|GG. MELATI|GG. BERSAMA|"
    "GG. KELAPA|JL. DANAU JEMPANG|JL. SEPAKAT|JL. RAMBUTAN|DUSUN SUKA MAJU|DUSUN TANI JAYA|"
    "DUSUN PERJIWA|DUSUN LUNG ANAI|JL. POROS KOTA BANGUN|JL. HASANUDDIN|JL. SEMERU"
).split("|")
