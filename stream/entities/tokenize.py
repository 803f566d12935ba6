"""Word tokens with character offsets, so that every entity maps back to exact text."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words keep inner hyphens, apostrophes and dots ("mati-matian", "Jum'at", "U.S."); every other
# non-space character is a token of its own, as in the Indonesian NER corpora.
TOKEN = re.compile(r"\w+(?:\.\w+)+\.?|\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)
# A sentence ends at . ! ? (and closing quotes/brackets after them) followed by a space and
# an upper-case letter, a quote or a digit.
SENTENCE_END = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int


def tokenize(text: str, offset: int = 0) -> list[Token]:
    return [Token(m.group(), m.start() + offset, m.end() + offset) for m in TOKEN.finditer(text)]


POSSESSIVE = ("'s", "’s")


def split_possessives(tokens: list[Token]) -> list[Token]:
    """English: "Jupiter’s" as "Jupiter" and "’s", as the English model was trained (one
    token, it read "Jupiter’s moon Europa" as a person). Mentions then end before the "’s"."""
    out: list[Token] = []
    for token in tokens:
        text = token.text
        if len(text) > 2 and text.endswith(POSSESSIVE) and text[-3].isalnum():
            cut = token.end - 2
            out += [Token(text[:-2], token.start, cut), Token(text[-2:], cut, token.end)]
        else:
            out.append(token)
    return out


def segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence within each line: entities never cross these bounds."""
    spans: list[tuple[int, int]] = []
    position = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            start = 0
            for match in SENTENCE_END.finditer(stripped):
                spans.append((position + start, position + match.start() + len(match.group(1))))
                start = match.end()
            spans.append((position + start, position + len(stripped)))
        position += len(line)
    return spans
