from collections.abc import Sequence

from stream.cleaning import clean_text
from stream.entities import Mention, count_entities, extract_entities, find_mentions
from stream.ner.corpus import Span, bio_to_spans, prf, spans_to_bio
from tests.helpers import SAMPLE_TEXT


class CapitalisedWords:
    """A stand-in tagger: every capitalised word is a PER. Shows the interface is pluggable."""

    name = "capitalised"

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        return [[(i, i + 1, "PER") for i, w in enumerate(words) if w[:1].isupper()]
                for words in sentences]


def _sample_entities() -> set[tuple[str, str]]:
    text = clean_text(SAMPLE_TEXT).text
    return {(e.name, e.label) for e in extract_entities(text, "id")}


def test_sample_people_places_and_organisations_are_found() -> None:
    found = _sample_entities()
    expected = {
        ("Antony Blinken", "PER"), ("Sergei Shoigu", "PER"), ("Kim Jong Un", "PER"),
        ("Korea Utara", "LOC"), ("Rusia", "LOC"), ("Ukraina", "LOC"), ("KCNA", "ORG"),
    }
    assert expected <= found


def test_offsets_are_exact() -> None:
    text = clean_text(SAMPLE_TEXT).text
    entities = extract_entities(text, "id")
    assert entities
    for entity in entities:
        assert text[entity.start:entity.end] == entity.text


def test_partial_names_resolve_to_the_full_name_in_the_same_article() -> None:
    text = clean_text(SAMPLE_TEXT).text
    blinken = [e for e in extract_entities(text, "id") if "Blinken" in e.text]
    assert len(blinken) >= 3
    assert {e.name for e in blinken} == {"Antony Blinken"}
    assert {e.entity_id for e in blinken} == {"PER:antony-blinken"}


def test_mentions_never_cross_a_line_break() -> None:
    text = "Gabung Kompas\n\nAS Yakin Rusia Menang\nJoko Widodo hadir."
    for mention in find_mentions(text, CapitalisedWords()):
        assert "\n" not in mention.text


def test_a_different_tagger_plugs_in() -> None:
    entities = extract_entities("kata Budi kepada Ani.", "id", CapitalisedWords())
    assert [(e.text, e.label, e.start) for e in entities] == [("Budi", "PER", 5),
                                                              ("Ani", "PER", 17)]


def test_count_entities_groups_by_canonical_entity() -> None:
    text = clean_text(SAMPLE_TEXT).text
    entities = extract_entities(text, "id")
    counts = {c.entity_id: c.mentions for c in count_entities(entities)}
    assert counts["PER:antony-blinken"] == sum(1 for e in entities if e.name == "Antony Blinken")
    assert sum(counts.values()) == len(entities)


def test_bio_round_trip_and_scoring() -> None:
    spans = [(0, 2, "PER"), (3, 4, "LOC")]
    tags = spans_to_bio(5, spans)
    assert tags == ["B-PER", "I-PER", "O", "B-LOC", "O"]
    assert bio_to_spans(tags) == spans
    assert bio_to_spans(["I-ORG", "I-ORG", "B-ORG"]) == [(0, 2, "ORG"), (2, 3, "ORG")]
    assert prf([set(spans)], [{(0, 2, "PER"), (3, 4, "ORG")}]) == (0.5, 0.5, 0.5)


def test_mention_dataclass_keeps_text() -> None:
    assert Mention("AS", "LOC", 0, 2).text == "AS"
