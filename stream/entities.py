"""Entity extraction for an article: split, tag, map to exact offsets, normalise.

The tagger sits behind :class:`TokenTagger`; any model that tags sentences of words
(CRF, transformer) plugs in without changing the callers.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol

from stream.ner.corpus import Span
from stream.ner.tokenize import Token, segments, tokenize
from stream.normalise import (
    Alias,
    apply_alias,
    canonical_name,
    default_aliases,
    entity_id,
    resolve_partial_names,
    short_form,
)


class TokenTagger(Protocol):
    name: str

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Entity token spans ``(start, end_exclusive, label)`` for each sentence."""
        ...


@dataclass(frozen=True, slots=True)
class Mention:
    """A raw model output: ``text[start:end]`` with a label."""

    text: str
    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Entity:
    text: str
    label: str
    start: int
    end: int
    name: str
    entity_id: str

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "label": self.label, "start": self.start, "end": self.end,
                "name": self.name, "entity_id": self.entity_id}


@dataclass(frozen=True, slots=True)
class EntityCount:
    entity_id: str
    name: str
    label: str
    mentions: int

    def as_dict(self) -> dict[str, object]:
        return {"entity_id": self.entity_id, "name": self.name, "label": self.label,
                "mentions": self.mentions}


@cache
def default_tagger() -> TokenTagger:
    """Indonesian (and any language without a model of its own): the CRF."""
    from stream.ner.crf import CrfTagger

    return CrfTagger()


@cache
def accurate_tagger() -> TokenTagger:
    from stream.config import get_settings
    from stream.ner.accurate import E5Tagger

    return E5Tagger(int8=get_settings().ner_int8)


@cache
def english_tagger() -> TokenTagger:
    from stream.ner.english import SpacyEnglishTagger

    return SpacyEnglishTagger()


def tagger_for(language: str) -> TokenTagger:
    """The article's language picks the model; the configured tier picks the Indonesian one."""
    from stream.config import get_settings

    if language == "en":
        return english_tagger()
    return accurate_tagger() if get_settings().ner_model == "accurate" else default_tagger()


def find_mentions(text: str, tagger: TokenTagger) -> list[Mention]:
    """Tag each sentence of each line; a mention never crosses a line or sentence break."""
    return find_mentions_in([text], tagger)[0]


def find_mentions_in(texts: Sequence[str], tagger: TokenTagger) -> list[list[Mention]]:
    """:func:`find_mentions` of several texts with one call of the tagger: a transformer
    tags a batch of sentences 1.5 times faster per word than one sentence at a time."""
    owners: list[int] = []
    sentences: list[list[Token]] = []
    for index, text in enumerate(texts):
        for start, end in segments(text):
            if tokens := tokenize(text[start:end], start):
                owners.append(index)
                sentences.append(tokens)
    predictions = tagger.predict([[token.text for token in tokens] for tokens in sentences])
    mentions: list[list[Mention]] = [[] for _ in texts]
    for owner, tokens, spans in zip(owners, sentences, predictions, strict=True):
        text = texts[owner]
        for first, last, label in spans:
            start, end = tokens[first].start, tokens[last - 1].end
            mentions[owner].extend(split_mention(Mention(text[start:end], label, start, end)))
    return mentions


# "Joko Widodo-Jusuf Kalla", "Prabowo Subianto - Hatta Rajasa": a ticket of two full names;
# one-word sides ("Jokowi-JK", "Abdul-Jabbar") stay one name.
_PAIR = re.compile(r"^(?P<a>\S+(?:\s+\S+)+?)\s*[-–]\s*(?P<b>\S+(?:\s+\S+)+)$")
_EDGE_PUNCTUATION = "\"'“”‘’,;:-–"


def split_mention(mention: Mention) -> list[Mention]:
    """A tagged span as the names it holds, offsets kept exact: a PER span joining two full
    names with a dash is two mentions; quotes, dashes, unbalanced brackets and a possessive
    "'s" at its edges are not part of it. "Joko Widodo (Jokowi)" stays one mention, of one
    person."""
    match = _PAIR.match(mention.text) if mention.label == "PER" else None
    bounds = [match.span("a"), match.span("b")] if match else [(0, len(mention.text))]
    parts = [_trimmed(mention, start, end) for start, end in bounds]
    return [part for part in parts if part]


