"""Main text and metadata of an HTML page: trafilatura, readability as a second opinion, photo
galleries, and the page head's title, author, date, site name and canonical URL."""

from __future__ import annotations

import re
import unicodedata

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement

from stream.clean.choice import choose_extraction
from stream.clean.internals import Readability
from stream.clean.lexicon import CREDIT_ROW, READ_ALSO, word_count
from stream.clean.lines import (
    Extracted,
    article_lines,
    containment,
    is_body_line,
    join_paragraphs,
    lines_shingle_set,
    normal,
    paragraph_lines,
)
from stream.clean.metadata import date_in_url
from stream.clean.shingles import shingle_set
from stream.costs import section


def _first(tree: HtmlElement, *xpaths: str) -> str | None:
    for xpath in xpaths:
        for value in tree.xpath(xpath):
            text = unicodedata.normalize("NFC", " ".join(str(value).split()))
            if text:
                return text
    return None


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


# Scripts, styles, comments and inline SVG are most of a modern page's bytes and never article
# text; cutting them before parsing makes parsing and trafilatura's tree pruning cheaper.
# JSON-LD scripts stay: they carry the publication date and author.
_OPENING = re.compile(r"<!--|<(script|style|svg|noscript)\b", re.IGNORECASE)
_CLOSING = {kind: re.compile(rf"</{kind}\s*>", re.IGNORECASE)
            for kind in ("script", "style", "svg", "noscript")}
_JSON_LD = re.compile(r"application/ld\+json", re.IGNORECASE)


class _Ahead:
    """The next occurrence of a literal or a pattern at or after a position, remembered until
    it is passed: positions only grow, so each is looked up once per occurrence."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: dict[str | re.Pattern[str], int] = {}

    def find(self, what: str | re.Pattern[str], start: int) -> int:
        """The position of the next ``what`` at or after ``start`` (its start), or -1."""
        found = self.found.get(what)
        if found is None or 0 <= found < start:
            if isinstance(what, str):
                found = self.text.find(what, start)
            else:
                match = what.search(self.text, start)
                found = match.start() if match else -1
            self.found[what] = found
        return found


def _not_content_removed(html: str) -> str:
    """The page without its scripts (but JSON-LD), styles, comments, SVG and noscript blocks.

    One pass, not a regular expression: a regex tries each unclosed "<!--" or "<script" to the
    end of the page, and a page of many took seconds per 100 KB (quadratic). Once a kind's
    closing is not found, no later opening of it can close."""
    ahead = _Ahead(html)
    kept: list[str] = []
    position = 0
    unclosed: set[str] = set()
    for opening in _OPENING.finditer(html):
        kind = (opening.group(1) or "!--").lower()
        if opening.start() < position or kind in unclosed:
            continue
        if kind == "!--":
            close = ahead.find("-->", opening.end())
            end = close + 3
        else:
            tag_end = ahead.find(">", opening.end())
            if tag_end < 0:
                unclosed.update(_CLOSING)
                continue
            if kind == "script" and 0 <= ahead.find(_JSON_LD, opening.end()) < tag_end:
                continue
            close = ahead.find(_CLOSING[kind], tag_end + 1)
            end = html.find(">", close) + 1
        if close < 0:
            unclosed.add(kind)
            continue
        kept.append(html[position:opening.start()])
        position = end
    kept.append(html[position:])
    return "".join(kept)


def clean_html(html: str, url: str | None = None) -> Extracted:
    with section("clean.parse"):
        content = _not_content_removed(html)
        tree = trafilatura.load_html(content)
    if tree is None:
        return Extracted("")
    with section("clean.metadata"):
        meta = html_metadata(tree, url)
    with section("clean.trafilatura"):
        own = _trafilatura_lines(tree, url, fast=True)
    gallery = photo_gallery(tree)
    # trafilatura works on a copy and leaves the tree as it was; readability changes it, so
    # it comes last and needs no copy of its own.
    with section("clean.readability"):
        generic = paragraph_lines(readability_text(tree))
    lines = choose_extraction(own, generic)
    if gallery and containment(lines_shingle_set(gallery), lines_shingle_set(lines)) < 0.5:
        # A photo story: both extractors took a caption block of the sidebar for the article.
        lines = gallery
    if sum(map(len, lines)) < SHORT_TEXT:
        # Next to nothing found: the article may sit where trafilatura's fast pass does not
        # look. Its full pass (its own fallbacks on a fresh tree) runs for these pages only.
        with section("clean.trafilatura full pass"):
            fresh = trafilatura.load_html(content)  # readability changed the first tree
            full = _trafilatura_lines(fresh, url, fast=False) if fresh is not None else []
        if sum(map(len, full)) > 2 * sum(map(len, lines)):
            lines = full
    if not lines:
        # Pages neither extractor finds an article in (short notices, odd markup): fall back
        # to trafilatura's baseline, keeping only lines that read like prose, not navigation.
        _tree, baseline_text, _length = trafilatura.baseline(html)
        lines = [line for line in paragraph_lines(baseline_text) if is_body_line(line)]
    title = meta["title"]
    if lines and title and normal(lines[0]) in normal(title):
        lines = lines[1:]  # the headline repeated as the first line of the body
    lines = article_lines([line for line in lines
                           if not (READ_ALSO.match(line) and word_count(line) <= 15)])
    return Extracted(join_paragraphs(lines), title, meta["author"], meta["published_at"],
                      meta["site_name"], meta["canonical_url"])


# Characters of main text below which trafilatura's full pass gets a try.
SHORT_TEXT = 400


def _trafilatura_lines(tree: HtmlElement, url: str | None, fast: bool) -> list[str]:
    """trafilatura's main text, precision first, as lines without credit rows: its fast pass,
    or its full one with its own fallback extractors."""
    document = trafilatura.bare_extraction(
        tree, url=url, favor_precision=True, fast=fast, include_comments=False,
        include_tables=True, with_metadata=False)
    text = document.text or "" if isinstance(document, trafilatura.settings.Document) else ""
    return _without_credits(paragraph_lines(text))


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
        if containment(described, lines_shingle_set(captions)) >= 0.8:
            return list(dict.fromkeys(captions))
    return []


_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr",
           "section", "article", "figcaption", "br", "dd", "dt")


def readability_text(tree: HtmlElement) -> str:
    """readability-lxml's main text (trafilatura ships a port), one block per line."""
    try:
        document = Readability(tree, min_text_length=25)
        document.summary()
        root = document.article
    except Exception:  # readability on broken markup: no second opinion for this page
        return ""
    if root is None:
        return ""
    for element in root.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
    return str(root.text_content())


def _without_credits(lines: list[str]) -> list[str]:
    return [line for line in lines if not CREDIT_ROW.match(line)]


