"""The accurate English tier: the multilingual encoder of the accurate tier (e5-small,
fine-tuned on Indonesian news) reads English too, and reads people and places in it far
better than spaCy's small English model; spaCy votes where that was measured to help.

The vote, each step measured on the first 256 sentences of the English regression set
(`make eval-ner`, F1 by sentence, by article; the 80 added after tuning score 74.4 / 76.1):
the encoder alone 83.6 / 83.3; spaCy's names that overlap none of the encoder's added
85.4 / 84.9; the encoder's names that spaCy reads, exactly, as a
nationality or group ("Democrats", "Israeli") or an event dropped 86.5 / 86.5; the
encoder reading only the words around capitals, as spaCy does, 87.2 / 87.9 (wider windows
gave less: 8 words 87.0, 12 words 86.4); spaCy adding organisations and places but not
people 87.4 / 88.3 (people: encoder 97.4 F1). Asking spaCy to confirm the encoder's
organisations, places or people each lost 0.3 to 1.8.
"""

from __future__ import annotations

from collections.abc import Sequence

from stream.entities.models.english import LABELS, NOT_NAMES, SpacyEnglishTagger, in_name_windows
from stream.entities.tagger import Span, TokenTagger


def vote(encoder: Sequence[Span], spacy: Sequence[Span]) -> list[Span]:
    """One sentence's names from the encoder's spans (our labels) and spaCy's (OntoNotes
    labels): the encoder's, less those spaCy reads exactly as a nationality or an event, and
    spaCy's organisations and places where the encoder found nothing (not its people: the
    encoder reads people far better, and spaCy's extra ones were mostly organisations,
    "Full Fact")."""
    vetoed = {(start, end) for start, end, label in spacy if label in NOT_NAMES}
    names = [span for span in encoder if span[:2] not in vetoed]
    for start, end, label in spacy:
        ours = LABELS.get(label)
        if ours not in ("ORG", "LOC") or any(
                start < other_end and other_start < end for other_start, other_end, _ in encoder):
            continue
        names.append((start, end, ours))
    return sorted(names)


class EnglishAccurateTagger:
    english_tokens = True  # spaCy's tokens; the encoder reads any

    def __init__(self, encoder: TokenTagger, spacy: SpacyEnglishTagger) -> None:
        self._encoder = encoder
        self._spacy = spacy
        self.name = f"{encoder.name}+{spacy.name}"

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        encoded = in_name_windows(sentences, self._encoder.predict)
        return [vote(mine, theirs) for mine, theirs in
                zip(encoded, self._spacy.predict_ontonotes(sentences), strict=True)]