def _trimmed(mention: Mention, start: int, end: int) -> Mention | None:
    text = mention.text
    while start < end:
        before = (start, end)
        while start < end and (text[start].isspace() or text[start] in _EDGE_PUNCTUATION):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in _EDGE_PUNCTUATION):
            end -= 1
        inner = text[start:end]
        if inner.endswith(("'s", "’s")) and len(inner) > 2 and inner[-3].isalnum():
            end -= 2  # "NASA’s": the possessive is not part of the name
        elif inner.startswith("(") and inner.endswith(")") and inner.count("(") == 1:
            start, end = start + 1, end - 1  # "(MK)": the short form alone
        elif inner.startswith("(") and ")" not in inner:
            start += 1
        elif inner.endswith(")") and "(" not in inner:
            end -= 1
        elif inner.count("(") > inner.count(")"):
            end = start + inner.rindex("(")  # "Joko Widodo (Jokowi": the name before it
        if (start, end) == before:
            break
    if not any(ch.isalnum() for ch in text[start:end]):
        return None
    return Mention(text[start:end], mention.label, mention.start + start, mention.start + end)


@cache
def known_names() -> dict[str, str]:
    """Always entities, wherever written: names from the alias table that map to themselves
    with a label (countries, capitals), and its acronyms of three or more capitals with a
    label ("KPK", "DPR", "NATO"). Two-letter ones ("MA", "UN": also "Ujian Nasional") are
    too ambiguous to count without the model."""
    return {alias: label for alias, (canonical, label) in default_aliases().items()
            if label and ((alias == canonical and alias[:1].isupper())
                          or (alias.isupper() and len(alias) >= 3))}


def propagate_mentions(text: str, mentions: Sequence[Mention],
                       known: dict[str, str] | None = None,
                       also: dict[str, str] | None = None) -> list[Mention]:
    """Document-level consistency: a name the model found once is found everywhere.

    Untagged whole-word occurrences of a tagged mention (at least two words, or one
    capitalised word of four letters or more), and of the surname of a tagged full person
    name, become mentions with that label: "Blinken mengatakan ..." at a sentence start, after
    "Antony Blinken" earlier. So do the ``known`` names (surface → label: countries, capitals,
    from the alias table) wherever they are written, and the ``also`` names of this article
    (the short forms it introduces). ``known`` is one compiled pattern for every article, so
    the article's own names go in ``also``. Occurrences inside existing mentions are left
    alone.
    """
    surfaces: dict[str, str] = dict(also or {})  # this article's own names (short forms)
    for mention in mentions:
        words = mention.text.split()
        if len(words) >= 2 or (len(mention.text) >= 4 and mention.text[:1].isupper()):
            surfaces.setdefault(mention.text, mention.label)
        if mention.label == "PER" and len(words) >= 2:
            surname = words[-1]
            if len(surname) >= 4 and surname[:1].isupper():
                surfaces.setdefault(surname, "PER")
    known = known or {}
    candidates = [(m.start(), m.end(), m.group(), surfaces[m.group()])
                  for m in _pattern(tuple(sorted(surfaces))).finditer(text)] if surfaces else []
    if known:
        candidates += [(m.start(), m.end(), m.group(), known[m.group()])
                       for m in _pattern(tuple(sorted(known))).finditer(text)]
    # The spans taken so far never overlap, so sorted by start their ends are sorted too, and
    # a candidate overlaps one only if the last span starting before its end reaches past its
    # start: a bisection, not a scan (a scan made a 200 kB one-line text take minutes).
    taken = sorted((m.start, m.end) for m in mentions)
    starts, ends = [s for s, _ in taken], [e for _, e in taken]
    added: list[Mention] = []
    # Longest first where candidates overlap, as one alternation of all names would match.
    for start, end, surface, label in sorted(candidates, key=lambda c: (c[0], c[0] - c[1])):
        before = bisect_left(starts, end)
        if "\n" in surface or (before > 0 and ends[before - 1] > start):
            continue
        added.append(Mention(surface, label, start, end))
        starts.insert(before, start)
        ends.insert(before, end)
    return sorted([*mentions, *added], key=lambda m: m.start)


