"""Word tokens with character offsets, so that every entity maps back to exact text."""

from __future__ import annotations

import re
from typing import NamedTuple

# Words keep inner hyphens, apostrophes and dots ("mati-matian", "Jum'at", "U.S."); every other
# non-space character is a token of its own, as in the Indonesian NER corpora.
TOKEN = re.compile(r"\w+(?:\.\w+)+\.?|\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)
# A sentence ends at . ! ? (and closing quotes/brackets after them) followed by a space and
# an upper-case letter, a quote or a digit.
SENTENCE_END = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")
# ...but not after a title, an initial or a dotted short form: "Gov. Kristi Noem", "Elizabeth
# A. Burton", "the U.S. House", "Nov. 18". Two sentences read as one cost little; a name cut
# in two is lost ("Noem" alone read as an organisation).
_TITLES = (
    "mr", "mrs", "ms", "dr", "prof", "gov", "lt", "col", "gen", "sen", "rep", "st", "jr", "sr",
    "capt", "sgt", "rev", "hon", "no", "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "drs", "ir", "jl", "kab", "kec", "tbk")
_ABBREVIATED = re.compile(
    r"(?:^|[\s(\"“])(?:[^\W\d_]|\w+(?:\.\w+)+|(?i:" + "|".join(_TITLES) + r"))\.$")
# The abbreviation before a sentence end is looked for only in this many characters before it:
# searched from the start of the line, one paragraph of 128 KB took minutes. A dotted short
# form longer than this is not one.
_ABBREVIATION_REACH = 64


class Token(NamedTuple):
    """A word and its character offsets. A tuple: every word of every article is one, and a
    frozen dataclass took a third longer to build."""

    text: str
    start: int
    end: int


def tokenize(text: str, offset: int = 0) -> list[Token]:
    return [Token(m.group(), m.start() + offset, m.end() + offset) for m in TOKEN.finditer(text)]


POSSESSIVE = ("'s", "’s")
# "US-China", "Facebook-owned", "Dakota-sized": spaCy's English tokenizer splits a hyphen
# between letters, so its model has seen "Facebook" "-" "owned".
_INFIX_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")


def english_tokens(tokens: list[Token]) -> list[Token]:
    """Tokens as the English model was trained on them: "Jupiter’s" as "Jupiter" "’s" (one
    token, it read "Jupiter’s moon Europa" as a person), "Facebook-owned" as "Facebook" "-"
    "owned" (one token, the name could not be found inside it), and "Q." and "Mr." whole (as
    "Q" "." the model took the full stop for a sentence's end: "Jane Q. Public" read as "Jane
    Q" and "Public", "Mr. Smith" lost "Smith"). Mentions then end before the "’s" and the
    hyphen."""
    out: list[Token] = []
    for token in _with_abbreviation_stops(tokens):
        for part in _split_hyphens(token):
            text = part.text
            if len(text) > 2 and text.endswith(POSSESSIVE) and text[-3].isalnum():
                cut = part.end - 2
                out += [Token(text[:-2], part.start, cut), Token(text[-2:], cut, part.end)]
            else:
                out.append(part)
    return out


def _with_abbreviation_stops(tokens: list[Token]) -> list[Token]:
    """An initial or a title with the full stop written right after it as one token."""
    out: list[Token] = []
    for token in tokens:
        previous = out[-1] if out else None
        if (token.text == "." and previous is not None and previous.end == token.start
                and previous.text[:1].isupper() and (
                    len(previous.text) == 1 or previous.text.lower() in _TITLES)):
            out[-1] = Token(previous.text + ".", previous.start, token.end)
        else:
            out.append(token)
    return out


def _split_hyphens(token: Token) -> list[Token]:
    if "-" not in token.text:
        return [token]
    parts, start = [], 0
    for match in _INFIX_HYPHEN.finditer(token.text):
        parts += [Token(token.text[start:match.start()], token.start + start,
                        token.start + match.start()),
                  Token("-", token.start + match.start(), token.start + match.end())]
        start = match.end()
    parts.append(Token(token.text[start:], token.start + start, token.end))
    return parts


def segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence within each line: entities never cross these bounds."""
    spans: list[tuple[int, int]] = []
    position = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if stripped.strip():
            start = 0
            for match in SENTENCE_END.finditer(stripped):
                if not match.group(1) and _ABBREVIATED.search(
                        stripped, max(0, match.start() - _ABBREVIATION_REACH), match.start()):
                    continue
                spans.append((position + start, position + match.start() + len(match.group(1))))
                start = match.end()
            spans.append((position + start, position + len(stripped)))
        position += len(line)
    return spans
