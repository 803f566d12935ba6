"""The CRF tagger (python-crfsuite): the fast entity model, trained by ``make train-ner``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        out: list[list[Span]] = []
        for words in sentences:
            if not words:
                out.append([])
                continue
            tags = self._tagger.tag(sentence_features(words, self._gazetteer))
            out.append(bio_to_spans(tags))
        return out
