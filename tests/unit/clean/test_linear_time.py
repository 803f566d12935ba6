"""Text stages take linear time on adversarial text. Each input here took the code before the
fix minutes (quadratic or worse); linear code reads it in well under a second, so the
generous timeout fails only a stage that is not linear. ``make bench`` measures the growth
exponent of every stage (evaluation/growth.py)."""

from __future__ import annotations

import pytest

from stream.clean.html import _not_content_removed, clean_html
from stream.clean.text import clean_text
from stream.entities.mentions import Mention, split_mention
from stream.entities.normalise import canonical_name, resolve_within_article, short_form
from stream.entities.tokenize import segments

# Each of these took 30 s to minutes before; each now takes milliseconds.
LIMIT_S = 15


@pytest.mark.timeout(LIMIT_S)
def test_sentences_of_one_long_paragraph_of_abbreviations() -> None:
    # Each sentence end searched the line from its start for the abbreviation before it.
    text = "Mr. Dr. Prof. A. B. Smith met Gov. Noem. " * 8_000
    spans = segments(text)
    assert len(spans) == 8_000 and spans[:2] == [(0, 40), (41, 81)]


@pytest.mark.timeout(LIMIT_S)
def test_a_long_run_of_dotted_letters_is_not_an_address() -> None:
    # The address pattern was tried from every letter of the run, each try to its end.
    line = "The start of the story. " + "ab." * 60_000 + " It ends here, as stories do."
    assert "ab.ab." in clean_text("Title\n\n" + line).text


@pytest.mark.timeout(LIMIT_S)
def test_unclosed_comments_and_scripts_are_left_as_they_are() -> None:
    # Each unclosed opening was read to the end of the page.
    junk = "<!-- x <script a <style " * 40_000
    assert _not_content_removed(junk) == junk
    page = f"<html><body><article><p>{'Kalimat berita yang biasa. ' * 30}</p>{junk}</article>"
    assert "Kalimat berita" in clean_html(page + "</body></html>").text


def test_scripts_styles_and_comments_go_but_json_ld_stays() -> None:
    page = ('<head><script type="application/ld+json">{"author": "A"}</script>'
            "<script>var a = '<!--';</script><STYLE>p {}</STYLE ></head>"
            "<body><!-- note --><p>text</p><svg><g/></svg><noscript>x</noscript>"
            "<!-- open</body>")
    assert _not_content_removed(page) == (
        '<head><script type="application/ld+json">{"author": "A"}</script></head>'
        "<body><p>text</p><!-- open</body>")


@pytest.mark.timeout(LIMIT_S)
def test_a_mention_of_many_brackets() -> None:
    # The short-form pattern tried every split of the name; the trimming took one bracket
    # per pass, each pass counting the whole span.
    text = "a (" * 20_000 + "MK)"
    assert short_form(text) == (("a (" * 20_000)[:-1].rstrip(), "MK")
    assert canonical_name(text, "ORG") == ("a (" * 20_000)[:-1].rstrip()
    assert short_form("a (" * 20_000 + ")") is None
    opened = "Sierra " + "(" * 50_000
    assert [m.text for m in split_mention(Mention(opened, "ORG", 0, len(opened)))] == ["Sierra"]


def test_two_names_joined_by_a_dash_are_still_two() -> None:
    text = "Joko Widodo - Jusuf Kalla"
    assert [m.text for m in split_mention(Mention(text, "PER", 0, len(text)))] == [
        "Joko Widodo", "Jusuf Kalla"]


@pytest.mark.timeout(LIMIT_S)
def test_one_entity_one_name_over_many_mentions() -> None:
    # Each mention was checked against every longer name of the article.
    people = [(f"Nama{i} Keluarga{i}", "PER") for i in range(20_000)]
    surnames = [(f"Keluarga{i}", "PER") for i in range(20_000)]
    places = [(f"Kota{i}", "LOC") for i in range(20_000)]
    names = people + surnames + places
    resolved = resolve_within_article(names, list(range(len(names))))
    assert resolved[20_000] == ("Nama0 Keluarga0", "PER") and resolved[-1] == ("Kota19999", "LOC")
