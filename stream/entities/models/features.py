"""Token features for the CRF tagger: spelling, shape, context and gazetteer membership."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stream.cache import cached_pickle

_SHAPE_RUNS = re.compile(r"(.)\1+")


@lru_cache(maxsize=100_000)
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


MAX_PHRASE = 5


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Known person, organisation and place names: their lower-cased tokens, and the
    multi-word names themselves (matched as phrases)."""

    per: frozenset[str]
    org: frozenset[str]
    loc: frozenset[str]
    phrases: dict[str, str] | None = None  # "kota banjarmasin" -> "LOC"

    def phrase_tags(self, lowers: Sequence[str]) -> list[str | None]:
        """B-/I-LABEL for tokens inside the longest multi-word gazetteer name match."""
        tags: list[str | None] = [None] * len(lowers)
        if not self.phrases:
            return tags
        i = 0
        while i < len(lowers):
            for size in range(min(MAX_PHRASE, len(lowers) - i), 1, -1):
                label = self.phrases.get(" ".join(lowers[i:i + size]))
                if label:
                    tags[i] = "B-" + label
                    for j in range(i + 1, i + size):
                        tags[j] = "I-" + label
                    i += size
                    break
            else:
                i += 1
        return tags

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        """The gazetteer of ``path``, from the user cache once parsed: parsing its 190k lines
        is a third of the fast tier's start-up."""
        def parsed() -> tuple[frozenset[str], frozenset[str], frozenset[str],
                              dict[str, str] | None]:
            # Plain data in the cache, not the class: a changed class never meets a stale copy.
            gazetteer = cls.parse(path)
            return gazetteer.per, gazetteer.org, gazetteer.loc, gazetteer.phrases

        digest = hashlib.blake2b(path.read_bytes(), digest_size=12).hexdigest()
        return cls(*cached_pickle(f"gazetteer-{digest}.pickle", parsed, family="gazetteer-"))

    @classmethod
    def parse(cls, path: Path) -> Gazetteer:
        sets: dict[str, set[str]] = {"PER": set(), "ORG": set(), "LOC": set()}
        phrases: dict[str, str] = {}
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle.read().splitlines():
                label, _, entry = line.partition("\t")
                if label.startswith("P:"):
                    phrases.setdefault(entry, label[2:])
                elif label in sets and entry:
                    sets[label].add(entry)
        return cls(frozenset(sets["PER"]), frozenset(sets["ORG"]), frozenset(sets["LOC"]),
                   phrases)


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
    # Lower-cased input (NERP-style text, SMS, some crawlers) carries no capitals: the model
    # learns separate weights for it instead of reading every lower-case word as "not a name".
    caseless = not any(ch.isupper() for word in words for ch in word)
    lowers = [word.lower() for word in words]
    shapes = [word_shape(word) for word in words]
    in_phrase = gazetteer.phrase_tags(lowers)
    out: list[list[str]] = []
    n = len(words)
    for i in range(n):
        features = ["b", *own[i]]
        if caseless:
            features.extend(["caseless", "caseless|w=" + lowers[i]])
        if in_phrase[i]:
            features.append("gz=" + str(in_phrase[i]))
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
