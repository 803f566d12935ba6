"""Entity extraction for an article: tag, map to exact offsets, normalise, count.

The tagger sits behind :class:`~stream.entities.tagger.TokenTagger`; any model that tags
sentences of words (CRF, transformer) plugs in without changing the callers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from stream.entities.common_words import drop_common_words
from stream.entities.cues import organisation_by_cue
from stream.entities.mentions import (
    Mention,
    article_short_forms,
    find_mentions_in,
    join_hyphenated_names,
    join_split_places,
    propagate_mentions,
)
from stream.entities.models.registry import DEFAULT_OPTIONS, EntityOptions, tagger_for
from stream.entities.normalise import (
    Alias,
    apply_alias,
    canonical_name,
    default_aliases,
    default_display_names,
    display_name,
    entity_id,
    resolve_within_article,
)
from stream.entities.tagger import TokenTagger


@dataclass(frozen=True, slots=True)
class Entity:
    """A mention of an entity. ``name`` is the entity's name in the article's language;
    ``canonical`` is the one name shared across languages, which ``entity_id`` is made from
    (an English "United States" and an Indonesian "AS" are both Amerika Serikat)."""

    text: str
    label: str
    start: int
    end: int
    name: str
    entity_id: str
    canonical: str

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "label": self.label, "start": self.start, "end": self.end,
                "name": self.name, "entity_id": self.entity_id}


@dataclass(frozen=True, slots=True)
class EntityCount:
    entity_id: str
    name: str
    label: str
    mentions: int
    canonical: str

    def as_dict(self) -> dict[str, object]:
        return {"entity_id": self.entity_id, "name": self.name, "label": self.label,
                "mentions": self.mentions, "canonical_name": self.canonical}

@cache
def known_names(aliases_file: str | None = None) -> dict[str, str]:
    """Always entities, wherever written: names from the alias table that map to themselves
    with a label (countries, capitals), and its acronyms of three or more capitals with a
    label ("KPK", "DPR", "NATO"). Two-letter ones ("MA", "UN": also "Ujian Nasional") are
    too ambiguous to count without the model."""
    return {alias: label for alias, (canonical, label) in default_aliases(aliases_file).items()
            if label and ((alias == canonical and alias[:1].isupper())
                          or (alias.isupper() and len(alias) >= 3))}

def normalise_mentions(mentions: Sequence[Mention], aliases: dict[str, Alias] | None = None,
                       article_aliases: dict[str, Alias] | None = None, language: str = "id",
                       display_names: dict[str, dict[str, str]] | None = None) -> list[Entity]:
    """Canonical names and ids: titles stripped, aliases mapped ("AS" → "Amerika Serikat"),
    partial names resolved within the article ("Blinken" → "Antony Blinken", "Sierra Nevada"
    → "Sierra Nevada Corporation"), one label per name in the article, and each name as
    readers of ``language`` know it."""
    table = default_aliases() if aliases is None else aliases
    shown = default_display_names() if display_names is None else display_names
    table = {**table, **(article_aliases or {})}
    names = [apply_alias(canonical_name(m.text, m.label), m.label, table) for m in mentions]
    final = resolve_within_article(names, [m.start for m in mentions])
    label_of = _one_label_per_name(final)
    entities = []
    for mention, (name, _label) in zip(mentions, final, strict=True):
        if not name:
            continue
        label = label_of[name]
        entities.append(Entity(mention.text, label, mention.start, mention.end,
                               display_name(name, language, shown), entity_id(name, label),
                               name))
    return entities


def _one_label_per_name(names: Sequence[tuple[str, str]]) -> dict[str, str]:
    """One name, one entity within an article: a name the model labelled differently in
    different sentences ("Brexit" LOC, then PER) takes its most frequent label (the first
    seen on a tie)."""
    votes: dict[str, Counter[str]] = {}
    for name, label in names:
        votes.setdefault(name, Counter())[label] += 1
    return {name: counts.most_common(1)[0][0] for name, counts in votes.items()}

def extract_entities(text: str, language: str, tagger: TokenTagger | None = None,
                     options: EntityOptions = DEFAULT_OPTIONS) -> list[Entity]:
    return extract_entities_in([text], language, tagger, options)[0]


def extract_entities_in(texts: Sequence[str], language: str,
                        tagger: TokenTagger | None = None,
                        options: EntityOptions = DEFAULT_OPTIONS) -> list[list[Entity]]:
    """:func:`extract_entities` of several texts in one language, tagged in one batch."""
    found = find_mentions_in(texts, tagger or tagger_for(language, options))
    return [_entities(text, mentions, language, options.aliases_file)
            for text, mentions in zip(texts, found, strict=True)]


def _entities(text: str, mentions: list[Mention], language: str,
              aliases_file: str | None) -> list[Entity]:
    known = known_names(aliases_file)
    mentions = join_split_places(text, drop_common_words(text, mentions, language, known),
                                 default_aliases(aliases_file))
    if language == "en":
        mentions = join_hyphenated_names(text, organisation_by_cue(text, mentions))
    short_forms = article_short_forms(text, mentions)
    also = {short: label for short, (_name, label) in short_forms.items() if label}
    return normalise_mentions(propagate_mentions(text, mentions, known, also),
                              default_aliases(aliases_file), article_aliases=short_forms,
                              language=language,
                              display_names=default_display_names(aliases_file))


def count_entities(entities: Sequence[Entity]) -> list[EntityCount]:
    """Mentions per canonical entity, most mentioned first (ties by id, for stable output)."""
    counts = Counter(entity.entity_id for entity in entities)
    first: dict[str, Entity] = {}
    for entity in entities:
        first.setdefault(entity.entity_id, entity)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [EntityCount(eid, first[eid].name, first[eid].label, n, first[eid].canonical)
            for eid, n in ordered]
