"""Dead letters: a record that cannot be processed goes to the dead-letter topic with where it
came from, why (a reason code from :data:`REASON_CODES`, the stage, a sentence) and a bounded
copy of its payload. ``schemas/dead-letter.schema.json`` is the contract."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

from stream import PIPELINE_VERSION, SCHEMA_VERSION
from stream.clock import to_iso, utc_now

ReasonCode = Literal[
    "invalid_json", "not_an_object", "schema", "oversize", "empty_body", "not_text", "no_text",
    "too_slow", "too_large", "worker_crash", "undecodable", "empty_line", "internal_error",
]
REASON_CODES: tuple[str, ...] = get_args(ReasonCode)


class Rejected(Exception):
    """A record that cannot be enriched. Carries what the dead-letter record needs."""

    def __init__(self, code: ReasonCode, stage: str, reason: str,
                 article_id: str | None = None) -> None:
        super().__init__(reason)
        self.code: ReasonCode = code
        self.stage = stage
        self.reason = reason
        self.article_id = article_id


def too_slow(reason: str, stage: str | None = None, article_id: str | None = None) -> Rejected:
    """A record whose enrichment ran past its time budget, in ``stage`` (None: unknown,
    somewhere in the enrichment child, stage "enrich")."""
    where = f" in stage {stage}" if stage else ""
    return Rejected("too_slow", stage or "enrich", f"enrichment {reason}{where}", article_id)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from; all None for offline input."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: float | None = None  # Kafka record timestamp, epoch seconds
    key: bytes | None = None


# Dead letters keep the whole payload up to this many bytes by default; past it, its head, length
# and SHA-256. Escaped as JSON, a head of control bytes grows six-fold: 64 KiB stays < 400 KB.
DEADLETTER_PAYLOAD_BYTES = 65_536
_REASON_CHARS = 2_000
_KEY_CHARS = 1_024



def deadletter_record(value: bytes | None, origin: Origin, rejected: Rejected,
                      max_payload_bytes: int = DEADLETTER_PAYLOAD_BYTES) -> dict[str, Any]:
    """The dead letter of a record: the payload whole up to ``max_payload_bytes``, else its
    head; its length and SHA-256 always, so that nothing the dead-letter path sends can exceed
    the producer's limit and the original can still be identified."""
    payload = value or b""
    head = payload[:max_payload_bytes]
    try:
        payload.decode("utf-8")
        # A multi-byte character cut by the head loses its first bytes, nothing else.
        text, encoding = head.decode("utf-8", errors="ignore"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(head).decode("ascii"), "base64"
    key = None
    if origin.key is not None:
        key = origin.key[:_KEY_CHARS].decode("utf-8", errors="replace")
    return {
        "schema_version": SCHEMA_VERSION,
        "reason": rejected.reason[:_REASON_CHARS],
        "reason_code": rejected.code,
        "stage": rejected.stage,
        "article_id": None if rejected.article_id is None else rejected.article_id[:_KEY_CHARS],
        "payload": text,
        "payload_encoding": encoding,
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_truncated": len(head) < len(payload),
        "key": key,
        "topic": origin.topic,
        "partition": origin.partition,
        "offset": origin.offset,
        "failed_at": to_iso(utc_now()),
        "pipeline_version": PIPELINE_VERSION,
    }
