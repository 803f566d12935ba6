"""Token features for the CRF tagger: spelling, shape, context and gazetteer membership."""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_SHAPE_RUNS = re.compile(r"(.)\1+")


def word_shape(word: str) -> str:
    """'Blinken' -> 'Xx', 'KCNA' -> 'X', '2023' -> 'd', 'mati-matian' -> 'x-x'."""
    chars = []
    for ch in word:
        if ch.isupper():
            chars.append("X")
        elif ch.islower():
            chars.append("x")
        elif ch.isdigit():
            chars.append("d")
        else:
            chars.append(ch)
    return _SHAPE_RUNS.sub(r"\1", "".join(chars))


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Lower-cased tokens that occur in known person, organisation and place names."""

    per: frozenset[str]
    org: frozenset[str]
    loc: frozenset[str]

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        sets: dict[str, set[str]] = {"PER": set(), "ORG": set(), "LOC": set()}
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                label, _, token = line.rstrip("\n").partition("\t")
                if label in sets and token:
                    sets[label].add(token)
        return cls(frozenset(sets["PER"]), frozenset(sets["ORG"]), frozenset(sets["LOC"]))

    @classmethod
    def empty(cls) -> Gazetteer:
        return cls(frozenset(), frozenset(), frozenset())


def _token_features(word: str, gazetteer: Gazetteer) -> list[str]:
    lower = word.lower()
    features = [
        "w=" + lower,
        "s=" + word_shape(word),
        "p3=" + lower[:3],
        "x2=" + lower[-2:],
        "x3=" + lower[-3:],
    ]
    if word[:1].isupper():
        features.append("title")
    if word.isupper() and len(word) > 1:
        features.append("upper")
    if lower in gazetteer.per:
        features.append("gPER")
    if lower in gazetteer.org:
        features.append("gORG")
    if lower in gazetteer.loc:
        features.append("gLOC")
    return features


def sentence_features(words: Sequence[str], gazetteer: Gazetteer) -> list[list[str]]:
    """Feature strings for each token, CRFsuite's item format."""
    own = [_token_features(word, gazetteer) for word in words]
    lowers = [word.lower() for word in words]
    shapes = [word_shape(word) for word in words]
    out: list[list[str]] = []
    n = len(words)
    for i in range(n):
        features = ["b", *own[i]]
        if i == 0:
            features.append("BOS")
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < n:
                features.append(f"{d}w={lowers[j]}")
                features.append(f"{d}s={shapes[j]}")
                if d in (-1, 1):
                    features.extend(f"{d}{f}" for f in own[j][3:] if not f.startswith("x"))
        if i + 1 == n:
            features.append("EOS")
        if i > 0:
            features.append(f"-1w|s={lowers[i - 1]}|{shapes[i]}")
        out.append(features)
    return out
