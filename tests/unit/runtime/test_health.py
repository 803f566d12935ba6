"""Readiness and liveness bookkeeping, send failures, and the transport
guard for undecodable record batches (real aiokafka batches, built and corrupted here)."""

from __future__ import annotations

from aiokafka.consumer.fetcher import PartitionRecords
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, NotLeaderForPartitionError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from stream.runtime import transport
from stream.runtime.delivery import classify
from stream.runtime.health import BrokerState, Progress, liveness, readiness

A, B = TopicPartition("raw", 0), TopicPartition("raw", 1)


def test_a_partition_with_lag_and_no_progress_is_stalled() -> None:
    progress = Progress()
    progress.assigned([A, B], now=0.0, committed={A: 5}.get)
    highwater = {A: 9, B: 0}.get
    assert progress.stalled(highwater, now=30.0, after_s=60) == []
    assert progress.stalled(highwater, now=61.0, after_s=60) == [A]  # B has nothing to do
    progress.finished(A, 8, now=62.0)
    assert progress.stalled(highwater, now=100.0, after_s=60) == []  # caught up
    assert progress.lag(A, 12) == 3


def test_a_new_assignment_restarts_the_timers_and_forgets_revoked_partitions() -> None:
    progress = Progress()
    progress.assigned([A, B], now=0.0, committed=lambda tp: None)
    progress.assigned([B], now=50.0, committed=lambda tp: None)
    assert set(progress.since) == {B}
    assert progress.stalled({B: 3}.get, now=100.0, after_s=60) == []
    assert progress.stalled({B: 3}.get, now=111.0, after_s=60) == [B]


def test_the_broker_counts_as_unreachable_after_its_timeout() -> None:
    broker = BrokerState(timeout_s=6, started=0.0)
    assert broker.reachable(5.0) and not broker.reachable(6.5)
    broker.answered(10.0)
    assert broker.reachable(15.9)
    broker.failed("no answer within 6 s")
    assert not broker.reachable(16.1)
    assert broker.silence(20.0) == "no answer for 10 s (no answer within 6 s)"


def _ready(**changes: object) -> tuple[bool, str]:
    values: dict[str, object] = dict(processing=True, rebalancing=False, recovering=False,
                                     inputs_assigned=True, broker_reachable=True,
                                     broker_error="", child_ready=True, stalled=[])
    values.update(changes)
    verdict = readiness(**values)  # type: ignore[arg-type]
    return verdict.ok, verdict.status


def test_readiness_names_what_is_wrong() -> None:
    assert _ready() == (True, "ready")
    assert _ready(broker_reachable=False, broker_error="no answer for 7 s") == (
        False, "broker unreachable: no answer for 7 s")
    assert _ready(child_ready=False) == (False, "enrichment child down (being replaced)")
    assert _ready(stalled=[A]) == (False, "no progress on partitions with lag: raw/0")
    assert _ready(rebalancing=True)[1] == "rebalancing"


def test_liveness_fails_only_when_wedged() -> None:
    assert liveness([], 300).ok
    wedged = liveness([A], 300)
    assert not wedged.ok and wedged.stalled == ("raw/0",)


def test_send_failures_are_retried_unless_no_retry_can_help() -> None:
    assert classify(KafkaTimeoutError()) == (True, "internal_error")
    assert classify(NotLeaderForPartitionError()) == (True, "internal_error")
    wrapped = RuntimeError("send failed")
    wrapped.__cause__ = MessageSizeTooLargeError()
    assert classify(wrapped) == (False, "too_large")
    assert classify(ValueError("bad")) == (False, "internal_error")


def _batch(codec: int) -> bytearray:
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=0,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                        batch_size=1 << 20)
    for offset in range(3):
        builder.append(offset, timestamp=1000 + offset, key=None,
                       value=b"article %d " % offset * 20, headers=[])
    return bytearray(builder.build())


def _read(buffer: bytearray, check_crcs: bool) -> list[tuple[int, bytes | None, str | None]]:
    transport.install()
    records = PartitionRecords(A, MemoryRecords(bytes(buffer)), [], 0, None, None, check_crcs, 0)
    return [(r.offset, r.value, transport.undecodable_reason(r.headers)) for r in records]


def test_a_good_compressed_batch_reads_as_before() -> None:
    for codec in (1, 2, 3, 4):  # gzip, snappy, lz4, zstd
        read = _read(_batch(codec), check_crcs=True)
        assert [(o, v is not None, r) for o, v, r in read] == [(0, True, None), (1, True, None),
                                                              (2, True, None)]


def test_a_corrupt_batch_becomes_one_marked_record_per_offset() -> None:
    corrupt = _batch(2)
    corrupt[-5] ^= 0xFF
    for check_crcs in (True, False):  # the CRC check, or the decompressor, finds it
        read = _read(corrupt, check_crcs)
        assert [(o, v) for o, v, _ in read] == [(0, None), (1, None), (2, None)]
        assert all(reason and "cannot be decoded" in reason for _, _, reason in read)