@lru_cache(maxsize=64)
def _pattern(surfaces: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word matcher of the names (the known names' one is compiled once)."""
    alternatives = "|".join(re.escape(s) for s in sorted(surfaces, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")


def normalise_mentions(mentions: Sequence[Mention], aliases: dict[str, Alias] | None = None,
                       article_aliases: dict[str, Alias] | None = None) -> list[Entity]:
    """Canonical names and ids: titles stripped, aliases mapped ("AS" → "Amerika Serikat"),
    partial person names resolved within the article ("Blinken" → "Antony Blinken"), one
    label per name in the article."""
    table = default_aliases() if aliases is None else aliases
    table = {**table, **(article_aliases or {})}
    names = [apply_alias(canonical_name(m.text, m.label), m.label, table) for m in mentions]
    resolved = resolve_partial_names(names)
    final = [resolved.get(key, key) for key in names]
    label_of = _one_label_per_name(final)
    entities = []
    for mention, (name, _label) in zip(mentions, final, strict=True):
        if not name:
            continue
        label = label_of[name]
        entities.append(Entity(mention.text, label, mention.start, mention.end,
                               name, entity_id(name, label)))
    return entities


def _one_label_per_name(names: Sequence[tuple[str, str]]) -> dict[str, str]:
    """One name, one entity within an article: a name the model labelled differently in
    different sentences ("Brexit" LOC, then PER) takes its most frequent label (the first
    seen on a tie)."""
    votes: dict[str, Counter[str]] = {}
    for name, label in names:
        votes.setdefault(name, Counter())[label] += 1
    return {name: counts.most_common(1)[0][0] for name, counts in votes.items()}


_FOLLOWING_SHORT_FORM = re.compile(r"\s*\(\s*([^\W\d_][\w.&-]{0,15})\s*\)")


def article_short_forms(text: str, mentions: Sequence[Mention]) -> dict[str, Alias]:
    """Short forms the article itself introduces, "Mahkamah Konstitusi (MK)": its other
    mentions of "MK" are that entity. One word with a capital letter, in brackets right after
    a name (or inside its span), so that a bracketed remark is not taken for one."""
    found: dict[str, Alias] = {}
    for mention in mentions:
        named = short_form(mention.text)
        if named is None:
            following = _FOLLOWING_SHORT_FORM.match(text, mention.end)
            named = (mention.text, following.group(1)) if following else None
        if named and " " not in named[1] and any(ch.isupper() for ch in named[1]):
            found.setdefault(named[1], (canonical_name(named[0], mention.label), mention.label))
    return found


def extract_entities(text: str, language: str, tagger: TokenTagger | None = None) -> list[Entity]:
    return extract_entities_in([text], language, tagger)[0]


def extract_entities_in(texts: Sequence[str], language: str,
                        tagger: TokenTagger | None = None) -> list[list[Entity]]:
    """:func:`extract_entities` of several texts in one language, tagged in one batch."""
    found = find_mentions_in(texts, tagger or tagger_for(language))
    return [_entities(text, mentions) for text, mentions in zip(texts, found, strict=True)]


def _entities(text: str, mentions: list[Mention]) -> list[Entity]:
    short_forms = article_short_forms(text, mentions)
    also = {short: label for short, (_name, label) in short_forms.items() if label}
    return normalise_mentions(propagate_mentions(text, mentions, known_names(), also),
                              article_aliases=short_forms)


def count_entities(entities: Sequence[Entity]) -> list[EntityCount]:
    """Mentions per canonical entity, most mentioned first (ties by id, for stable output)."""
    counts = Counter(entity.entity_id for entity in entities)
    first: dict[str, Entity] = {}
    for entity in entities:
        first.setdefault(entity.entity_id, entity)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [EntityCount(eid, first[eid].name, first[eid].label, n) for eid, n in ordered]
