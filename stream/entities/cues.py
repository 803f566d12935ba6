"""What the words around an English name say it is, where the model's label disagrees."""

from __future__ import annotations

import re
from collections.abc import Sequence

from stream.entities.mentions import Mention

# "the fact-checking website Full Fact", "the charity Oxfam": a lower-case noun for a kind of
# organisation right before a name. spaCy read "Full Fact" there as a person.
_ORGANISATION_NOUN = re.compile(
    r"(?:^|[\s(])(?:website|site|company|firm|group|agency|newspaper|magazine|charity|"
    r"network|bank|startup|start-up|organi[sz]ation|outlet|broadcaster|publisher|"
    r"think tank|watchdog|union|party|foundation|institute|fund|label|studio|app)\s+$")


def organisation_by_cue(text: str, mentions: Sequence[Mention]) -> list[Mention]:
    """Person mentions that a kind of organisation introduces, as organisations."""
    return [Mention(m.text, "ORG", m.start, m.end)
            if m.label == "PER" and _ORGANISATION_NOUN.search(
                text, max(0, m.start - 16), m.start) else m
            for m in mentions]

