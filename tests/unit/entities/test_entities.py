from collections.abc import Sequence

import orjson
import pytest

from stream.clean.text import clean_text
from stream.entities.extract import count_entities, extract_entities, normalise_mentions
from stream.entities.mentions import (
    Mention,
    find_mentions_in,
    propagate_mentions,
    split_mention,
)
from stream.entities.tagger import Span, bio_to_spans
from stream.pipeline import EnrichOptions, enrich_record
from tests.support.helpers import SAMPLE_TEXT
from tests.support.paths import EXAMPLES
from training.corpus import prf, spans_to_bio


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
        ("Korea Utara", "LOC"), ("Pyongyang", "LOC"), ("Rusia", "LOC"), ("Ukraina", "LOC"),
        ("Iran", "LOC"), ("Australia", "LOC"), ("KCNA", "ORG"), ("AFP", "ORG"),
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


class WholeSentence:
    """A stand-in tagger that tags every sentence it is given as one span."""

    name = "whole-sentence"

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        return [[(0, len(words), "ORG")] for words in sentences]


def test_mentions_never_cross_a_line_break() -> None:
    text = "Gabung Kompas\n\nAS Yakin Rusia Menang\nJoko Widodo hadir."
    found = [m.text for m in find_mentions_in([text], WholeSentence())[0]]
    # the tagger sees each line on its own: its widest span is one line
    assert found == ["Gabung Kompas", "AS Yakin Rusia Menang", "Joko Widodo hadir."]


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


def test_a_ticket_of_two_full_names_is_two_people_at_exact_offsets() -> None:
    text = "Pasangan Joko Widodo-Jusuf Kalla menang."
    tagged = Mention("Joko Widodo-Jusuf Kalla", "PER", 9, 32)
    assert text[tagged.start:tagged.end] == tagged.text
    parts = split_mention(tagged)
    assert [(m.text, m.start, m.end) for m in parts] == [("Joko Widodo", 9, 20),
                                                         ("Jusuf Kalla", 21, 32)]
    assert all(text[m.start:m.end] == m.text for m in parts)


def test_english_text_gets_the_english_model_and_one_entity_per_person() -> None:
    text = ("Secretary of State Antony Blinken met Kim Jong Un in Pyongyang on Saturday, "
            "AFP reported. Blinken later flew to Seoul.")
    entities = extract_entities(text, "en")
    found = {(e.text, e.name, e.label) for e in entities}
    assert ("Kim Jong Un", "Kim Jong Un", "PER") in found
    assert ("Pyongyang", "Pyongyang", "LOC") in found
    assert {e.name for e in entities if "Blinken" in e.text} == {"Antony Blinken"}
    assert all(text[e.start:e.end] == e.text for e in entities)


def test_lower_cased_indonesian_text_is_tagged() -> None:
    text = "menteri luar negeri amerika serikat antony blinken bertemu kim jong un di pyongyang."
    found = {(e.text, e.label) for e in extract_entities(text, "id")}
    assert ("antony blinken", "PER") in found and ("pyongyang", "LOC") in found


def test_as_and_amerika_serikat_are_one_entity_in_the_sample() -> None:
    text = clean_text(SAMPLE_TEXT).text
    ids = {e.entity_id for e in extract_entities(text, "id") if e.text in ("AS", "Amerika Serikat")}
    assert ids == {"LOC:amerika-serikat"}


def test_a_name_found_once_is_found_everywhere_in_the_article() -> None:
    text = ("Menteri Luar Negeri Antony Blinken tiba di Jakarta.\n\n"
            "Blinken mengatakan kunjungan itu penting. Kata Blinken, hubungan kedua negara baik.")
    mentions = [Mention("Antony Blinken", "PER", 20, 34), Mention("Jakarta", "LOC", 43, 50)]
    found = propagate_mentions(text, mentions)
    assert [(m.text, m.label) for m in found] == [
        ("Antony Blinken", "PER"), ("Jakarta", "LOC"), ("Blinken", "PER"), ("Blinken", "PER")]
    assert all(text[m.start:m.end] == m.text for m in found)


def test_all_blinken_mentions_of_the_sample_are_antony_blinken() -> None:
    text = clean_text(SAMPLE_TEXT).text
    blinken = [e for e in extract_entities(text, "id") if "Blinken" in e.text]
    assert len(blinken) == text.count("Blinken") == 5
    assert {e.entity_id for e in blinken} == {"PER:antony-blinken"}


