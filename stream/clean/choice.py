"""Which extraction of an HTML page to keep: trafilatura's, readability's, or parts of both."""

from __future__ import annotations

from collections import Counter

from stream.clean.lexicon import CAPTION, WORD
from stream.clean.lines import (
    containment,
    is_body_line,
    lines_shingle_set,
    reads_as_sentence,
)
from stream.clean.shingles import shingle_set


def choose_extraction(own: list[str], generic: list[str]) -> list[str]:
    """trafilatura's extraction (``own``) checked against readability's (``generic``).

    - one is empty, or more than twice as long as the other: the longer one (trafilatura's
      own fallback rule);
    - readability's text is a clean part (≥ 95 %) of trafilatura's at 50-90 % of its length:
      trafilatura took boilerplate along (lists of related links, datelines); its lines that
      readability lacks go unless they read like body text before the end of readability's,
      which readability also drops on pages that are not news (the intro of a blog post, an
      explainer's first paragraph); after that end they are the "About us" of a press
      release or the next article's teaser;
    - the two share nothing and each is an article-sized run of prose: an article split over
      several containers, each extractor taking one part; both, trafilatura's first;
    - trafilatura's text is within readability's, which has article sentences before it:
      trafilatura missed the lead (common on Indonesian news pages); those lines are added.
    """
    own_chars, generic_chars = sum(map(len, own)), sum(map(len, generic))
    if not generic_chars:
        return own
    if not own_chars:
        return generic
    own_set, generic_set = lines_shingle_set(own), lines_shingle_set(generic)
    own_words = sum(len(WORD.findall(line)) for line in own)
    generic_words = sum(len(WORD.findall(line)) for line in generic)
    if (0.5 <= generic_words / own_words <= 0.9
            and containment(generic_set, own_set) >= 0.95):
        # Line by line, by shingles: the two extractors format the same paragraph differently
        # (quotes, spacing, a link's text).
        lines = set(generic)
        kept = [line in lines or containment(shingle_set(line), generic_set) >= 0.8
                for line in own]
        last = max((i for i, shared in enumerate(kept) if shared), default=-1)
        return [line for i, line in enumerate(own)
                if kept[i] or (i < last and reads_as_sentence(line))]
    if _split_article(own_set, own_words, generic, generic_set, generic_words):
        return [*own, *(line for line in generic if reads_as_sentence(line))]
    if own_chars > 2 * generic_chars:
        return own
    if generic_chars > 2 * own_chars and not generic[0].startswith("{"):
        return generic
    if containment(own_set, generic_set) < 0.9:
        return own
    return _with_missed_lead(own, own_set, generic)


_ARTICLE_PART_WORDS = 300


def _split_article(own_set: set[tuple[str, ...]], own_words: int, generic: list[str],
                   generic_set: set[tuple[str, ...]], generic_words: int) -> bool:
    """Both extractors found an article-sized run of prose and the two share nothing: a page
    that breaks its article into several containers (ad slots between them, as wired.com
    does), each extractor taking a different part. readability's comes second: trafilatura
    keeps the first container it scores."""
    if min(own_words, generic_words) < _ARTICLE_PART_WORDS:
        return False
    if max(containment(own_set, generic_set), containment(generic_set, own_set)) >= 0.05:
        return False
    prose = sum(1 for line in generic if reads_as_sentence(line))
    return prose >= 0.8 * len(generic)


def _with_missed_lead(own: list[str], own_set: set[tuple[str, ...]],
                      generic: list[str]) -> list[str]:
    first = shingle_set(own[0])
    start = next((i for i, line in enumerate(generic)
                  if first and len(first & shingle_set(line)) >= 0.5 * len(first)), None)
    if not start:
        return own
    counts = Counter(generic)
    lead = [line for line in generic[:start]
            if is_body_line(line) and len(WORD.findall(line)) >= 10 and counts[line] == 1
            and not CAPTION.search(line) and not shingle_set(line) <= own_set]
    return [*lead, *own]


