"""Article metadata: title without the site name, author without labels, publication date."""

from __future__ import annotations

import re
from datetime import date

from stream.clean.lexicon import AUTHOR_LABEL

TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|·|»)\s+")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "januari", "jan"), ("february", "februari", "feb", "pebruari"),
         ("march", "maret", "mar"), ("april", "apr"), ("may", "mei"), ("june", "juni", "jun"),
         ("july", "juli", "jul"), ("august", "agustus", "aug", "agu", "agt"),
         ("september", "sep", "sept"), ("october", "oktober", "oct", "okt"),
         ("november", "nov", "nopember"), ("december", "desember", "dec", "des")], start=1)
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DMY_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_YMD = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MDY_WORDS = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE)
_DMY_WORDS = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\.?\s+(\d{{4}})\b", re.IGNORECASE)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})(?:/|$)")


def _site_tokens(domain: str, site_name: str | None) -> set[str]:
    tokens = {label for label in domain.lower().split(".")[:-1] if len(label) > 2}
    tokens.discard("www")
    if site_name:
        tokens.add(re.sub(r"\W+", "", site_name.lower()))
    return tokens


_DOMAIN_LIKE = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|id|co\.id|co\.uk|tv|news)$",
                          re.IGNORECASE)


def _is_site_name(part: str, tokens: set[str]) -> bool:
    if _DOMAIN_LIKE.match(part.strip()):
        return True  # another site of the same publisher ("ihram.co.id" on republika.co.id)
    squashed = re.sub(r"\W+", "", part.lower())
    if not squashed or len(part.split()) > 5:
        return False
    return any(token and (token in squashed or squashed in token) for token in tokens)


def clean_title(title: str | None, domain: str, site_name: str | None = None) -> str | None:
    """'Budget approved | City News' -> 'Budget approved'; 'Kompas.com - X' -> 'X'."""
    if not title:
        return None
    title = " ".join(title.split())
    tokens = _site_tokens(domain, site_name)
    prefix, colon, rest = title.partition(": ")
    if colon and rest and _is_site_name(prefix, tokens):
        title = rest  # "KapanLagi.com: Brandon Salim ..."
    parts = TITLE_SEPARATORS.split(title)
    while len(parts) > 1 and _is_site_name(parts[-1], tokens):
        parts.pop()
    while len(parts) > 1 and _is_site_name(parts[0], tokens):
        parts.pop(0)
    return " - ".join(parts) or title


def clean_author(author: str | None, domain: str, site_name: str | None = None) -> str | None:
    """Drop labels ('Penulis:'), publisher names, and a trailing '- detikinet'."""
    if not author:
        return None
    tokens = _site_tokens(domain, site_name)
    names = []
    for part in re.split(r"\s*[;|]\s*|\s+-\s+", author):
        part = AUTHOR_LABEL.sub("", part).strip(" ,.")
        if part and not _is_site_name(part, tokens) and any(ch.isalpha() for ch in part):
            names.append(part)
    return "; ".join(dict.fromkeys(names)) or None


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        moment = date(year, month, day)
    except ValueError:
        return None
    return moment.isoformat() if 1990 <= year <= date.today().year + 1 else None


def date_in_text(text: str) -> str | None:
    """The first date written in a line: 29/07/2023, 2023-07-29, July 29, 2023, 29 Juli 2023."""
    for pattern, order in ((_DMY_NUMERIC, "dmy"), (_YMD, "ymd"), (_MDY_WORDS, "mdy"),
                           (_DMY_WORDS, "dmy")):
        for match in pattern.finditer(text):
            a, b, c = match.groups()
            values = {"d": a, "m": b, "y": c} if order == "dmy" else (
                {"y": a, "m": b, "d": c} if order == "ymd" else {"m": a, "d": b, "y": c})
            month = values["m"]
            month_number = int(month) if month.isdigit() else _MONTHS[month.lower()]
            found = _valid(int(values["y"]), month_number, int(values["d"]))
            if found:
                return found
    return None


def date_in_url(url: str) -> str | None:
    match = _URL_DATE.search(url)
    return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