class Phrases:
    """A stand-in tagger that tags the given token sequences, as a model might."""

    name = "phrases"

    def __init__(self, *phrases: tuple[str, str]) -> None:
        self.phrases = [(phrase.split(), label) for phrase, label in phrases]

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        found: list[list[Span]] = []
        for words in sentences:
            spans: list[Span] = []
            for phrase, label in self.phrases:
                for i in range(len(words) - len(phrase) + 1):
                    if list(words[i:i + len(phrase)]) == phrase:
                        spans.append((i, i + len(phrase), label))
            found.append(spans)
        return found


def _names(text: str, tagger: Phrases) -> list[tuple[str, str, str]]:
    entities = extract_entities(text, "id", tagger)
    for entity in entities:
        assert text[entity.start:entity.end] == entity.text
    return [(e.text, e.name, e.label) for e in entities]


def test_a_name_with_its_short_form_is_one_mention_and_the_short_form_its_alias() -> None:
    # Not in the alias table: the article's own bracket is what links "BRKN" to the name.
    text = "Peneliti Badan Riset Kelautan Nusantara (BRKN) menemukan spesies baru. Temuan BRKN itu"
    tagger = Phrases(("Badan Riset Kelautan Nusantara ( BRKN )", "ORG"))
    assert _names(text, tagger) == [
        ("Badan Riset Kelautan Nusantara (BRKN)", "Badan Riset Kelautan Nusantara", "ORG"),
        ("BRKN", "Badan Riset Kelautan Nusantara", "ORG"),
    ]


def test_a_short_form_tagged_on_its_own_joins_the_name_before_it() -> None:
    text = "Gubernur Ridwan Kamil (Emil) hadir. Menurut Emil, semuanya lancar."
    tagger = Phrases(("Ridwan Kamil", "PER"), ("Emil", "PER"))
    assert [name for _text, name, _label in _names(text, tagger)] == ["Ridwan Kamil"] * 3


def test_a_ticket_of_two_people_is_two_mentions() -> None:
    text = "Pasangan Prabowo Subianto - Hatta Rajasa mendaftar ke KPU."
    tagger = Phrases(("Prabowo Subianto - Hatta Rajasa", "PER"))
    assert [name for _text, name, label in _names(text, tagger) if label == "PER"] == [
        "Prabowo Subianto", "Hatta Rajasa"]


def test_split_mention_keeps_hyphenated_names_and_trims_stray_brackets() -> None:
    def split(text: str, label: str = "PER") -> list[tuple[str, int]]:
        return [(m.text, m.start) for m in split_mention(Mention(text, label, 10, 10 + len(text)))]

    assert split("Jokowi-JK") == [("Jokowi-JK", 10)]
    assert split("Jean-Paul Sartre") == [("Jean-Paul Sartre", 10)]
    assert split("Joko Widodo-Jusuf Kalla") == [("Joko Widodo", 10), ("Jusuf Kalla", 22)]
    assert split("Joko Widodo (Jokowi") == [("Joko Widodo", 10)]
    assert split("(MK)", "ORG") == [("MK", 11)]
    assert split("\"Blinken") == [("Blinken", 11)]
    assert split("Jalur Utara - Selatan", "LOC") == [("Jalur Utara - Selatan", 10)]
    assert split("(", "ORG") == []
    assert split("NASA’s", "ORG") == [("NASA", 10)]
    assert split("Boris Johnson's") == [("Boris Johnson", 10)]


def test_known_acronyms_are_entities_even_when_the_model_misses_them() -> None:
    text = "Penyidik KPK memeriksa saksi. Hasil UN diumumkan."
    assert _names(text, Phrases()) == [("KPK", "Komisi Pemberantasan Korupsi", "ORG")]


def test_a_name_gets_one_label_in_an_article() -> None:
    # "Grexit talks resumed. Grexit dominated the debate. Critics said Grexit failed."
    mentions = [Mention("Grexit", label, start, start + 6)
                for label, start in (("LOC", 0), ("PER", 22), ("LOC", 64))]
    assert {(e.name, e.label) for e in normalise_mentions(mentions)} == {("Grexit", "LOC")}


class SentenceLabels:
    """A stand-in tagger that labels "Grexit" by sentence, as the English model labelled
    "Brexit" in an AP article: PER in the first sentence, LOC in the others, nothing in the
    last."""

    name = "sentence-labels"

    def __init__(self, labels: Sequence[str | None]) -> None:
        self.labels = list(labels)

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        return [[(words.index("Grexit"), words.index("Grexit") + 1, label)]
                if label and "Grexit" in words else []
                for words, label in zip(sentences, self.labels, strict=True)]


