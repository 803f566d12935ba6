"""The word lists and word patterns of cleaning, in one place: boilerplate line openings, author
and credit labels, what ends a sentence, what a word is, and the function words of a language."""

from __future__ import annotations

import re
from functools import cache

# A word, as every stage counts them (cleaning, shingles, SimHash).
WORD = re.compile(r"\w+", re.UNICODE)
# What ends a sentence (closing quotes and brackets after it too), in Latin and CJK script.
TERMINAL = re.compile(r"[.!?…\"'”’)\]。！？」』]\s*$")
# Chinese and Japanese write words without spaces: a run of their characters is one \w+ match.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Punctuation inside prose: a long line without any is a list of links or tags.
PROSE_PUNCTUATION = re.compile(r"[.,;:!?…。、，！？]")
# A page's pointers to its other pages, in the languages of news sites: "Baca juga", "Read
# more", "Lesen Sie auch", "À lire aussi", "Czytaj też", "Más sobre", "Notas relacionadas".
READ_ALSO = re.compile(
    r"^(?:baca juga|baca selengkapnya|simak juga|lihat juga|read (?:more|also)|also read|"
    r"related(?: articles| stories)?:|more on this|lesen sie auch|auch interessant|"
    r"mehr zum thema|weitere (?:themen|artikel|informationen zum thema)|das könnte (?:dich|sie) "
    r"auch interessieren|schon gelesen|à lire aussi|lire aussi|a lire aussi|czytaj (?:też|także)|"
    r"zobacz (?:też|także)|más sobre|notas relacionadas|lee también|leer más|leggi anche|"
    r"potrebbe interessarti)\b", re.IGNORECASE)
# Site furniture written as prose: copyright, contact addresses. An address is tried only from
# the start of a run of its characters: tried from every letter of a long run (a run of
# "ab.ab.ab…" has no "@"), each try reads to the run's end, and a 128 KB line took 40 s.
LEGAL_OR_CONTACT = re.compile(
    r"©|\bcopyright\b|\ball rights reserved\b|hak cipta|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+",
    re.IGNORECASE)


def word_count(line: str) -> int:
    """Words of a line; a run of Chinese or Japanese characters counts one word per two
    characters (their words are one to three characters long)."""
    words = WORD.findall(line)
    if not _CJK.search(line):
        return len(words)
    total = 0
    for word in words:
        cjk = len(_CJK.findall(word))
        total += (cjk + 1) // 2 + (1 if len(word) > cjk else 0) if cjk else 1
    return total
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
# Labels that introduce an article's author ("Penulis: ...", "Oleh ...", "By ...").
AUTHOR_LABELS = ("penulis", "editor", "redaktur", "pewarta", "reporter", "wartawan",
                 "kontributor", "oleh", "written by", "author", "writer", "by")
# Labels of a credit row: the authors, and the photographs' and the story's sources.
CREDIT_LABELS = (*AUTHOR_LABELS, "sumber", "fotografer", "foto", "source", "photographer")
_AUTHORS = "|".join(AUTHOR_LABELS)
_CREDITS = "|".join(CREDIT_LABELS)

# A label before an author's name in a metadata field: dropped from the name.
AUTHOR_LABEL = re.compile(rf"^\s*(?:{_AUTHORS})\s*[:\-]?\s*", re.IGNORECASE)
# A short line of scraped text naming the author ("Penulis: Aditya Maulana").
AUTHOR_LINE = re.compile(rf"^(?:{_AUTHORS})(?![\w-])\s*:?\s*(.*)$", re.IGNORECASE)
# A table row that credits the article ("| Penulis | : Aditya Maulana |"): the page's
# metadata laid out as a table, read for the author elsewhere, not part of the body.
CREDIT_ROW = re.compile(
    rf"^\|\s*(?:{_CREDITS})\b[^|]*(?:\|[^|]*){{0,2}}\|?\s*$", re.IGNORECASE)
# A row of a table as trafilatura writes one ("| Mata uang | Jual | Beli |", "|---|---|"): an
# exchange-rate box, a standings table, a page's metadata laid out in cells. Not article text:
# "Last Update" and "Mata" of a rate table became organisations.
TABLE_ROW = re.compile(r"^\|.*\|$")
# What closes a photo's caption: its credit in brackets ("(ANTARA FOTO/Budi Setya)", "(AP
# Photo/Evan Vucci)", "(REUTERS/Kim Kyung-Hoon)", "(Foto: Humas Polri)"); a link is not a
# credit ("(Foto: http://…)" in a press release's text).
PHOTO_CREDIT = re.compile(
    r"\((?:ANTARA FOTO|[A-Z][A-Za-z]+ Photo|Photo|Foto|FOTO|REUTERS|Reuters|AFP|AP|EPA|"
    r"Getty Images)\s*[/:][^()/:]{1,80}\)\s*$")
# A photo caption's credit or date ("(AP Photo/...)", "Foto: ...", "... 2023.").
CAPTION = re.compile(
    r"\((?:AP|Reuters|AFP|Getty|Credit|Photo|Foto|Dok)\b|\bPhoto\s*[/:]|\bCredit\s*:"
    r"|\b(?:19|20)\d\d\.?$", re.IGNORECASE)


@cache
def stopwords(language: str) -> frozenset[str]:
    """jusText's stop-word lists (it ships Indonesian and English among ~100 languages)."""
    import justext

    names = {"id": "Indonesian", "en": "English", "ms": "Malay"}
    try:
        return frozenset(justext.get_stoplist(names.get(language, "English")))
    except ValueError:
        return frozenset()


def function_words() -> frozenset[str]:
    """The function words of the languages newsstream cleans (Indonesian, English)."""
    return stopwords("id") | stopwords("en")
