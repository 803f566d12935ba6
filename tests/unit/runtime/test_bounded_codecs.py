"""Bounded decompression (stream/runtime/bounded_codecs.py) against aiokafka's own encoders, and
through aiokafka's compiled record batches once installed."""

import os
from collections.abc import Callable

import pytest
from aiokafka import codec
from aiokafka.record import memory_records
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from stream.runtime import transport
from stream.runtime.bounded_codecs import OversizeBatch, decoders

LIMIT = 2_000_000
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip_decode": codec.gzip_encode,
    "snappy_decode": lambda data: codec.snappy_encode(data, xerial_compatible=True),
    "lz4_decode": codec.lz4_encode,
    "zstd_decode": codec.zstd_encode,
}


@pytest.mark.parametrize("name", ENCODERS)
def test_within_the_cap_each_codec_decodes_as_aiokafka_does(name: str) -> None:
    data = os.urandom(5000) + b"kata " * 100_000  # past the first zstd/LZ4 guess: grows
    compressed = ENCODERS[name](data)
    assert decoders(LIMIT)[name](compressed) == data == getattr(codec, name)(compressed)
    exact = b"a" * LIMIT
    assert decoders(LIMIT)[name](ENCODERS[name](exact)) == exact


@pytest.mark.parametrize("name", ENCODERS)
def test_past_the_cap_each_codec_stops_with_oversize(name: str) -> None:
    bomb = ENCODERS[name](b"\0" * (LIMIT + 1))
    assert len(bomb) < LIMIT // 20  # snappy compresses least: ~21×
    with pytest.raises(OversizeBatch, match="2,000,000-byte limit"):
        decoders(LIMIT)[name](bomb)


def test_raw_snappy_and_several_gzip_members_decode() -> None:
    data = b"berita " * 1000
    assert decoders(LIMIT)["snappy_decode"](codec.snappy_encode(data)) == data
    two = codec.gzip_encode(data) + codec.gzip_encode(data)
    assert decoders(LIMIT)["gzip_decode"](two) == data + data
    with pytest.raises(OversizeBatch):
        decoders(len(data) + 10)["gzip_decode"](two)


def test_a_corrupt_batch_is_not_called_oversize() -> None:
    corrupt = bytearray(codec.zstd_encode(b"berita " * 1000))
    corrupt[len(corrupt) // 2:] = b"\xff" * (len(corrupt) - len(corrupt) // 2)
    with pytest.raises(Exception) as raised:
        decoders(LIMIT)["zstd_decode"](bytes(corrupt))
    assert not isinstance(raised.value, OversizeBatch)


@pytest.mark.parametrize("compression", [1, 2, 3, 4])  # gzip, snappy, lz4, zstd
def test_installed_in_aiokafkas_compiled_record_batches(compression: int) -> None:
    def batch(records: int) -> object:
        builder = DefaultRecordBatchBuilder(
            magic=2, compression_type=compression, is_transactional=0, producer_id=-1,
            producer_epoch=-1, base_sequence=-1, batch_size=100_000_000)
        for offset in range(records):
            builder.append(offset, timestamp=None, key=None, value=b"a" * 700_000, headers=[])
        return memory_records.MemoryRecords(bytes(builder.build())).next_batch()

    transport.install(LIMIT)
    try:
        assert [len(record.value) for record in batch(2)] == [700_000, 700_000]  # type: ignore[attr-defined]
        with pytest.raises(OversizeBatch):
            list(batch(3))  # type: ignore[call-overload]
    finally:
        transport.install()