def test_a_recurring_name_takes_the_models_majority_label_not_the_first() -> None:
    # The first label propagated to the untagged ones outvoted the model: 3 PER to 2 LOC.
    text = ("Grexit loomed. Voters tired of Grexit. Grexit talks stalled. Grexit won. "
            "Then Grexit came up again.")
    tagger = SentenceLabels(["PER", "LOC", "LOC", None, None])
    entities = extract_entities(text, "id", tagger)
    assert [(e.text, e.label) for e in entities] == [("Grexit", "LOC")] * 5


def test_english_possessives_are_split_for_the_english_model() -> None:
    text = ("Today that mission may have expanded to Jupiter’s moon Europa, as NASA’s "
            "scientists have concluded. The United States's agency said so.")
    entities = extract_entities(text, "en")
    assert not [e for e in entities if e.label == "PER"], entities
    assert ("NASA", "ORG") in {(e.text, e.label) for e in entities}
    assert all(not e.text.endswith(("’s", "'s")) for e in entities)
    assert all(text[e.start:e.end] == e.text for e in entities)


def test_an_english_article_before_a_name_is_not_part_of_it() -> None:
    from stream.entities.normalise import canonical_name

    assert canonical_name("the United States", "LOC") == "United States"
    assert canonical_name("The Conservative Party", "ORG") == "Conservative Party"
    assert canonical_name("The Hague", "LOC") == "The Hague"  # a one-word rest keeps it


def test_a_persons_span_ends_at_a_possessive_inside_it() -> None:
    text = "Amazon founder Jeff Bezos’s Blue Origin will bid."
    start = text.index("Jeff")
    mention = Mention("Jeff Bezos’s Blue Origin", "PER", start, start + 24)
    assert split_mention(mention) == [Mention("Jeff Bezos", "PER", start, start + 10)]
    # An organisation after the possessive is the mention, as in the regression set's
    # "[LOC Vietnam]’s [ORG Communist Party]"; the owner is a name found by itself.
    organisation = Mention("NASA’s Office of the Inspector General", "ORG", 0, 38)
    assert split_mention(organisation) == [
        Mention("Office of the Inspector General", "ORG", 7, 38)]


@pytest.mark.parametrize("tier", ["fast", "accurate"])
def test_the_english_examples_show_none_of_the_known_mistakes(tier: str) -> None:
    """The mistakes `make run` showed on the English example articles, in either tier."""
    from stream.entities.models.registry import EntityOptions

    records = [orjson.loads(line) for line in EXAMPLES.read_bytes().splitlines()]
    wanted = ("aeb-42aad16bde928862", "aeb-e7994d5500875202")
    english = [r for r in records if r.get("id") in wanted]
    results = [enrich_record(orjson.dumps(r), options=EnrichOptions(
                                 max_bytes=1 << 22, entity_options=EntityOptions(tier=tier))
                             ).enriched
               for r in english]
    counts = {(c["name"], c["label"]) for result in results if result
              for c in result["entity_counts"]}
    names = {name for name, _label in counts}
    assert {("Twitter", "ORG"), ("Brexit", "EVT"), ("Europa", "LOC"), ("Jupiter", "LOC"),
            ("United Kingdom", "LOC"), ("United States", "LOC"), ("London", "LOC"),
            ("Jeff Bezos", "PER"), ("European Union", "ORG")} <= counts, counts
    assert not names & {"Inggris", "Amerika Serikat", "Uni Eropa", "LONDON", "Moon", "moon",
                        "Oct", "Televised"}, names
    assert not [name for name, label in counts if label == "PER"
                and name in ("Twitter", "Brexit", "Europa", "Moon")]
    # "the fact-checking website Full Fact", "our Blue Moon lander", a wave of “Cleggmania”.
    assert ("Full Fact", "PER") not in counts and not names & {"Blue Moon", "Cleggmania"}
    by_name = {c["name"]: c for result in results if result for c in result["entity_counts"]}
    assert by_name["United Kingdom"]["canonical_name"] == "Inggris"
    assert by_name["United Kingdom"]["entity_id"] == "LOC:inggris"


def test_sentences_are_not_cut_after_titles_initials_or_dotted_short_forms() -> None:
    from stream.entities.tokenize import segments

    text = ("Officers arrested Elizabeth A. Burton, said Lt. Tays. It was Nov. 18 at the U.S. "
            "House. Gov. Kristi Noem spoke. “He left.” Then Mr. Smith came. Kata dia. Menurut")
    assert [text[start:end] for start, end in segments(text)] == [
        "Officers arrested Elizabeth A. Burton, said Lt. Tays.",
        "It was Nov. 18 at the U.S. House.", "Gov. Kristi Noem spoke.", "“He left.”",
        "Then Mr. Smith came.", "Kata dia.", "Menurut"]


