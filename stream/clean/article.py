"""An article's main text and metadata: trafilatura for HTML, block rules for scraped text.

Pure functions: a :class:`RawArticle` (plus, for scraped text, the site's boilerplate memory)
in, a :class:`CleanedArticle` out.
"""

from __future__ import annotations

from dataclasses import dataclass

from stream.clean.boilerplate import DomainLines
from stream.clean.html import clean_html
from stream.clean.lexicon import word_count
from stream.clean.metadata import clean_author, clean_title
from stream.clean.text import clean_text
from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import RawArticle
from stream.ingest.urls import host_of

# Fewer words than this is a page without an article (a menu, a notice), not a short article.
MIN_WORDS = 5


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    text: str
    title: str | None
    author: str | None
    published_at: str | None
    source: str
    site_name: str | None = None
    canonical_url: str | None = None


def clean_article(raw: RawArticle, domain_lines: DomainLines | None = None) -> CleanedArticle:
    """Dispatch on the content type; raises :class:`Rejected` when no main text is found.

    ``domain_lines`` (scraped text only) is the site's boilerplate memory; it learns this
    article's lines.
    """
    source = raw.source or host_of(raw.url)
    if raw.content_type == "text/html":
        cleaned = clean_html(raw.body, raw.url)
    else:
        cleaned = clean_text(raw.body, domain_lines, raw.url, raw.id)
    words = word_count(cleaned.text)  # Japanese and Chinese write no spaces
    if words < MIN_WORDS:
        raise Rejected("no_text", "clean", f"no main text found ({words} words)", raw.id)
    domain = host_of(raw.url)
    return CleanedArticle(
        text=cleaned.text,
        title=raw.title or clean_title(cleaned.title, domain, cleaned.site_name),
        author=clean_author(cleaned.author, domain, cleaned.site_name),
        published_at=raw.published_at or cleaned.published_at,
        source=source,
        site_name=cleaned.site_name,
        canonical_url=cleaned.canonical_url,
    )


