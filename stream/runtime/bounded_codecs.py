"""Decompression of Kafka record batches with a cap on the decompressed size, checked while
unpacking: a 10 MB compressed batch that would expand to gigabytes stops at the cap with
:class:`OversizeBatch` instead of taking the worker's memory (and, after the OOM kill, the
restarted worker's, on the same batch, forever).

Each decoder returns what aiokafka's own (``aiokafka.codec``) returns for input within the
cap. gzip and snappy know the size before or while writing it (zlib's ``max_length``, the
snappy block header); zstd and LZ4 frames need not state it, so they are decompressed into a
buffer that starts from a guess and doubles up to the cap (a failed try costs at most the work
of the next, so at most twice the work of one decode).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import cramjam

Decoder = Callable[[bytes], bytes]

# The smallest first guess for zstd and LZ4, and how many times the compressed size it starts
# from: news JSON compresses 4-8× (measured on the extraction sets' raw records).
FIRST_GUESS_BYTES = 1 << 20
GUESS_RATIO = 8
_XERIAL_HEADER = b"\x82SNAPPY\x00"


class OversizeBatch(ValueError):
    """A batch that decompresses to more than the cap."""

    def __init__(self, codec: str, limit: int) -> None:
        super().__init__(f"{codec} batch decompresses to more than the {limit:,}-byte limit "
                         "(NEWSSTREAM_MAX_BATCH_BYTES)")
        self.limit = limit


def gzip_decoder(limit: int) -> Decoder:
    def decode(payload: bytes) -> bytes:
        out = bytearray()
        data = bytes(payload)
        while data:
            # 16 + MAX_WBITS: a gzip header and trailer; a payload may hold several members
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += inflate.decompress(data, limit + 1 - len(out))
            if len(out) > limit or inflate.unconsumed_tail:
                raise OversizeBatch("gzip", limit)
            if not inflate.eof:
                raise zlib.error("gzip member truncated")
            data = inflate.unused_data
        return bytes(out)

    return decode


def snappy_decoder(limit: int) -> Decoder:
    def decode(payload: bytes) -> bytes:
        data = memoryview(bytes(payload))
        if len(data) > 16 and bytes(data[:8]) == _XERIAL_HEADER:
            blocks = []
            cursor = 16
            while cursor < len(data):
                (size,) = struct.unpack_from("!i", data, cursor)
                blocks.append(data[cursor + 4:cursor + 4 + size])
                cursor += 4 + size
        else:
            blocks = [data]
        # Each raw block states its decompressed length in its header: checked before writing.
        if sum(cramjam.snappy.decompress_raw_len(block) for block in blocks) > limit:
            raise OversizeBatch("snappy", limit)
        return b"".join(bytes(cramjam.snappy.decompress_raw(block)) for block in blocks)

    return decode


def _into_growing_buffer(codec: str, decompress_into: Callable[[bytes, bytearray], int],
                         limit: int) -> Decoder:
    def decode(payload: bytes) -> bytes:
        data = bytes(payload)
        size = min(limit, max(FIRST_GUESS_BYTES, GUESS_RATIO * len(data)))
        while True:
            # One byte more than the guess: a fit that fills it exactly cannot be told apart
            # from one that would have gone on.
            buffer = bytearray(size + 1)
            try:
                written = decompress_into(data, buffer)
            except cramjam.DecompressionError as error:
                if "whole buffer" not in str(error):
                    raise  # corrupt, not too large
                written = size + 1
            if written <= size:
                return bytes(memoryview(buffer)[:written])
            if size >= limit:
                raise OversizeBatch(codec, limit)
            size = min(limit, 2 * size)

    return decode


def zstd_decoder(limit: int) -> Decoder:
    return _into_growing_buffer("zstd", cramjam.zstd.decompress_into, limit)


def lz4_decoder(limit: int) -> Decoder:
    return _into_growing_buffer("lz4", cramjam.lz4.decompress_into, limit)


def decoders(limit: int) -> dict[str, Decoder]:
    """aiokafka's decoder names → bounded decoders."""
    return {"gzip_decode": gzip_decoder(limit), "snappy_decode": snappy_decoder(limit),
            "lz4_decode": lz4_decoder(limit), "zstd_decode": zstd_decoder(limit)}
