"""Fingerprints of an article for de-duplication: digests of its normal URL and its text, and a
64-bit SimHash of its word bigrams. Computed with enrichment, in parallel per partition."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from stream.clean.lexicon import WORD
from stream.ingest.urls import same_page_url
from stream.records import FingerprintJson

MIN_SHINGLES = 8  # shorter texts get no SimHash: too few shingles to tell copies apart


@dataclass(frozen=True, slots=True)
class Fingerprint:
    article_id: str
    url: str
    body: str | None
    simhash: int | None
    event_time: float

    def to_json(self) -> FingerprintJson:
        return {"id": self.article_id, "url": self.url, "body": self.body,
                "simhash": None if self.simhash is None else f"{self.simhash:016x}",
                "event_time": self.event_time}

    @classmethod
    def from_json(cls, value: FingerprintJson) -> Fingerprint:
        simhash = value.get("simhash")
        return cls(value["id"], value["url"], value.get("body"),
                   None if simhash is None else int(simhash, 16), float(value["event_time"]))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


def simhash(text: str) -> int | None:
    """64-bit SimHash of the word bigrams of ``text`` (lower-cased), None when too short.

    Bigrams, measured on the dev gold texts with two words replaced, a sentence dropped or a
    header and footer added: 77 % of such copies within 4 bits (3-grams: 72 %), while no two
    different articles came closer than 19 bits."""
    words = WORD.findall(text.lower())
    grams = {" ".join(words[i:i + 2]) for i in range(len(words) - 1)}
    if len(grams) < MIN_SHINGLES:
        return None
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
         for g in grams), dtype=np.uint64, count=len(grams))
    bits = (hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
    ones = bits.sum(axis=0)
    value = 0
    for bit in np.flatnonzero(ones * 2 > len(grams)):
        value |= 1 << int(bit)
    return value


def fingerprint(enriched: Mapping[str, Any], event_time: float) -> Fingerprint:
    text = " ".join(enriched.get("text", "").lower().split())
    return Fingerprint(
        article_id=enriched["id"],
        url=_digest(same_page_url(enriched["url"])),
        body=_digest(text) if text else None,
        simhash=simhash(text),
        event_time=event_time,
    )
