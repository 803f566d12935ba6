"""Lines of extracted text: how they are split, joined, compared and judged as prose."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from stream.clean.lexicon import PHOTO_CREDIT, TABLE_ROW, TERMINAL, word_count
from stream.clean.shingles import shingle_set

PARAGRAPH_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Extracted:
    """What an extractor found on a page: its main text and the metadata it read."""

    text: str
    title: str | None = None
    author: str | None = None
    published_at: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None


def join_paragraphs(lines: list[str]) -> str:
    return PARAGRAPH_SEPARATOR.join(line for line in lines if line)


def paragraph_lines(text: str) -> list[str]:
    """Lines of single-spaced, composed (NFC) text: a page written with decomposed accents
    ("u" + U+0308) would otherwise yield names that match nothing: "Mu\\u0308ller" is not
    "Müller" to a dictionary, a regex or an entity id."""
    text = unicodedata.normalize("NFC", text)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def lines_shingle_set(lines: list[str]) -> set[tuple[str, ...]]:
    return shingle_set(" ".join(lines))


def containment(part: set[tuple[str, ...]], whole: set[tuple[str, ...]]) -> float:
    """Share of ``part``'s word 4-grams that also occur in ``whole``."""
    return len(part & whole) / max(1, len(part))


def normal(line: str) -> str:
    return " ".join(line.lower().split())


def article_lines(lines: list[str]) -> list[str]:
    """The lines of a page's main block that are its article: not a table's rows, and not a
    photo's caption where there is article text beside it (a news site opens the body with its
    lead photo's; a photo story is its captions)."""
    lines = [line for line in lines if TABLE_ROW.match(line) is None]
    prose = [line for line in lines if PHOTO_CREDIT.search(line) is None]
    return prose or lines


def is_body_line(line: str) -> bool:
    words = word_count(line)
    return words >= 12 or (words >= 5 and TERMINAL.search(line) is not None)


def reads_as_sentence(line: str) -> bool:
    """A sentence, or a line long enough to be prose (a quoted post ending in its link)."""
    words = word_count(line)
    return words >= 15 or (words >= 8 and TERMINAL.search(line) is not None)


