"""Mentions: what the tagger found, mapped to exact character offsets, with names split and
trimmed, and the document-level pass that finds a name everywhere it is written."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from stream.costs import section
from stream.entities.normalise import Alias, canonical_name, short_form
from stream.entities.tagger import TokenTagger
from stream.entities.tokenize import Token, english_tokens, segments, tokenize


@dataclass(frozen=True, slots=True)
class Mention:
    """A raw model output: ``text[start:end]`` with a label."""

    text: str
    label: str
    start: int
    end: int

# A sentence longer than this is tagged in pieces of this many words. No news sentence comes
# near it (the longest of the dev sets has 388); a run of text without sentence ends (a list,
# a table, junk) does, and a model's cost per word grows with a sentence's length: spaCy read
# one "sentence" of 20,000 capitalised words 1.2 times slower per word for each doubling.
MAX_SENTENCE_WORDS = 512


def find_mentions_in(texts: Sequence[str], tagger: TokenTagger) -> list[list[Mention]]:
    """Mentions of each text: each sentence of each line is tagged, so a mention never crosses
    a line or sentence break. All texts go to the tagger in one call: a transformer tags a
    batch of sentences 1.5 times faster per word than one sentence at a time."""
    owners: list[int] = []
    sentences: list[list[Token]] = []
    # A tagger trained on text tokenised the English way says so (the CRF and the e5 tier
    # read words as the Indonesian corpora write them).
    english = getattr(tagger, "english_tokens", False)
    for index, text in enumerate(texts):
        for start, end in segments(text):
            tokens = tokenize(text[start:end], start)
            if english:
                tokens = english_tokens(tokens)
            for first in range(0, len(tokens), MAX_SENTENCE_WORDS):
                owners.append(index)
                sentences.append(tokens[first:first + MAX_SENTENCE_WORDS])
    with section(f"entities.tagger {tagger.name}"):
        predictions = tagger.predict([[token.text for token in tokens] for tokens in sentences])
    mentions: list[list[Mention]] = [[] for _ in texts]
    for owner, tokens, spans in zip(owners, sentences, predictions, strict=True):
        text = texts[owner]
        for first, last, label in spans:
            start, end = tokens[first].start, tokens[last - 1].end
            mentions[owner].extend(split_mention(Mention(text[start:end], label, start, end),
                                                 opens_sentence=first == 0, english=english))
    return mentions


# "Joko Widodo-Jusuf Kalla", "Prabowo Subianto - Hatta Rajasa": a ticket of two full names;
# one-word sides ("Jokowi-JK", "Abdul-Jabbar") stay one name.
_PAIR = re.compile(r"^(?P<a>\S+(?:\s+\S+)+?)\s*[-–]\s*(?P<b>\S+(?:\s+\S+)+)$")
_INNER_POSSESSIVE = re.compile(r"(?<=\w)['’]s\s+(?=\S)")
# English models take the article into names. A lower-case "the" before a capital is never
# part of one (in text written in lower case, "the guardian" is all there is); a capital
# "The" is, within a sentence ("The Jakarta Post", "The Hague"), except where the sentence
# starts with it before a name of two words or more ("The United States said").
_LEADING_ARTICLE = re.compile(r"the\s+(?=[^\W\d_]*[A-Z])")
_SENTENCE_ARTICLE = re.compile(r"The\s+(?=\S+\s+\S)")
_EDGE_PUNCTUATION = "\"'“”‘’,;:-–"


def split_mention(mention: Mention, opens_sentence: bool = False,
                  english: bool = True) -> list[Mention]:
    """A tagged span as the names it holds, offsets kept exact: a PER span joining two full
    names with a dash is two mentions; quotes, dashes, unbalanced brackets and a possessive
    "'s" at its edges are not part of it, nor, in spans of the English model, a leading "the"
    (:data:`_LEADING_ARTICLE`; the Indonesian corpora keep "the Abdabs" whole, and their
    models were trained so); a person's span ends at a possessive inside it.
    "Joko Widodo (Jokowi)" stays one mention, of one person. In English, an organisation or
    place after a possessive inside the span is the mention ("Britain's Conservative
    Party")."""
    match = _PAIR.match(mention.text) if mention.label == "PER" else None
    bounds = [match.span("a"), match.span("b")] if match else [(0, len(mention.text))]
    owner = _INNER_POSSESSIVE.search(mention.text)
    if owner and mention.label == "PER":
        # "Jeff Bezos’s Blue Origin": the person is the owner; what he owns is another name.
        bounds = [(0, owner.start())]
    elif owner and english and _names_its_own(mention.text[owner.end():]):
        # "Britain's Conservative Party", "Braun’s Ithaca Holdings": the organisation or
        # place is what is owned; the owner is a name of its own, found by itself. One word
        # after the possessive is the name's own ("McDonald's Corporation", "Domino's Pizza").
        bounds = [(owner.end(), len(mention.text))]
    parts = [_trimmed(mention, start, end, opens_sentence, english) for start, end in bounds]
    return [part for part in parts if part]


def _names_its_own(rest: str) -> bool:
    words = rest.split()
    return len(words) >= 2 and words[0][:1].isupper()


def _trimmed(mention: Mention, start: int, end: int, opens_sentence: bool,
             english: bool) -> Mention | None:
    """``mention.text[start:end]`` without what is not part of the name, one edge at a time
    until nothing changes. Each step costs the same whatever the span's length (bracket counts
    from prefix sums, no slices): a span of thousands of brackets, one taken per step, was
    quadratic."""
    text = mention.text
    brackets = _Brackets(text) if "(" in text or ")" in text else None
    while start < end:
        before = (start, end)
        while start < end and (text[start].isspace() or text[start] in _EDGE_PUNCTUATION):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in _EDGE_PUNCTUATION):
            end -= 1
        if end - start > 2 and text.endswith(("'s", "’s"), start, end) \
                and text[end - 3].isalnum():
            end -= 2  # "NASA’s": the possessive is not part of the name
        elif english and (article := (_LEADING_ARTICLE.match(text, start, end) or (
                _SENTENCE_ARTICLE.match(text, start, end)
                if opens_sentence and start == 0 else None))):
            start = article.end()  # "the European Union": the name starts after "the"
        elif brackets is not None and start < end:
            start, end = brackets.trimmed(start, end)
        if (start, end) == before:
            break
    if not any(ch.isalnum() for ch in text[start:end]):
        return None
    return Mention(text[start:end], mention.label, mention.start + start, mention.start + end)


