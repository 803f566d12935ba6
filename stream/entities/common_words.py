"""Mentions that are not names: words a model tags because they carry a capital letter.

Words without a capital letter in English text that has capitals, a month in a date ("Oct. 31"), a
weekday, a currency code, and words the article itself also writes in lower case: "Jemaah
Haji" in a title-case heading of an article that speaks of "calon jemaah haji", "Televised"
opening a sentence of an article that has "a televised debate", "the Moon" in one that also
says "the moon".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from stream.entities.mentions import Mention

_MONTHS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "januari", "februari", "maret", "mei", "juni",
    "juli", "agustus", "oktober", "desember", "pebruari", "nopember", "agu", "okt", "des",
})
_WEEKDAYS = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "senin",
    "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad",
})
# ISO 4217 codes of the currencies news quotes most: rate tables, "USD 1 = IDR 15.000".
_CURRENCIES = frozenset({
    "usd", "idr", "eur", "gbp", "jpy", "cny", "rmb", "sgd", "myr", "aud", "hkd", "chf",
    "krw", "sar", "thb", "inr", "php", "cad", "nzd", "aed",
})
_NUMBER_NEAR = re.compile(r"\d")
_SENTENCE_BREAK = ".!?:\n"
_OPENERS = " \t\"'“‘([«—–-|"  # "|": a table cell starts like a sentence


def drop_common_words(text: str, mentions: Sequence[Mention], language: str,
                      known: Mapping[str, str]) -> list[Mention]:
    """The mentions without those that are not names. ``known`` names (the alias table's
    countries, capitals and acronyms) always stay, and so does a word of a longer person's
    name in the article ("May" in an article on Theresa May that says "may")."""
    name_words = {word for m in mentions if m.label == "PER" for word in m.text.split()[1:]}
    name_words |= {m.text.split()[0] for m in mentions
                   if m.label == "PER" and len(m.text.split()) > 1}
    lower_cased: dict[str, bool] = {}
    # English text writes names with capitals: a span without one is a common noun the model
    # took along ("moon"). Indonesian web text writes "aceh" and "manado" too.
    capitals = language == "en" and any(ch.isupper() for ch in text)
    kept = []
    for mention in mentions:
        surface = mention.text
        if surface in known or surface.rstrip(".") in known:
            kept.append(mention)
            continue
        if (capitals and not any(ch.isupper() for ch in surface)) or _calendar_or_currency(
                text, mention) or (language == "en" and _english_non_name(text, mention)):
            continue
        one_word = " " not in surface
        if surface not in lower_cased:
            lowered = surface.lower()
            lower_cased[surface] = lowered != surface and _written_as_word(text, lowered)
        if lower_cased[surface] and not (one_word and surface in name_words) and (
                not one_word or language == "en" or _opens_sentence(text, mention.start)):
            continue
        kept.append(mention)
    return kept


_OPENING_QUOTES = "“‘\"'"
_CLOSING_QUOTES = "”’\"'"
_OWNERS = re.compile(r"(?:^|\s)(?:our|its|their)\s+$", re.IGNORECASE)
_LOWER_WORD = re.compile(r"\s+[a-z]")


def _english_non_name(text: str, mention: Mention) -> bool:
    """What English text shows is not a person, organisation or place: a coined term in
    quotes, a product."""
    return (_quoted_term(text, mention) or _owned_product(text, mention)
            or _product_name(text, mention))


def _quoted_term(text: str, mention: Mention) -> bool:
    """One word that is all of a quotation, “Cleggmania”: a coined term or a title, not a
    name (a name is written without quotes)."""
    after = text[mention.end:mention.end + 2].lstrip(",.!?")
    return (" " not in mention.text and mention.start > 0
            and text[mention.start - 1] in _OPENING_QUOTES
            and after[:1] in _CLOSING_QUOTES and after[:1] != "")


def _owned_product(text: str, mention: Mention) -> bool:
    """An organisation's name between "our"/"its"/"their" and a common noun, "our Blue Moon
    lander", "its Stadia service": a product the speaker owns, not the organisation."""
    return (mention.label == "ORG"
            and _OWNERS.search(text, max(0, mention.start - 8), mention.start) is not None
            and _LOWER_WORD.match(text, mention.end) is not None)


# "MacBook Pro", "iPhone 11", "AirPods 2", "Hang Seng Index": a product's model or edition, or
# a stock index. A number ends a product's name only after a word capitalised inside
# ("Channel 4" and "Formula 1" stay), and a number after a name is never taken for a model
# ("the Lakers 110-102").
_MODEL_WORD = re.compile(r"(?:Pro|Max|Mini|Plus|Ultra|XL|SE)\b")
_NUMBER = re.compile(r"\d+\w*")
_INNER_CAPITAL = re.compile(r"[a-z]+[A-Z]|[A-Z][a-z]+[A-Z]")
_INDEX = re.compile(r"\s(?:Index|Composite)$")


def _product_name(text: str, mention: Mention) -> bool:
    """An "organisation" that is a product's model or a stock index."""
    if mention.label != "ORG":
        return False
    words = mention.text.split()
    if len(words) > 1 and (_MODEL_WORD.fullmatch(words[-1]) or _INDEX.search(mention.text) or (
            _NUMBER.fullmatch(words[-1]) and _INNER_CAPITAL.match(words[0]))):
        return True
    return text[mention.end:mention.end + 1] == " " and bool(
        _MODEL_WORD.match(text, mention.end + 1))


def _is_word_character(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what \w matches


def _written_as_word(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` with no word character either side: a regular expression
    per surface would do the same, but compiling one per name cost more than the search."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not _is_word_character(text[at - 1])) and (
                end == len(text) or not _is_word_character(text[end])):
            return True
        at = text.find(word, at + 1)
    return False


def _calendar_or_currency(text: str, mention: Mention) -> bool:
    word = mention.text.rstrip(".").lower()
    if word in _WEEKDAYS or word in _CURRENCIES:
        return True
    if word not in _MONTHS:
        return False
    # "May" is also a name: a month is a month when a number stands next to it.
    around = text[max(0, mention.start - 4):mention.start] + text[mention.end:mention.end + 4]
    return _NUMBER_NEAR.search(around) is not None


def _opens_sentence(text: str, start: int) -> bool:
    while start > 0 and text[start - 1] in _OPENERS:
        start -= 1
    return start == 0 or text[start - 1] in _SENTENCE_BREAK
