"""Word 4-gram shingles (``\\w+`` tokens, case kept): how the cleaning stages compare blocks of
text (a block against the page's other blocks, a line against the lines seen before)."""

from __future__ import annotations

from stream.clean.lexicon import WORD


def shingle_set(text: str) -> set[tuple[str, ...]]:
    """The distinct word 4-grams of ``text`` (a text shorter than 4 words is one gram)."""
    tokens = WORD.findall(text or "")
    if len(tokens) < 4:
        return {tuple(tokens)} if tokens else set()
    return set(zip(tokens, tokens[1:], tokens[2:], tokens[3:], strict=False))
