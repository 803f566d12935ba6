"""Main text and metadata of an article: trafilatura for HTML, block rules for scraped text.

Pure functions: a :class:`RawArticle` (plus, for scraped text, the site's boilerplate memory)
in, a :class:`CleanedArticle` out.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

import trafilatura
from htmldate import extractors as htmldate_extractors
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.readability_lxml import Document as ReadabilityDocument

from stream.boilerplate import DomainLines, stopwords
from stream.cache import cached_pickle
from stream.metadata import clean_author, clean_title, date_in_text, date_in_url
from stream.payloads import RawArticle, Rejected, domain_of
from stream.shingles import shingle_set

PARAGRAPH_SEPARATOR = "\n\n"
# Fewer words than this is a page without an article (a menu, a notice), not a short article.
MIN_WORDS = 5
# Scraped text: a non-body line inside the article block costs this many times its words.
GAP_PENALTY = 3.0


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    text: str
    title: str | None
    author: str | None
    published_at: str | None
    source: str
    site_name: str | None = None
    canonical_url: str | None = None


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
AUTHOR_LINE = re.compile(r"^(?:penulis|editor|pewarta|reporter|author|by)\b\s*:?\s*(.*)$",
                         re.IGNORECASE)


def clean_article(raw: RawArticle, domain_lines: DomainLines | None = None) -> CleanedArticle:
    """Dispatch on the content type; raises :class:`Rejected` when no main text is found.

    ``domain_lines`` (scraped text only) is the site's boilerplate memory; it learns this
    article's lines.
    """
    source = raw.source or domain_of(raw.url)
    if raw.content_type == "text/html":
        cleaned = clean_html(raw.body, raw.url)
    else:
        cleaned = clean_text(raw.body, domain_lines, raw.url, raw.id)
    words = len(WORD.findall(cleaned.text))
    if words < MIN_WORDS:
        raise Rejected("no_text", "clean", f"no main text found ({words} words)", raw.id)
    domain = domain_of(raw.url)
    return CleanedArticle(
        text=cleaned.text,
        title=raw.title or clean_title(cleaned.title, domain, cleaned.site_name),
        author=clean_author(cleaned.author, domain, cleaned.site_name),
        published_at=raw.published_at or cleaned.published_at,
        source=source,
        site_name=cleaned.site_name,
        canonical_url=cleaned.canonical_url,
    )


def _paragraphs(lines: list[str]) -> str:
    return PARAGRAPH_SEPARATOR.join(line for line in lines if line)


def _first(tree: HtmlElement, *xpaths: str) -> str | None:
    for xpath in xpaths:
        for value in tree.xpath(xpath):
            text = unicodedata.normalize("NFC", " ".join(str(value).split()))
            if text:
                return text
    return None


_month_words_uncached = htmldate_extractors.month_words


def _month_words() -> frozenset[str]:
    """htmldate's set of month names in every dateparser locale, from the user cache: building
    it loads all of dateparser's locale data, ~0.1 s of every process's first undated page."""
    from importlib.metadata import version

    name = f"month-words-{version('htmldate')}-{version('dateparser')}.pickle"
    return cached_pickle(name, _month_words_uncached)


# htmldate looks the function up by name at each call, so the cached one takes its place.
htmldate_extractors.month_words = functools.cache(_month_words)


def html_metadata(tree: HtmlElement, url: str | None) -> dict[str, str | None]:
    """Title, author, site name, canonical URL and date from the page head (cheap xpaths)."""
    published = None
    try:
        # The quick pass (meta tags, URL, time elements) finds most dates; the thorough one is
        # several times slower, so it runs only when the quick one finds nothing.
        published = (find_date(tree, url=url, extensive_search=False, original_date=True)
                     or find_date(tree, url=url, extensive_search=True, original_date=True))
    except Exception:  # htmldate on broken markup: the date stays unknown
        published = None
    return {
        "title": _first(tree, '//meta[@property="og:title"]/@content', "//title/text()",
                        "//h1//text()"),
        "author": _first(tree, '//meta[@name="author"]/@content',
                         '//meta[@property="article:author"]/@content',
                         '//meta[@name="dc.creator"]/@content',
                         '//*[@rel="author"]//text()'),
        "site_name": _first(tree, '//meta[@property="og:site_name"]/@content',
                            '//meta[@name="application-name"]/@content'),
        "canonical_url": _first(tree, '//link[@rel="canonical"]/@href',
                                '//meta[@property="og:url"]/@content'),
        "published_at": published or (date_in_url(url) if url else None),
    }


@dataclass(frozen=True, slots=True)
class _Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    published_at: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None


# Scripts, styles, comments and inline SVG are most of a modern page's bytes and never article
# text; cutting them before parsing makes parsing and trafilatura's tree pruning cheaper.
# JSON-LD scripts stay: they carry the publication date and author.
_NOT_CONTENT = re.compile(
    r"<script\b(?![^>]*application/ld\+json)[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>"
    r"|<!--.*?-->|<svg\b[^>]*>.*?</svg\s*>|<noscript\b[^>]*>.*?</noscript\s*>",
    re.DOTALL | re.IGNORECASE,
)


def clean_html(html: str, url: str | None = None) -> _Extracted:
    tree = trafilatura.load_html(_NOT_CONTENT.sub("", html))
    if tree is None:
        return _Extracted("")
    meta = html_metadata(tree, url)
    document = trafilatura.bare_extraction(
        tree, url=url, favor_precision=True, fast=True, include_comments=False,
        include_tables=True, with_metadata=False,
    )
    gallery = photo_gallery(tree)
    # trafilatura works on a copy and leaves the tree as it was; readability changes it, so
    # it comes last and needs no copy of its own.
    generic = _paragraph_lines(readability_text(tree))
    own = ""
    if isinstance(document, trafilatura.settings.Document):
        own = document.text or ""
    lines = choose_extraction(_without_credits(_paragraph_lines(own)), generic)
    if gallery and _containment(_shingle_set(gallery), _shingle_set(lines)) < 0.5:
        # A photo story: both extractors took a caption block of the sidebar for the article.
        lines = gallery
    if not lines:
        # Pages neither extractor finds an article in (short notices, odd markup): fall back
        # to trafilatura's baseline, keeping only lines that read like prose, not navigation.
        _tree, baseline_text, _length = trafilatura.baseline(html)
        lines = [line for line in _paragraph_lines(baseline_text) if _is_body_line(line)]
    title = meta["title"]
    if lines and title and _normal(lines[0]) in _normal(title):
        lines = lines[1:]  # the headline repeated as the first line of the body
    return _Extracted(_paragraphs(lines), title, meta["author"], meta["published_at"],
                      meta["site_name"], meta["canonical_url"])


_DESCRIPTION = ('//meta[@property="og:description"]/@content',
                '//meta[@name="description"]/@content')
_GALLERY_SIZE = 3


def photo_gallery(tree: HtmlElement) -> list[str]:
    """The captions of the page's photo gallery when the page is a photo story, else [].

    A photo story has no body text; its captions are the article. It is recognised by a
    gallery of ≥ 3 captioned figures that holds the page's own description: galleries on
    ordinary articles are described by the article, not by one of their captions.
    """
    galleries: dict[HtmlElement, list[str]] = {}
    for caption in tree.iter("figcaption"):
        figure = caption.getparent()
        if figure is None:
            continue
        container = figure.getparent() if figure.tag == "figure" else figure
        text = " ".join(caption.text_content().split())
        if text and container is not None:
            galleries.setdefault(container, []).append(text)
    candidates = [captions for captions in galleries.values() if len(captions) >= _GALLERY_SIZE]
    # Most pages have no gallery: the description is looked up only for those that do.
    description = _first(tree, *_DESCRIPTION) if candidates else None
    if not description:
        return []
    described = shingle_set(description)
    for captions in candidates:
        if _containment(described, _shingle_set(captions)) >= 0.8:
            return list(dict.fromkeys(captions))
    return []


_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr",
           "section", "article", "figcaption", "br", "dd", "dt")


class _Readability(ReadabilityDocument):
    """Keeps the cleaned article element that ``summary()`` serialises: parsing the string
    back was a tenth of readability's time."""

    article: HtmlElement | None = None

    def sanitize(self, node: HtmlElement, candidates: Any) -> str:
        summary = super().sanitize(node, candidates)  # cleans ``node`` in place
        self.article = node
        return summary


