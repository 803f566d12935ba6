"""Main text and metadata of an article: trafilatura for HTML, line rules for scraped text.

Pure functions: a :class:`RawArticle` in, a :class:`CleanedArticle` out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import trafilatura

from stream.payloads import RawArticle, Rejected, domain_of

PARAGRAPH_SEPARATOR = "\n\n"
# Fewer words than this is a page without an article (a menu, a notice), not a short article.
MIN_WORDS = 5


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    text: str
    title: str | None
    author: str | None
    published_at: str | None
    source: str


# Lines a news site repeats around every article. Matched case-insensitively at line start.
BOILERPLATE_PREFIXES = re.compile(
    r"^(?:"
    r"baca (?:juga|berita|selengkapnya|artikel)\b|simak (?:breaking news|berita|juga|video)\b|"
    r"artikel ini telah (?:tayang|terbit)|dapatkan (?:update|informasi|berita)\b|"
    r"download aplikasi|unduh aplikasi|ikuti (?:kami|berita|kanal|channel)\b|"
    r"lihat juga\b|tonton juga\b|klik di sini|pilih saluran|close ads\b|bagikan artikel|"
    r"video (?:rekomendasi|lainnya|pilihan)\b|komentar$|oke$|"
    r"advertisement$|scroll to continue|sponsored\b|read more\b|related:|also read\b|"
    r"share this\b|sign up for\b|subscribe\b|follow us\b|click here\b"
    r")",
    re.IGNORECASE,
)
TERMINAL = re.compile(r"[.!?…\"'”’)\]]\s*$")
WORD = re.compile(r"\w+", re.UNICODE)
DATE_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
AUTHOR_LABEL = re.compile(r"^(?:penulis|editor|pewarta|reporter|author|by)\s*:?\s*(.*)$",
                          re.IGNORECASE)


def clean_article(raw: RawArticle) -> CleanedArticle:
    """Dispatch on the content type; raises :class:`Rejected` when no main text is found."""
    if raw.content_type == "text/html":
        cleaned = clean_html(raw.body, raw.url)
    else:
        cleaned = clean_text(raw.body)
    words = len(WORD.findall(cleaned.text))
    if words < MIN_WORDS:
        raise Rejected("no_text", "clean", f"no main text found ({words} words)", raw.id)
    return CleanedArticle(
        text=cleaned.text,
        title=raw.title or cleaned.title,
        author=cleaned.author,
        published_at=raw.published_at or cleaned.published_at,
        source=raw.source or domain_of(raw.url),
    )


@dataclass(frozen=True, slots=True)
class _Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    published_at: str | None = None


def _paragraphs(lines: list[str]) -> str:
    return PARAGRAPH_SEPARATOR.join(line for line in lines if line)


def clean_html(html: str, url: str | None = None) -> _Extracted:
    document = trafilatura.bare_extraction(
        html,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
    )
    text = ""
    title = author = date = None
    if isinstance(document, trafilatura.settings.Document):
        text = document.text or ""
        title, author, date = document.title, document.author, document.date
    lines = [line.strip() for line in text.splitlines()]
    if not any(lines):
        # Pages trafilatura finds no article in (short notices, odd markup): fall back to
        # its baseline extractor, keeping only lines that read like prose, not navigation.
        _tree, baseline_text, _length = trafilatura.baseline(html)
        lines = [line.strip() for line in baseline_text.splitlines()]
        lines = [line for line in lines if _is_body_line(line)]
    if lines and title and _normal(lines[0]) in _normal(title):
        lines = lines[1:]  # the headline repeated as the first line of the body
    return _Extracted(_paragraphs(lines), title or None, author or None, date or None)


def _normal(line: str) -> str:
    return " ".join(line.lower().split())


def _is_body_line(line: str) -> bool:
    words = len(WORD.findall(line))
    return words >= 12 or (words >= 5 and TERMINAL.search(line) is not None)


def clean_text(body: str) -> _Extracted:
    """Scraped text: drop navigation, repeated and boilerplate lines; keep paragraphs."""
    lines = [line.strip() for line in body.splitlines()]
    counts = Counter(_normal(line) for line in lines if line)
    title: str | None = None
    author: str | None = None
    published: str | None = None
    kept: list[str] = []
    previous = ""
    for line in lines:
        if not line:
            continue
        if counts[_normal(line)] > 1 or BOILERPLATE_PREFIXES.match(line):
            continue
        label = AUTHOR_LABEL.match(line)
        if label and len(line) < 80:
            author = author or (label.group(1).strip() or _short_name(previous))
        elif published is None and (match := DATE_DMY.search(line)) and len(line) < 80:
            day, month, year = (int(part) for part in match.groups())
            if 1 <= month <= 12 and 1 <= day <= 31:
                published = f"{year:04d}-{month:02d}-{day:02d}"
        if _is_body_line(line):
            kept.append(line)
        elif title is None and not kept and len(WORD.findall(line)) >= 4:
            title = line
        previous = line
    return _Extracted(_paragraphs(kept), title, author, published)


def _short_name(line: str) -> str | None:
    """The line before a bare 'Penulis' label is the author's name when it looks like one."""
    words = line.split()
    if 1 < len(words) <= 5 and all(word[:1].isupper() for word in words):
        return line
    return None
