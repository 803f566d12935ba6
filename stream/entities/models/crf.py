"""The CRF tagger (python-crfsuite): the fast entity model, trained by ``make train-ner``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pycrfsuite

from stream import DATA_DIR
from stream.entities.models.features import Gazetteer, sentence_features
from stream.entities.tagger import Span, bio_to_spans

MODEL_DIR = DATA_DIR
CRF_MODEL = MODEL_DIR / "ner-crf-id.crfsuite"
GAZETTEER_TOKENS = MODEL_DIR / "gazetteer-tokens.tsv.gz"


class CrfTagger:
    """Token-level tagger: sentences of words in, entity token spans out."""

    name = "crf-id"

    def __init__(self, model_path: Path = CRF_MODEL, gazetteer_path: Path = GAZETTEER_TOKENS):
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open(str(model_path))
        self._gazetteer = Gazetteer.load(gazetteer_path)
        self._labels = frozenset(self._tagger.labels())

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        out: list[list[Span]] = []
        for words in sentences:
            if not words:
                out.append([])
                continue
            tags = self._tagger.tag(sentence_features(words, self._gazetteer))
            out.append(bio_to_spans(tags))
        return out

    def log_marginals(self, words: Sequence[str], tags: Sequence[str]) -> np.ndarray:
        """log P(tag at word | sentence) under the CRF, [words, tags] in the order of
        ``tags``; a tag the model does not know gets a probability of ~0."""
        self._tagger.set(sentence_features(words, self._gazetteer))
        marginals = np.full((len(words), len(tags)), _FLOOR)
        for column, tag in enumerate(tags):
            if tag in self._labels:
                for row in range(len(words)):
                    marginals[row, column] = max(self._tagger.marginal(tag, row), _FLOOR)
        logs: np.ndarray = np.log(marginals)
        return logs


_FLOOR = 1e-9
