"""Canonical names for entity mentions, so that counts add up per real-world entity."""

from __future__ import annotations

import re
import unicodedata

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
_SLUG = re.compile(r"[^a-z0-9]+")


def canonical_name(mention: str, label: str) -> str:
    name = _SPACE.sub(" ", mention).strip(" \t\"'“”‘’.,;:()[]")
    if label == "PER":
        stripped = _HONORIFICS.sub("", name)
        name = stripped or name
    return name


def entity_id(name: str, label: str) -> str:
    """Stable id: ``LABEL:slug`` (ASCII-folded, lower-case, hyphen-separated)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG.sub("-", folded.lower()).strip("-") or _SLUG.sub("-", name.lower()).strip("-")
    return f"{label}:{slug or 'unnamed'}"


def resolve_partial_names(names: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Within one article, map a short person name to the one full name it is part of.

    "Blinken" -> "Antony Blinken" when exactly one longer PER name in the article contains
    "Blinken" as a word; ambiguous short names are left as they are.
    """
    full = {name for name, label in names if label == "PER" and " " in name}
    resolved: dict[tuple[str, str], str] = {}
    for name, label in names:
        if label != "PER" or name in full:
            continue
        words = name.split()
        candidates = [
            long for long in full
            if _contains_words(long.split(), words)
        ]
        if len(candidates) == 1:
            resolved[(name, label)] = candidates[0]
    return resolved


def _contains_words(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))
