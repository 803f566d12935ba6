"""Record batches that cannot be decoded become one marked record per offset, instead of an
exception that stops the partition for good.

aiokafka decompresses a fetched batch while the consumer iterates it. When that fails — a codec
whose library is missing, a corrupt compressed block, a CRC mismatch — the exception reaches the
caller on every fetch of that partition: faust's consumer dies, comes back at the same offset
after a restart, and dies again. Here each offset of such a batch is delivered as a record with
no value and an :data:`UNDECODABLE` header carrying the cause, so the agent dead-letters it with
its partition and offset and the partition moves on.

Everything a Kafka producer may use (none, gzip, snappy, lz4, zstd) is decoded: ``cramjam`` is
a dependency. This guard is for what remains: corrupt batches and codecs Kafka may add.

A batch is decompressed with a cap on its decompressed size (:mod:`stream.runtime.bounded_codecs`,
in place of aiokafka's decoders): past it, each offset of the batch is delivered marked
``oversize`` in the same way, and dead-lettered with its partition and offset.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException
from aiokafka.record import default_records, legacy_records
from aiokafka.record._crecords import default_records as c_default_records
from aiokafka.record._crecords import legacy_records as c_legacy_records
from aiokafka.structs import ConsumerRecord

from stream.ingest.deadletters import ReasonCode
from stream.runtime.bounded_codecs import OversizeBatch, decoders
from stream.runtime.versions import require_verified

log = logging.getLogger(__name__)

UNDECODABLE = "newsstream-undecodable"
UNDECODABLE_CODE = "newsstream-undecodable-code"
# The decompressed size of one record batch a consumer of this process accepts.
DEFAULT_MAX_BATCH_BYTES = 64_000_000
_READ_COMMITTED = 1


def _header(headers: Any, wanted: str) -> str | None:
    for name, value in headers or ():
        if name == wanted:
            return bytes(value).decode("utf-8", errors="replace")
    return None


def undecodable_reason(headers: Any) -> str | None:
    """The cause carried by a marked record's headers, or None for an ordinary record."""
    return _header(headers, UNDECODABLE)


def undecodable_code(headers: Any) -> ReasonCode:
    """The dead-letter reason code of a marked record: ``oversize`` or ``undecodable``."""
    return "oversize" if _header(headers, UNDECODABLE_CODE) == "oversize" else "undecodable"


def _marker(tp: Any, offset: int, timestamp: int, code: str, reason: str
            ) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(tp.topic, tp.partition, offset, timestamp, 0, None, None, None, -1, -1,
                          ((UNDECODABLE, reason.encode("utf-8")),
                           (UNDECODABLE_CODE, code.encode("ascii"))))


def _guarded_unpack(self: Any) -> Iterator[ConsumerRecord[Any, Any]]:
    """aiokafka's ``PartitionRecords._unpack_records`` (read-uncommitted), a batch decoded whole
    before its records are handed out, and a failure turned into marked records."""
    tp = self._tp
    records = self._records
    while records.has_next():
        batch = records.next_batch()
        first = max(batch.base_offset, self.next_fetch_offset)
        try:
            if self._check_crcs and not batch.validate_crc():
                raise CorruptRecordException(f"invalid CRC in the batch at offset {first}")
            if batch.is_control_batch:
                self.next_fetch_offset = batch.next_offset
                continue
            decoded = list(batch)
        except Exception as exc:
            code = "oversize" if isinstance(exc, OversizeBatch) else "undecodable"
            reason = f"record batch cannot be decoded ({type(exc).__name__}): {exc}"
            log.error("%s %s, offsets %d-%d: %s", tp.topic, tp.partition, first,
                      batch.next_offset - 1, reason)
            timestamp = getattr(batch, "first_timestamp", None) or -1
            for offset in range(first, batch.next_offset):
                self.next_fetch_offset = offset + 1
                yield _marker(tp, offset, timestamp, code, reason)
            self.next_fetch_offset = batch.next_offset
            continue
        for record in decoded:
            if record.offset < self.next_fetch_offset:
                continue  # the head of a compressed batch fetched from its middle
            consumer_record = self._consumer_record(tp, record)
            self.next_fetch_offset = record.offset + 1
            yield consumer_record
        self.next_fetch_offset = batch.next_offset


_original_unpack = fetcher.PartitionRecords._unpack_records
# The aiokafka releases whose ``PartitionRecords`` this patch was read against and tested on.
VERIFIED_AIOKAFKA = ("0.14.0",)


def check_aiokafka_version(installed: str | None = None) -> None:
    require_verified("aiokafka", VERIFIED_AIOKAFKA, "stream/runtime/transport.py", installed)


def _unpack(self: Any) -> Iterator[ConsumerRecord[Any, Any]]:
    if self._isolation_level == _READ_COMMITTED:  # transactions: aiokafka's own bookkeeping
        return _original_unpack(self)  # type: ignore[no-any-return]
    return _guarded_unpack(self)


def install(max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES) -> None:
    """Every aiokafka consumer of this process delivers undecodable batches, and batches that
    decompress to more than ``max_batch_bytes``, as marked records."""
    check_aiokafka_version()
    fetcher.PartitionRecords._unpack_records = _unpack
    bounded = decoders(max_batch_bytes)
    # aiokafka's compiled record classes look their decoders up in their module's globals at
    # each call, as the pure-Python ones do (AIOKAFKA_NO_EXTENSIONS).
    for module in (default_records, legacy_records, c_default_records, c_legacy_records):
        for name, decoder in bounded.items():
            if hasattr(module, name):
                setattr(module, name, decoder)