class _Brackets:
    """The round brackets of a text, counted in any slice at once (prefix sums)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.opening = list(accumulate((ch == "(" for ch in text), initial=0))
        self.closing = list(accumulate((ch == ")" for ch in text), initial=0))

    def trimmed(self, start: int, end: int) -> tuple[int, int]:
        """The slice less one bracket that is not part of a name."""
        text = self.text
        opened = self.opening[end] - self.opening[start]
        closed = self.closing[end] - self.closing[start]
        first, last = text[start], text[end - 1]
        if first == "(" and last == ")" and opened == 1:
            return start + 1, end - 1  # "(MK)": the short form alone
        if first == "(" and not closed:
            return start + 1, end
        if last == ")" and not opened:
            return start, end - 1
        if opened > closed:
            return start, text.rindex("(", start, end)  # "Joko Widodo (Jokowi": before it
        return start, end


def propagate_mentions(text: str, mentions: Sequence[Mention],
                       known: dict[str, str] | None = None,
                       also: dict[str, str] | None = None) -> list[Mention]:
    """Document-level consistency: a name the model found once is found everywhere.

    Untagged whole-word occurrences of a tagged mention (at least two words, or one
    capitalised word of four letters or more), and of the surname of a tagged full person
    name, become mentions with that label: "Blinken mengatakan ..." at a sentence start, after
    "Antony Blinken" earlier. So do the ``known`` names (surface → label: countries, capitals,
    from the alias table) wherever they are written, and the ``also`` names of this article
    (the short forms it introduces). ``known`` is one compiled pattern for every article, so
    the article's own names go in ``also``. Occurrences inside existing mentions are left
    alone.
    """
    surfaces: dict[str, str] = dict(also or {})  # this article's own names (short forms)
    # A name takes the label the model gave it most often in this article (the first seen on
    # a tie), not the first: "Brexit" once PER and three times LOC is LOC wherever it recurs.
    votes: dict[str, Counter[str]] = {}
    for mention in mentions:
        words = mention.text.split()
        if len(words) >= 2 or (len(mention.text) >= 4 and mention.text[:1].isupper()):
            votes.setdefault(mention.text, Counter())[mention.label] += 1
        if mention.label == "PER" and len(words) >= 2:
            surname = words[-1]
            if len(surname) >= 4 and surname[:1].isupper():
                votes.setdefault(surname, Counter())["PER"] += 1  # the full name's vote
    for surface, counts in votes.items():
        surfaces.setdefault(surface, counts.most_common(1)[0][0])
    known = known or {}
    candidates = [(m.start(), m.end(), m.group(), surfaces[m.group()])
                  for m in _pattern(tuple(sorted(surfaces))).finditer(text)] if surfaces else []
    if known:
        candidates += [(m.start(), m.end(), m.group(), known[m.group()])
                       for m in _pattern(tuple(sorted(known))).finditer(text)]
    # The spans taken so far never overlap, so sorted by start their ends are sorted too, and
    # a candidate overlaps one only if the last span starting before its end reaches past its
    # start: a bisection, not a scan (a scan made a 200 kB one-line text take minutes).
    taken = sorted((m.start, m.end) for m in mentions)
    starts, ends = [s for s, _ in taken], [e for _, e in taken]
    added: list[Mention] = []
    # Longest first where candidates overlap, as one alternation of all names would match.
    for start, end, surface, label in sorted(candidates, key=lambda c: (c[0], c[0] - c[1])):
        before = bisect_left(starts, end)
        if "\n" in surface or (before > 0 and ends[before - 1] > start):
            continue
        added.append(Mention(surface, label, start, end))
        starts.insert(before, start)
        ends.insert(before, end)
    return sorted([*mentions, *added], key=lambda m: m.start)


@lru_cache(maxsize=64)
def _pattern(surfaces: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word matcher of the names (the known names' one is compiled once)."""
    alternatives = "|".join(re.escape(s) for s in sorted(surfaces, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")

_FOLLOWING_SHORT_FORM = re.compile(r"\s*\(\s*([^\W\d_][\w.&-]{0,15})\s*\)")


def article_short_forms(text: str, mentions: Sequence[Mention]) -> dict[str, Alias]:
    """Short forms the article itself introduces, "Mahkamah Konstitusi (MK)": its other
    mentions of "MK" are that entity. One word with a capital letter, in brackets right after
    a name (or inside its span). Beside a place or organisation, the name holds its letters
    in order ("Polri" for Kepolisian Negara Republik Indonesia), so that neither a bracketed
    remark nor a dateline's agency ("WASHINGTON (AP)") is taken for one; a person's may be a
    nickname ("Ridwan Kamil (Emil)")."""
    found: dict[str, Alias] = {}
    for mention in mentions:
        named = short_form(mention.text)
        if named is None:
            following = _FOLLOWING_SHORT_FORM.match(text, mention.end)
            named = (mention.text, following.group(1)) if following else None
        if (named and " " not in named[1] and any(ch.isupper() for ch in named[1])
                and (mention.label == "PER" or _abbreviates(named[1], named[0]))):
            found.setdefault(named[1], (canonical_name(named[0], mention.label), mention.label))
    return found


def _abbreviates(short: str, name: str) -> bool:
    letters = iter(ch for ch in name.lower() if ch.isalnum())
    return all(ch in letters for ch in short.lower() if ch.isalnum())


# What may stand between the two halves of a place's name written apart ("Washington, DC").
_PLACE_JOINS = (", ", ",", " ")


def join_split_places(text: str, mentions: Sequence[Mention],
                      known: Mapping[str, object]) -> list[Mention]:
    """A place's name written in two halves that the model read as two places ("Washington",
    "DC" in "Washington, DC") as one mention, where the whole is a known name (``known``: the
    alias table) or the article writes it whole elsewhere ("Washington DC"). Two places that
    are two ("Jakarta, Indonesia") stay two."""
    written = {m.text for m in mentions}

    def one_place(previous: Mention, mention: Mention) -> bool:
        if not (previous.label == mention.label == "LOC"
                and text[previous.end:mention.start] in _PLACE_JOINS):
            return False
        joined = f"{previous.text} {mention.text}"
        return (text[previous.start:mention.end] in known or joined in known
                or joined in written)

    return _joined(text, mentions, one_place)


def join_hyphenated_names(text: str, mentions: Sequence[Mention]) -> list[Mention]:
    """A person's double-barrelled name read as two people, "Ben Murray" "-" "Bruce" (English
    tokens split a hyphen between letters, as spaCy was trained), as one mention. Two places
    or organisations joined by a hyphen stay two ("US-China")."""
    return _joined(text, mentions, lambda previous, mention: (
        previous.label == mention.label == "PER" and text[previous.end:mention.start] == "-"))


def _joined(text: str, mentions: Sequence[Mention],
            one: Callable[[Mention, Mention], bool]) -> list[Mention]:
    """The mentions in order, each one that is ``one`` name with the mention before it
    joined to it (the label stays)."""
    out: list[Mention] = []
    for mention in sorted(mentions, key=lambda m: m.start):
        if out and one(out[-1], mention):
            previous = out[-1]
            out[-1] = Mention(text[previous.start:mention.end], previous.label, previous.start,
                              mention.end)
        else:
            out.append(mention)
    return out
