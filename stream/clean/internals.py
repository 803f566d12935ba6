"""Other libraries' internals that cleaning relies on, in one place, each named with what it
does and checked by a test of its own (tests/unit/runtime/test_library_internals.py): a new
version of htmldate, trafilatura or py3langid that changes one shows there first.

- htmldate: ``extractors.month_words`` (looked up by name at each call) is replaced with a
  cached copy; building it loads all of dateparser's locale data.
- trafilatura's readability port: ``Document.sanitize`` is overridden to keep the cleaned
  article element that ``summary()`` otherwise serialises to a string.
- py3langid: ``langid._load_identifier`` unpacks the shipped model (no public loader).
"""

from __future__ import annotations

import functools
from typing import Any

from htmldate import extractors as htmldate_extractors
from lxml.html import HtmlElement
from py3langid.langid import _load_identifier
from trafilatura.readability_lxml import Document as ReadabilityDocument

from stream.cache import cached_pickle

_month_words_uncached = htmldate_extractors.month_words


def _month_words() -> frozenset[str]:
    """htmldate's set of month names in every dateparser locale, from the user cache: building
    it loads all of dateparser's locale data, ~0.1 s of every process's first undated page."""
    from importlib.metadata import version

    name = f"month-words-{version('htmldate')}-{version('dateparser')}.pickle"
    return cached_pickle(name, _month_words_uncached)


def cache_month_words() -> None:
    """htmldate finds month names through the cached set from now on (it looks the function
    up by name at each call, so the cached one takes its place)."""
    htmldate_extractors.month_words = functools.cache(_month_words)


cache_month_words()


class Readability(ReadabilityDocument):
    """Keeps the cleaned article element that ``summary()`` serialises: parsing the string
    back was a tenth of readability's time."""

    article: HtmlElement | None = None

    def sanitize(self, node: HtmlElement, candidates: Any) -> str:
        summary = super().sanitize(node, candidates)  # cleans ``node`` in place
        self.article = node
        return summary


def load_langid_identifier() -> Any:
    """py3langid's model, unpacked from the file it ships (normalised probabilities)."""
    return _load_identifier(norm_probs=True)