def readability_text(tree: HtmlElement) -> str:
    """readability-lxml's main text (trafilatura ships a port), one block per line."""
    try:
        document = _Readability(tree, min_text_length=25)
        document.summary()
        root = document.article
    except Exception:  # readability on broken markup: no second opinion for this page
        return ""
    if root is None:
        return ""
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    return str(root.text_content())


def _paragraph_lines(text: str) -> list[str]:
    """Lines of single-spaced, composed (NFC) text: a page written with decomposed accents
    ("u" + U+0308) would otherwise yield names that match nothing: "Mu\\u0308ller" is not
    "Müller" to a dictionary, a regex or an entity id."""
    text = unicodedata.normalize("NFC", text)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


# A table row that credits the article ("| Penulis | : Aditya Maulana |"): the page's
# metadata laid out as a table, read for the author elsewhere, not part of the body.
_CREDIT_ROW = re.compile(
    r"^\|\s*(?:penulis|editor|redaktur|reporter|pewarta|wartawan|sumber|fotografer|foto"
    r"|author|writer|source|photographer)\b[^|]*(?:\|[^|]*){0,2}\|?\s*$", re.IGNORECASE)


def _without_credits(lines: list[str]) -> list[str]:
    return [line for line in lines if not _CREDIT_ROW.match(line)]


