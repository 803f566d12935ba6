"""Canonical names for entity mentions, so that counts add up per real-world entity."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
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


# The words that end an organisation's name ("Tyvak Nano-Satellite Systems Inc") and a place's
# ("New York City", "Washington DC"): a name of another label whose head is the rest is that
# organisation or place ("Tyvak" read as a place), where another rest would be another entity
# ("Jakarta" and "Jakarta Post", "Korea" and "Korea Utara").
ORGANISATION_ENDS = frozenset({
    "inc", "inc.", "incorporated", "corp", "corp.", "corporation", "co", "co.", "company",
    "ltd", "ltd.", "limited", "llc", "plc", "ag", "gmbh", "s.a.", "sa", "nv", "n.v.", "group",
    "holdings", "tbk", "tbk.", "(persero)", "persero"})
PLACE_ENDS = frozenset({"city", "dc", "d.c."})


# Longer spans are no name (a run of capitalised words a model took whole): they are not
# looked up as holding other names, which keeps the resolution linear in the mentions.
NAME_WORDS = 8
Words = tuple[str, ...]


def resolve_within_article(names: Sequence[tuple[str, str]],
                           starts: Sequence[int]) -> list[tuple[str, str]]:
    """Each mention's (name, label) as the article resolves it: one entity, one name.

    - A person's partial name ("Blinken", "von Weizsäcker") is the one longer person name of
      the article that holds its words; where several do ("Richard von Weizsäcker", "Fritz
      Eckart von Weizsäcker"), the one named last before it. A one-word mention the model gave
      another label ("Blinken" as LOC) is taken as that person when it is the full name's last
      word (a surname).
    - An organisation's name that is the head of the one longer organisation name of the
      article ("Sierra Nevada", "Sierra Nevada Corporation") is that organisation; a name of
      another label is too when the rest ends as an organisation's name does ("Tyvak", "Tyvak
      Nano-Satellite Systems Inc"). A place's name is the longer place's when the rest is a
      place's ending ("New York", "New York City").
    ``starts``: where each mention starts, for "named last before it". Linear in the mentions:
    the word runs of the longer names are indexed once, and the mentions read in order.
    """
    people = {name for name, label in names if label == "PER" and " " in name}
    holders: dict[Words, set[str]] = {}  # words → the person names that hold them
    for full in people:
        for run in _runs(tuple(full.split())):
            holders.setdefault(run, set()).add(full)
    heads: dict[Words, set[tuple[str, str]]] = {}  # words → the longer names they head
    for name, label in {(n, label) for n, label in names if label in ("ORG", "LOC")}:
        words = tuple(name.split())
        if len(words) <= NAME_WORDS:
            for end in range(1, len(words)):
                heads.setdefault(words[:end], set()).add((name, label))
    latest: dict[Words, str] = {}  # words → the person named last so far who holds them
    longer: dict[tuple[str, str], tuple[str, str] | None] = {}
    resolved: list[tuple[str, str]] = list(names)
    for index in sorted(range(len(names)), key=starts.__getitem__):
        name, label = names[index]
        words = tuple(name.split())
        person = _person(name, label, words, holders, latest)
        if person is not None:
            resolved[index] = (person, "PER")
        else:
            if (name, label) not in longer:
                longer[(name, label)] = _longer_name(label, words, heads)
            resolved[index] = longer[(name, label)] or (name, label)
        if name in people and label == "PER":
            for run in _runs(words):
                latest[run] = name
    return resolved


def _runs(words: Words) -> list[Words]:
    """The shorter runs of consecutive words of a name (none for a span too long to be one)."""
    if len(words) > NAME_WORDS:
        return []
    return [words[i:j] for i in range(len(words)) for j in range(i + 1, len(words) + 1)
            if j - i < len(words)]


def _person(name: str, label: str, words: Words, holders: dict[Words, set[str]],
            latest: dict[Words, str]) -> str | None:
    candidates = holders.get(words)
    if not candidates:
        return None
    target = next(iter(candidates)) if len(candidates) == 1 else latest.get(words)
    if target is None:
        return None
    if label == "PER" or (len(words) == 1 and target.split()[-1] == name):
        return target
    return None


def _longer_name(label: str, words: Words,
                 heads: dict[Words, set[tuple[str, str]]]) -> tuple[str, str] | None:
    found = set()
    for other, other_label in heads.get(words, ()):
        ends = other.split()[-1].lower()
        if (other_label == "ORG" and (label == "ORG" or ends in ORGANISATION_ENDS)) or (
                other_label == "LOC" and label == "LOC" and ends in PLACE_ENDS):
            found.add((other, other_label))
    return found.pop() if len(found) == 1 else None
