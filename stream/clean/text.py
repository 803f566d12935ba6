"""Scraped text: the article is the densest block of prose lines; the site's boilerplate memory
and the lines above the block (title, author, date) help."""

from __future__ import annotations

import unicodedata
from collections import Counter

from stream.clean.boilerplate import DomainLines
from stream.clean.lexicon import (
    AUTHOR_LINE,
    BOILERPLATE_PREFIXES,
    LEGAL_OR_CONTACT,
    PROSE_PUNCTUATION,
    WORD,
    function_words,
    word_count,
)
from stream.clean.lines import (
    Extracted,
    article_lines,
    is_body_line,
    join_paragraphs,
    normal,
)
from stream.clean.metadata import TITLE_SEPARATORS, date_in_text, date_in_url

# A non-body line inside the article block costs this many times its words.
GAP_PENALTY = 3.0
# A line of this many words or more without a comma or a full stop is a list, not prose.
LIST_WORDS = 20
# The article block starts within this many lines after the headline...
HEADLINE_REACH = 12
# ...and is the article if it scores this share of the best block further down.
HEADLINE_SHARE = 0.25


def _reads_like_prose(words: list[str], check: bool) -> bool:
    """Long lines without a single function word are lists of links or tags, not sentences.

    Only checked (``check``) on pages written in a language whose function words we know.
    """
    if not check or len(words) < 8:
        return True
    common = function_words()
    return any(word.lower() in common for word in words)


def _best_block(scores: list[float]) -> tuple[int, int]:
    """The contiguous run of lines with the highest total score (Kadane)."""
    best, best_span = 0.0, (0, 0)
    running, start = 0.0, 0
    for index, score in enumerate(scores):
        if running <= 0:
            running, start = 0.0, index
        running += score
        if running > best:
            best, best_span = running, (start, index + 1)
    return best_span


def clean_text(body: str, domain_lines: DomainLines | None = None,
               url: str | None = None, article_id: str = "") -> Extracted:
    """Scraped text: the article is the densest block of prose lines.

    Each line scores its word count if it reads like article prose (long, or a sentence;
    not repeated in the page; not a known boilerplate prefix; not seen in earlier articles of
    the site), else minus ``GAP_PENALTY`` times its words. The best-scoring contiguous block
    is the article; its prose lines are kept. Header lines above it give title, author, date.
    """
    body = unicodedata.normalize("NFC", body)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    counts = Counter(normal(line) for line in lines)
    all_words = WORD.findall(body.lower())
    common = function_words()
    known_language = sum(word in common for word in all_words) >= 0.15 * max(len(all_words), 1)
    scores: list[float] = []
    learned: list[bool] = []
    for line in lines:
        words = WORD.findall(line)
        learned.append(domain_lines is not None and domain_lines.is_boilerplate(line))
        if BOILERPLATE_PREFIXES.match(line):
            # "Baca juga: ..." and the like sit inside article bodies: drop, but do not let
            # them split the article block.
            scores.append(-1.0)
            continue
        count = word_count(line)
        prose = (is_body_line(line) and counts[normal(line)] == 1
                 and _reads_like_prose(words, known_language)
                 # a tag cloud or archive list runs on without a comma; a footer gives an
                 # address or a copyright
                 and (count < LIST_WORDS or PROSE_PUNCTUATION.search(line) is not None)
                 and not LEGAL_OR_CONTACT.search(line))
        scores.append(count if prose else -GAP_PENALTY * max(count, 1))
    learned_scores = [
        -GAP_PENALTY * score if is_learned and score > 0 else score
        for score, is_learned in zip(scores, learned, strict=True)
    ]
    start, end = _best_block(learned_scores)
    if start == end:
        # Everything that reads like prose is known from earlier pages: rather the page's own
        # judgement than nothing.
        learned_scores = scores
        start, end = _best_block(scores)
    start, end = _after_headline(lines, learned_scores, (start, end))
    kept = article_lines([line for line, score
                          in zip(lines[start:end], learned_scores[start:end], strict=True)
                          if score > 0])
    if domain_lines is not None:
        prose_lines = [line for line, score in zip(lines, scores, strict=True) if score > 0]
        domain_lines.observe(lines, article_id or str(hash(body)), prose_lines)
    title, author, published = _header(lines[:start] or lines[:1])
    if published is None and url:
        published = date_in_url(url)
    return Extracted(join_paragraphs(kept), title, author, published)


def _after_headline(lines: list[str], scores: list[float],
                    best: tuple[int, int]) -> tuple[int, int]:
    """A scraped page starts with its <title>, and the article follows where the page repeats
    it as the headline (after a byline and a date). The block that starts there is the
    article, though a longer block of prose further down (a site's disclaimer, its contact
    text) outscores it, as long as it holds ``HEADLINE_SHARE`` of that block's score."""
    headline = _headline(lines)
    if headline is None or headline + 1 >= best[0]:
        return best
    top, found = 0.0, best
    for first in range(headline + 1, min(best[0], headline + HEADLINE_REACH)):
        total = 0.0
        for index in range(first, len(lines)):
            total += scores[index]
            if total > top:
                top, found = total, (first, index + 1)
    whole = sum(scores[best[0]:best[1]])
    return found if top >= HEADLINE_SHARE * whole else best


def _headline(lines: list[str]) -> int | None:
    """Where the page repeats its title, whole or up to a separator ("Headline - Site",
    "Headline | Section | Site"), if it does."""
    if len(lines) < 3:
        return None
    title = normal(lines[0])
    candidates = {title, *(title[:cut.start()] for cut in TITLE_SEPARATORS.finditer(title))}
    candidates = {c for c in candidates if len(WORD.findall(c)) >= 3}
    return next((i for i in range(1, len(lines)) if normal(lines[i]) in candidates), None)


def _header(lines: list[str]) -> tuple[str | None, str | None, str | None]:
    """Title, author and date from the lines above the article block."""
    title = author = published = None
    previous = ""
    for line in lines:
        words = len(WORD.findall(line))
        label = AUTHOR_LINE.match(line)
        dated = date_in_text(line) if len(line) < 100 else None
        if label and len(line) < 80:
            author = label.group(1).strip() or _short_name(previous) or author
        elif dated:
            published = published or dated
        elif (title is None and words >= 4 and len(line) < 200
              and not BOILERPLATE_PREFIXES.match(line)):
            # A scraped page starts with its <title>, or the headline comes first.
            title = line
        previous = line
    return title, author, published


def _short_name(line: str) -> str | None:
    """The line before a bare 'Penulis' label is the author's name when it looks like one."""
    words = line.split()
    if 1 < len(words) <= 5 and all(word[:1].isupper() for word in words):
        return line
    return None
