"""The accurate English tier's vote between the multilingual encoder and spaCy: a pure
function of the two models' spans of one sentence."""

from stream.entities.models.english_accurate import vote


def test_the_encoders_names_stand_and_spacy_adds_organisations_and_places_it_missed() -> None:
    encoder = [(0, 2, "PER"), (5, 6, "LOC")]
    spacy = [(0, 2, "ORG"), (3, 4, "ORG"), (5, 7, "GPE"), (8, 9, "FAC"), (10, 11, "PERSON"),
             (12, 13, "DATE")]
    # spaCy's label never replaces the encoder's, an overlapping span never joins it, and
    # spaCy's people and non-names are not added.
    assert vote(encoder, spacy) == [(0, 2, "PER"), (3, 4, "ORG"), (5, 6, "LOC"), (8, 9, "LOC")]


def test_a_name_spacy_reads_exactly_as_a_nationality_or_an_event_is_dropped() -> None:
    encoder = [(0, 1, "LOC"), (3, 5, "ORG"), (7, 8, "ORG")]
    spacy = [(0, 1, "NORP"), (3, 5, "EVENT"), (7, 9, "NORP")]
    # "Israeli" and "the World Cup" go; a span that is not the same one stays.
    assert vote(encoder, spacy) == [(7, 8, "ORG")]


def test_no_names_from_either_is_no_names() -> None:
    assert vote([], []) == []