def test_english_tokens_split_hyphens_between_letters_as_spacy_does() -> None:
    from stream.entities.tokenize import english_tokens, tokenize

    text = "US-China talks at the Facebook-owned firm, a 5-4 win, Jupiter’s moon"
    tokens = english_tokens(tokenize(text))
    assert [t.text for t in tokens][:6] == ["US", "-", "China", "talks", "at", "the"]
    assert "Facebook" in [t.text for t in tokens] and "5-4" in [t.text for t in tokens]
    assert [t.text for t in tokens][-3:] == ["Jupiter", "’s", "moon"]
    assert all(text[t.start:t.end] == t.text for t in tokens)
    entities = extract_entities("Markets fell on US-China trade fears.", "en")
    assert {(e.text, e.label) for e in entities} >= {("US", "LOC"), ("China", "LOC")}


def test_a_dateline_agency_is_not_a_short_form_of_the_city() -> None:
    text = "WASHINGTON (AP) — Lawmakers met. The AP reported it first."
    entities = extract_entities(text, "en")
    assert ("AP", "LOC") not in {(e.text, e.label) for e in entities}
    assert ("Washington", "LOC") in {(e.name, e.label) for e in entities}
    text = "Direksi Badan Usaha Milik Negara (BUMN) rapat. Kinerja BUMN naik."
    tagger = Phrases(("Badan Usaha Milik Negara", "ORG"))
    names = [(e.text, e.name) for e in extract_entities(text, "id", tagger)]
    assert names.count(("BUMN", "Badan Usaha Milik Negara")) == 2  # its letters, in order


def test_an_article_before_a_name_is_not_part_of_its_span() -> None:
    assert split_mention(Mention("the European Union", "ORG", 4, 22)) == [
        Mention("European Union", "ORG", 8, 22)]
    assert split_mention(Mention("The Hague", "LOC", 0, 9)) == [Mention("The Hague", "LOC", 0, 9)]
    starts = Mention("The United States", "LOC", 0, 17)
    assert split_mention(starts, opens_sentence=True) == [Mention("United States", "LOC", 4, 17)]
    assert split_mention(Mention("The Jakarta Post", "ORG", 9, 25)) == [
        Mention("The Jakarta Post", "ORG", 9, 25)]  # within a sentence, the name's own
    assert split_mention(Mention("the guardian", "ORG", 0, 12)) == [
        Mention("the guardian", "ORG", 0, 12)]  # text in lower case: nothing to tell by
    indonesian = Mention("the Abdabs", "ORG", 7, 17)  # as the Indonesian corpora mark it
    assert split_mention(indonesian, english=False) == [indonesian]
    assert split_mention(Mention("the Taliban", "ORG", 0, 11)) == [
        Mention("Taliban", "ORG", 4, 11)]


def test_a_place_written_in_two_halves_is_one_mention_of_it() -> None:
    from stream.entities.mentions import Mention, join_split_places

    text = "Washington, DC, United States: NASA. Jakarta, Indonesia. Sierra Nevada DC."
    found = [Mention("Washington", "LOC", 0, 10), Mention("DC", "LOC", 12, 14),
             Mention("United States", "LOC", 16, 29), Mention("Jakarta", "LOC", 37, 44),
             Mention("Indonesia", "LOC", 46, 55)]
    joined = join_split_places(text, found, {"Washington, DC": ("Washington DC", "LOC")})
    assert [(m.text, m.start, m.end) for m in joined] == [
        ("Washington, DC", 0, 14), ("United States", 16, 29), ("Jakarta", 37, 44),
        ("Indonesia", 46, 55)]
    # Whole elsewhere in the article is enough.
    again = join_split_places("Jakarta, Indonesia and Jakarta Indonesia",
                              [Mention("Jakarta", "LOC", 0, 7), Mention("Indonesia", "LOC", 9, 18),
                               Mention("Jakarta Indonesia", "LOC", 23, 40)], {})
    assert [m.text for m in again] == ["Jakarta, Indonesia", "Jakarta Indonesia"]


def test_a_name_is_not_cut_at_the_full_stop_after_an_initial_or_a_title() -> None:
    text = ("Jane Q. Public met Mr. Smith and Dr. Ann Lee. The deal, signed by Elizabeth A. "
            "Burton, went to Sen. John A. Smith.")
    found = {(e.text, e.label) for e in extract_entities(text, "en")}
    assert {("Jane Q. Public", "PER"), ("Smith", "PER"), ("Ann Lee", "PER"),
            ("Elizabeth A. Burton", "PER"), ("John A. Smith", "PER")} <= found, found
    assert not {text for text, _label in found} & {"Jane", "Q", "Public", "Dr", "Sen",
                                                   "John A", "Elizabeth A", "Burton"}


