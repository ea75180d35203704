#!/usr/bin/env python3
"""Generate common-names.txt: ordinary person and company names from many
cultures, used to measure false positives of the sanctions name matcher
(none of these names is meant to be on a sanctions list).

Regenerate from the repository root:

    pip install Faker==40.63.0 Unidecode==1.4.0
    python3 testdata/screening/gen-common-names.py

The output is deterministic for a given Faker/Unidecode version: Faker.seed()
is set to SEED and every locale gets its own generator seeded with
"SEED/locale", so adding or removing a locale does not change the others.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import sys
import unicodedata

import faker
from faker import Faker
from faker.config import AVAILABLE_LOCALES

try:
    from unidecode import unidecode
except ImportError:  # romanisation is optional
    unidecode = None

FAKER_VERSION = "40.63.0"
UNIDECODE_VERSION = "1.4.0"
SEED = 20261126

PERSONS_PER_LOCALE = 36
COMPANIES_PER_LOCALE = 24
ROMANISED_PER_LOCALE = 12

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "common-names.txt")

# Grouped by region only for readability; order matters for the output order
# (deduplication keeps the first occurrence).
LOCALES = [
    # Americas
    "en_US", "es_MX", "pt_BR", "fr_CA", "es_AR", "es_CO",
    # Western and Northern Europe
    "en_GB", "en_IE", "fr_FR", "de_DE", "es_ES", "pt_PT", "it_IT", "nl_NL",
    "sv_SE", "da_DK", "no_NO", "fi_FI",
    # Central, Eastern and South-Eastern Europe
    "pl_PL", "cs_CZ", "hu_HU", "ro_RO", "hr_HR", "bg_BG", "ru_RU", "uk_UA",
    "el_GR",
    # Middle East, Caucasus, Central Asia
    "tr_TR", "ar_AA", "ar_SA", "ar_PS", "fa_IR", "he_IL", "az_AZ", "hy_AM",
    "ka_GE", "uz_UZ",
    # Africa
    "en_NG", "yo_NG", "ha_NG", "ig_NG", "tw_GH", "en_KE", "sw", "zu_ZA",
    # South Asia
    "hi_IN", "en_IN", "ta_IN", "bn_BD", "ne_NP", "en_PK",
    # East and South-East Asia
    "zh_CN", "zh_TW", "ja_JP", "ko_KR", "vi_VN", "id_ID", "th_TH", "fil_PH",
]

# Locales whose names are written in a non-Latin script. Names from these
# locales that contain Latin letters (English fallbacks such as "X Group",
# "Goagle") are dropped so that each locale stays in its own script.
NON_LATIN = {
    "bg_BG", "ru_RU", "uk_UA", "el_GR", "ar_AA", "ar_SA", "ar_PS", "fa_IR",
    "he_IL", "hy_AM", "ka_GE", "hi_IN", "ta_IN", "bn_BD", "ne_NP", "zh_CN",
    "zh_TW", "ja_JP", "ko_KR", "th_TH",
}

# "Plain" person names are built as given + family name, except here, where
# the family name comes first (value = separator).
FAMILY_FIRST = {"zh_CN": "", "zh_TW": "", "ko_KR": "", "ja_JP": " ", "hu_HU": " ", "vi_VN": " "}

# Romanised (Latin) copies of some person names, tagged "<locale>-Latn".
# Only scripts where Unidecode gives a usable romanisation: Cyrillic and
# Greek letter by letter, Chinese and Korean syllable by syllable on the
# family and given names separately. (Unidecode drops the vowels of Arabic,
# Persian and Hebrew, reads Japanese kanji as Chinese, and is rough for the
# Indic scripts and Thai, so those are left out.)
ROMANISE_WHOLE = {"ru_RU", "uk_UA", "bg_BG", "el_GR"}
ROMANISE_PARTS = {"zh_CN", "zh_TW", "ko_KR"}

# Faker's company provider for these locales returns real listed companies
# (fa_IR: Tehran Stock Exchange companies, several of them sanctioned;
# bn_BD: large Bangladeshi companies and banks). Company names for them are
# composed from Faker surnames and local legal-form words instead.
COMPOSED_COMPANIES = {
    "fa_IR": [
        "شرکت {a}",
        "{a} و شرکا",
        "{a} و پسران",
        "گروه {a}",
        "شرکت {a} و {b}",
        "شرکت {a} (سهامی خاص)",
    ],
    "bn_BD": [
        "{a} এন্টারপ্রাইজ",
        "{a} ট্রেডার্স",
        "{a} গ্রুপ",
        "{a} অ্যান্ড সন্স",
        "{a} লিমিটেড",
        "{a} অ্যান্ড {b}",
    ],
}

# Company-provider attributes that hold lists of real companies (e.g.
# ru_RU.large_companies: Gazprom, Rosneft, ...). Names drawn from them are
# skipped.
REAL_COMPANY_ATTRS = ("large_companies", "company_names", "companies")

# Generated names that are, word for word, a name on the sanctions lists in
# the repository's testdata/ (OFAC SDN and consolidated lists with aliases, UN
# consolidated list), found by comparing Unidecode-folded, lower-cased, sorted
# word sets. Dropped so that every row here is a genuine negative.
#   "Viana": OFAC SDN vessel VIANA (uid 25272).
EXCLUDE = {"viana"}

LATIN_LETTER = re.compile(r"[A-Za-z]")
WS = re.compile(r"\s+")


def clean(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = WS.sub(" ", name).strip()
    return name


def key(name: str) -> str:
    return name.casefold()


def provider_lang(fake: Faker, kind: str) -> str | None:
    """Locale of the provider Faker actually uses for `kind` ('person',
    'company'); differs from the requested locale when Faker falls back."""
    for prov in fake.providers:
        mod = type(prov).__module__
        if mod.startswith(f"faker.providers.{kind}"):
            return mod.rsplit(".", 1)[-1]
    return None


def company_provider(fake: Faker):
    for prov in fake.providers:
        if type(prov).__module__.startswith("faker.providers.company"):
            return prov
    return None


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def romanise_syllables(s: str) -> str:
    return cap("".join(unidecode(ch).strip().lower() for ch in s))


def main() -> int:
    if faker.VERSION != FAKER_VERSION and "--any-version" not in sys.argv:
        print(
            f"Faker {faker.VERSION} installed, {FAKER_VERSION} expected "
            f"(pip install Faker=={FAKER_VERSION}); pass --any-version to go on anyway",
            file=sys.stderr,
        )
        return 1
    romanise = unidecode is not None
    udv = importlib.metadata.version("Unidecode") if romanise else "not installed"
    if udv != UNIDECODE_VERSION:
        print(f"note: Unidecode {udv}, {UNIDECODE_VERSION} expected; the -Latn rows may differ", file=sys.stderr)

    Faker.seed(SEED)
    seen: set[str] = set()
    rows: list[tuple[str, str, str]] = []
    stats: list[tuple[str, int, int, int, str]] = []

    def add(kind: str, loc: str, name: str) -> bool:
        name = clean(name)
        if not name or key(name) in seen or key(name) in EXCLUDE:
            return False
        seen.add(key(name))
        rows.append((kind, loc, name))
        return True

    for loc in LOCALES:
        if loc not in AVAILABLE_LOCALES:
            print(f"skipping {loc}: not in this Faker", file=sys.stderr)
            continue
        fake = Faker(loc)
        fake.seed_instance(f"{SEED}/{loc}")
        rnd = fake.random
        notes = []
        non_latin = loc in NON_LATIN

        def ok_script(name: str) -> bool:
            return not (non_latin and LATIN_LETTER.search(name))

        # --- persons -------------------------------------------------------
        n_person = n_roman = 0
        roman_todo: list[str] = []
        if provider_lang(fake, "person") == loc:
            attempts = 0
            while n_person < PERSONS_PER_LOCALE and attempts < 40 * PERSONS_PER_LOCALE:
                attempts += 1
                plain = attempts % 3 == 0
                parts = None
                if plain:
                    if rnd.random() < 0.5:
                        given, family = fake.first_name_male(), fake.last_name_male()
                    else:
                        given, family = fake.first_name_female(), fake.last_name_female()
                    if loc in FAMILY_FIRST:
                        name = family + FAMILY_FIRST[loc] + given
                    else:
                        name = given + " " + family
                    parts = (family, given)
                else:
                    name = fake.name()
                if not ok_script(name) or not add("person", loc, name):
                    continue
                n_person += 1
                if romanise and len(roman_todo) < ROMANISED_PER_LOCALE:
                    if loc in ROMANISE_WHOLE and n_person % 3 == 0:
                        roman_todo.append(unidecode(clean(name)))
                    elif loc in ROMANISE_PARTS and parts is not None:
                        family, given = parts
                        roman_todo.append(romanise_syllables(family) + " " + romanise_syllables(given))
        else:
            notes.append(f"no persons (Faker falls back to {provider_lang(fake, 'person')})")

        for r in roman_todo:
            if add("person", loc + "-Latn", r):
                n_roman += 1

        # --- companies -----------------------------------------------------
        n_company = 0
        attempts = 0
        if loc in COMPOSED_COMPANIES:
            templates = COMPOSED_COMPANIES[loc]
            notes.append("companies composed from surnames (Faker's list is real companies)")
            while n_company < COMPANIES_PER_LOCALE and attempts < 40 * COMPANIES_PER_LOCALE:
                attempts += 1
                t = rnd.choice(templates)
                name = t.format(a=fake.last_name(), b=fake.last_name())
                if ok_script(name) and add("company", loc, name):
                    n_company += 1
        else:
            prov = company_provider(fake)
            real = set()
            for attr in REAL_COMPANY_ATTRS:
                real.update(clean(x) for x in getattr(prov, attr, ()) or ())
            if provider_lang(fake, "company") != loc:
                notes.append(f"company formats from {provider_lang(fake, 'company')} with local surnames")
            while n_company < COMPANIES_PER_LOCALE and attempts < 40 * COMPANIES_PER_LOCALE:
                attempts += 1
                name = fake.company()
                if clean(name) in real or not ok_script(name):
                    continue
                if add("company", loc, name):
                    n_company += 1

        stats.append((loc, n_person, n_company, n_roman, "; ".join(notes)))

    n_persons = sum(1 for r in rows if r[0] == "person")
    n_companies = len(rows) - n_persons

    lines = [
        "# Common person and company names from many cultures, for measuring false",
        "# positives of the sanctions name matcher. These are ordinary names generated",
        "# with Faker; none is meant to be on a sanctions list (a common name can still",
        "# coincide with a listed person's name).",
        "#",
        "# Regenerate from the repository root:",
        f"#   pip install Faker=={FAKER_VERSION} Unidecode=={UNIDECODE_VERSION}",
        "#   python3 testdata/screening/gen-common-names.py",
        f"# Faker {faker.VERSION}, Unidecode {udv}, seed {SEED} (Faker.seed; each",
        "# locale has its own generator seeded with \"<seed>/<locale>\").",
        "#",
        "# Format: kind<TAB>locale<TAB>name, UTF-8 (NFC), one per line; kind is person",
        "# or company. Names keep their original script; locale \"<loc>-Latn\" marks a",
        "# Unidecode romanisation of a person name from <loc>. Duplicates (case-",
        "# insensitive) are removed; control and format characters (Cc, Cf) stripped.",
        "# Real companies that Faker ships (ru_RU/tr_TR/nl_NL/az_AZ large_companies)",
        "# are skipped; fa_IR and bn_BD company names are composed from surnames.",
        "# Names equal word for word to a name on the lists in testdata/ are dropped",
        "# (EXCLUDE in the script).",
        "#",
        f"# Total: {len(rows)} names ({n_persons} persons, {n_companies} companies), "
        f"{len(stats)} locales.",
        f"#   {'locale':<9}{'persons':>7} {'companies':>10} {'romanised':>10}  notes",
    ]
    for loc, p, c, r, note in stats:
        lines.append(f"#   {loc:<9}{p:>7} {c:>10} {r:>10}  {note}".rstrip())
    for kind, loc, name in rows:
        assert "\t" not in name and "\n" not in name
        lines.append(f"{kind}\t{loc}\t{name}")

    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {OUT}: {len(rows)} names", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
