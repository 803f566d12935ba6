"""Canonical names for entity mentions, so that counts add up per real-world entity."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from stream import DATA_DIR

# Titles and honorifics that precede a name but are not part of it.
_HONORIFICS = re.compile(
    r"^(?:(?:presiden|wakil presiden|wapres|menteri|menlu|menhan|gubernur|bupati|wali kota|"
    r"walikota|jenderal|letjen|mayjen|brigjen|kapolri|kapolda|kapolres|ketua|direktur|"
    r"bapak|pak|ibu|bu|saudara|sdr|tuan|nyonya|haji|hj|h|dr|drs|ir|prof|kh|mr|mrs|ms|"
    r"dr\.|president|prime minister|minister|secretary|senator|sen|rep|gov|governor|"
    r"general|gen|sir|lord|king|queen|pope|sheikh)\.?\s+)+",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_ARTICLE = re.compile(r"^the\s+(?=\S+\s+\S)", re.IGNORECASE)
_WORD_CHARACTER = re.compile(r"\w")
_SLUG = re.compile(r"[^a-z0-9]+")
# A dateline or headline in capitals ("LONDON (AP) —"): words of four letters or more are
# names written in capitals, not acronyms ("DC", "USA" stay).
_CAPITALISED_WORD = re.compile(r"\b[^\W\d_]{4,}\b")


def short_form(mention: str) -> tuple[str, str] | None:
    """("Mahkamah Konstitusi", "MK") for "Mahkamah Konstitusi (MK)", else None: a name, then
    a short form in the last brackets, which close the mention and hold no other bracket.

    Read by position, not by a regular expression: the one this replaces tried every split of
    the name, cubic in a mention's length."""
    text = _SPACE.sub(" ", mention).strip()
    opening = text.rfind("(")
    if not text.endswith(")") or opening < 0 or ")" in text[opening + 1:-1]:
        return None
    name, short = text[:opening].rstrip(), text[opening + 1:-1].strip()
    if not (_WORD_CHARACTER.search(name) and _WORD_CHARACTER.search(short)):
        return None
    return name, short


def canonical_name(mention: str, label: str) -> str:
    named = short_form(mention)
    name = _SPACE.sub(" ", named[0] if named else mention).strip(" \t\"'“”‘’.,;:()[]")
    if label in ("PER", "LOC") and name.isupper():
        name = _CAPITALISED_WORD.sub(lambda word: word.group().capitalize(), name)
    if label == "PER":
        stripped = _HONORIFICS.sub("", name)
        name = stripped or name
    else:
        # English models take the article into names ("the United States", "The Conservative
        # Party"); a one-word rest keeps it ("The Hague", "The Guardian").
        name = _ARTICLE.sub("", name)
    return name


def entity_id(name: str, label: str) -> str:
    """Stable id: ``LABEL:slug`` (ASCII-folded, lower-case, hyphen-separated)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG.sub("-", folded.lower()).strip("-") or _SLUG.sub("-", name.lower()).strip("-")
    return f"{label}:{slug or 'unnamed'}"


Alias = tuple[str, str | None]  # canonical name, label (None: keep the model's)

DEFAULT_ALIASES = DATA_DIR / "aliases.tsv"


def _rows(paths: tuple[Path, ...]) -> list[list[str]]:
    """The table's rows: ``alias<TAB>canonical[<TAB>label[<TAB>language]]``."""
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                rows.append([part.strip() for part in line.split("\t")] + ["", ""])
    return rows


def load_aliases(*paths: Path) -> dict[str, Alias]:
    """alias → (canonical, label) from TSV files; later files override earlier ones."""
    return _aliases_of(_rows(paths))


def load_display_names(*paths: Path) -> dict[str, dict[str, str]]:
    """canonical → {language: name}: an alias with a language in the fourth column is the
    entity's name in articles of that language ("United States" for Amerika Serikat in
    English); the canonical name is its name everywhere else. Later files override."""
    return _display_names_of(_rows(paths))


def _aliases_of(rows: list[list[str]]) -> dict[str, Alias]:
    return {alias: (canonical, label or None) for alias, canonical, label, *_ in rows}


def _display_names_of(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    for alias, canonical, _label, language, *_ in rows:
        if language:
            names.setdefault(canonical, {})[language] = alias
    return names


@cache
def _default_rows(extra: str | None) -> list[list[str]]:
    """The shipped table's rows, then the ``extra`` file's: read once for both views."""
    return _rows((DEFAULT_ALIASES, *([Path(extra)] if extra else [])))


@cache
def default_aliases(extra: str | None = None) -> dict[str, Alias]:
    """The shipped alias table, with the ``extra`` file's entries over it."""
    return _aliases_of(_default_rows(extra))


@cache
def default_display_names(extra: str | None = None) -> dict[str, dict[str, str]]:
    return _display_names_of(_default_rows(extra))


def display_name(canonical: str, language: str, names: dict[str, dict[str, str]]) -> str:
    """The entity's name for readers of an article in ``language``."""
    return names.get(canonical, {}).get(language, canonical)


def apply_alias(name: str, label: str, aliases: dict[str, Alias]) -> tuple[str, str]:
    found = aliases.get(name)
    if found is None and "." in name:
        found = aliases.get(name + ".")  # "U.K" at a sentence end lost its last dot
    if found is None:
        return name, label
    canonical, alias_label = found
    return canonical, alias_label or label


def resolve_partial_names(names: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """Within one article, map a short name to the one full person name it is part of.

    "Blinken" -> "Antony Blinken" when exactly one longer PER name in the article contains
    "Blinken" as a word. A one-word mention the model gave another label ("Blinken" as LOC)
    is taken as that person when it is the full name's last word (a surname). Ambiguous short
    names are left as they are.
    """
    full = {name for name, label in names if label == "PER" and " " in name}
    resolved: dict[tuple[str, str], tuple[str, str]] = {}
    for name, label in names:
        if name in full:
            continue
        words = name.split()
        candidates = [long for long in full if _contains_words(long.split(), words)]
        if len(candidates) != 1:
            continue
        target = candidates[0]
        if label == "PER" or (len(words) == 1 and target.split()[-1] == name):
            resolved[(name, label)] = (target, "PER")
    return resolved


def _contains_words(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))