_CAPTION = re.compile(
    r"\((?:AP|Reuters|AFP|Getty|Credit|Photo|Foto|Dok)\b|\bPhoto\s*[/:]|\bCredit\s*:"
    r"|\b(?:19|20)\d\d\.?$", re.IGNORECASE)


def _shingle_set(lines: list[str]) -> set[tuple[str, ...]]:
    return shingle_set(" ".join(lines))


def _containment(part: set[tuple[str, ...]], whole: set[tuple[str, ...]]) -> float:
    """Share of ``part``'s word 4-grams that also occur in ``whole``."""
    return len(part & whole) / max(1, len(part))


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
    own_set, generic_set = _shingle_set(own), _shingle_set(generic)
    own_words = sum(len(WORD.findall(line)) for line in own)
    generic_words = sum(len(WORD.findall(line)) for line in generic)
    if (0.5 <= generic_words / own_words <= 0.9
            and _containment(generic_set, own_set) >= 0.95):
        # Line by line, by shingles: the two extractors format the same paragraph differently
        # (quotes, spacing, a link's text).
        lines = set(generic)
        kept = [line in lines or _containment(shingle_set(line), generic_set) >= 0.8
                for line in own]
        last = max((i for i, shared in enumerate(kept) if shared), default=-1)
        return [line for i, line in enumerate(own)
                if kept[i] or (i < last and _reads_as_sentence(line))]
    if _split_article(own_set, own_words, generic, generic_set, generic_words):
        return [*own, *(line for line in generic if _reads_as_sentence(line))]
    if own_chars > 2 * generic_chars:
        return own
    if generic_chars > 2 * own_chars and not generic[0].startswith("{"):
        return generic
    if _containment(own_set, generic_set) < 0.9:
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
    if max(_containment(own_set, generic_set), _containment(generic_set, own_set)) >= 0.05:
        return False
    prose = sum(1 for line in generic if _reads_as_sentence(line))
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
            if _is_body_line(line) and len(WORD.findall(line)) >= 10 and counts[line] == 1
            and not _CAPTION.search(line) and not shingle_set(line) <= own_set]
    return [*lead, *own]


def _normal(line: str) -> str:
    return " ".join(line.lower().split())


def _is_body_line(line: str) -> bool:
    words = len(WORD.findall(line))
    return words >= 12 or (words >= 5 and TERMINAL.search(line) is not None)


def _reads_as_sentence(line: str) -> bool:
    """A sentence, or a line long enough to be prose (a quoted post ending in its link)."""
    words = len(WORD.findall(line))
    return words >= 15 or (words >= 8 and TERMINAL.search(line) is not None)


def _function_words() -> frozenset[str]:
    return stopwords("id") | stopwords("en")


def _reads_like_prose(words: list[str], check: bool) -> bool:
    """Long lines without a single function word are lists of links or tags, not sentences.

    Only checked (``check``) on pages written in a language whose function words we know.
    """
    if not check or len(words) < 8:
        return True
    common = _function_words()
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
               url: str | None = None, article_id: str = "") -> _Extracted:
    """Scraped text: the article is the densest block of prose lines.

    Each line scores its word count if it reads like article prose (long, or a sentence;
    not repeated in the page; not a known boilerplate prefix; not seen in earlier articles of
    the site), else minus ``GAP_PENALTY`` times its words. The best-scoring contiguous block
    is the article; its prose lines are kept. Header lines above it give title, author, date.
    """
    body = unicodedata.normalize("NFC", body)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    counts = Counter(_normal(line) for line in lines)
    all_words = WORD.findall(body.lower())
    common = _function_words()
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
        prose = (_is_body_line(line) and counts[_normal(line)] == 1
                 and _reads_like_prose(words, known_language))
        scores.append(len(words) if prose else -GAP_PENALTY * max(len(words), 1))
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
    kept = [line for line, score in zip(lines[start:end], learned_scores[start:end], strict=True)
            if score > 0]
    if domain_lines is not None:
        prose_lines = [line for line, score in zip(lines, scores, strict=True) if score > 0]
        domain_lines.observe(lines, article_id or str(hash(body)), prose_lines)
    title, author, published = _header(lines[:start] or lines[:1])
    if published is None and url:
        published = date_in_url(url)
    return _Extracted(_paragraphs(kept), title, author, published)


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