def test_english_tokens_keep_an_initial_or_a_title_with_its_full_stop() -> None:
    from stream.entities.tokenize import english_tokens, tokenize

    words = [t.text for t in english_tokens(tokenize("Mr. Smith met Jane Q. Public at 5. Then"))]
    assert words == ["Mr.", "Smith", "met", "Jane", "Q.", "Public", "at", "5", ".", "Then"]


def test_a_quoted_word_and_an_owned_product_are_not_names_and_a_website_is_no_person() -> None:
    from stream.entities.common_words import drop_common_words
    from stream.entities.cues import organisation_by_cue
    from stream.entities.mentions import Mention

    text = ("A wave of “Cleggmania” swept Britain. We use our Blue Moon lander, Blue Moon said. "
            "The website Full Fact and Will Moy spoke in “London”, he said.")

    def at(surface: str, label: str, nth: int = 0) -> Mention:
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        return Mention(surface, label, start, start + len(surface))

    mentions = [at("Cleggmania", "LOC"), at("Britain", "LOC"), at("Blue Moon", "ORG"),
                at("Blue Moon", "ORG", 1), at("Full Fact", "PER"), at("Will Moy", "PER")]
    kept = organisation_by_cue(text, drop_common_words(text, mentions, "en", {}))
    assert [(m.text, m.label) for m in kept] == [
        ("Britain", "LOC"), ("Blue Moon", "ORG"), ("Full Fact", "ORG"), ("Will Moy", "PER")]
    # A known name stays, quoted or not; Indonesian text keeps its quoted names.
    assert drop_common_words(text, [at("London", "LOC")], "en", {"London": "LOC"})
    assert drop_common_words(text, [at("Cleggmania", "LOC")], "id", {})


def test_a_products_model_and_a_stock_index_are_not_organisations() -> None:
    from stream.entities.common_words import drop_common_words
    from stream.entities.mentions import Mention

    text = ("Apple sold the MacBook Pro and AirPods 2 while the Hang Seng Index fell; Channel 4 "
            "and the Lakers 110 said a MacBook Air and the iPhone Pro Max did well.")

    def at(surface: str) -> Mention:
        start = text.index(surface)
        return Mention(surface, "ORG", start, start + len(surface))

    kept = drop_common_words(text, [at(s) for s in (
        "Apple", "MacBook Pro", "AirPods 2", "Hang Seng Index", "Channel 4", "Lakers",
        "iPhone")], "en", {})
    assert [m.text for m in kept] == ["Apple", "Channel 4", "Lakers"]


def test_an_organisation_after_a_possessive_inside_a_span_is_the_mention() -> None:
    from stream.entities.mentions import Mention, split_mention

    def split(text: str, label: str) -> list[str]:
        return [m.text for m in split_mention(Mention(text, label, 10, 10 + len(text)))]

    assert split("Britain's Conservative Party", "ORG") == ["Conservative Party"]
    assert split("Braun’s Ithaca Holdings", "ORG") == ["Ithaca Holdings"]
    assert split("McDonald's Corporation", "ORG") == ["McDonald's Corporation"]
    assert split("Lloyd's of London", "ORG") == ["Lloyd's of London"]
    assert split("Jeff Bezos’s Blue Origin", "PER") == ["Jeff Bezos"]
    # Spans of the Indonesian models are left whole.
    assert [m.text for m in split_mention(Mention("Britain's Conservative Party", "ORG", 0, 28),
                                          english=False)] == ["Britain's Conservative Party"]


def test_a_double_barrelled_name_is_one_person_and_two_places_stay_two() -> None:
    from stream.entities.mentions import Mention, join_hyphenated_names

    text = "Ben Murray-Bruce spoke on US-China trade with Murray-Bruce's aide."

    def at(surface: str, label: str, nth: int = 0) -> Mention:
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        return Mention(surface, label, start, start + len(surface))

    joined = join_hyphenated_names(text, [
        at("Ben Murray", "PER"), at("Bruce", "PER"), at("US", "LOC"), at("China", "LOC"),
        at("Murray", "PER", 1), at("Bruce", "PER", 1)])
    assert [(m.text, m.label) for m in joined] == [
        ("Ben Murray-Bruce", "PER"), ("US", "LOC"), ("China", "LOC"), ("Murray-Bruce", "PER")]
    assert all(text[m.start:m.end] == m.text for m in joined)
