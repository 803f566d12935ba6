"""What the dashboard knows, built only from the public output topics, and bounded.

Every topic is read as a compacted topic would be: the latest value per key wins, so a
redelivered record changes nothing. The bounds are what keeps the process's memory flat as the
topics grow: the latest ``articles`` enriched articles, the latest ``windows`` window starts of
each window size (counts and trending boards), and the ``entities`` entities with the most
mentions in total.
"""

from __future__ import annotations

import heapq
import unicodedata
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from stream.dashboard.highlight import Segment, segments

TOTAL = "total"
# Stored text of one article: the page shows excerpts and the article; a 20 MB text is cut.
ARTICLE_TEXT_CHARS = 20_000
EXCERPT_CHARS = 480
MAX_WINDOW_NAMES = 16  # window sizes are a handful of settings; more is a producer's mistake
# The entity page: how many of each list it shows.
ENTITY_ARTICLES = 20
ENTITY_NEIGHBOURS = 12
ENTITY_OUTLETS = 12
LATEST_DEADLETTERS = 5


@dataclass(frozen=True)
class Limits:
    articles: int = 5_000
    windows: int = 30
    entities: int = 20_000

    @property
    def window_entities(self) -> int:
        """Entities kept per window start, the most mentioned: a quarter of the total's, so
        that 3 window sizes of 30 starts hold at most ~20 times the total's entries."""
        return max(self.entities // 4, 100)


class Count(NamedTuple):
    mentions: int
    articles: int
    name: str
    label: str


@dataclass
class StoredArticle:
    id: str
    seq: int  # arrival order: the page asks for the articles after the last it has
    url: str
    source: str
    title: str | None
    language: str
    published_at: str | None
    processed_at: str | None
    duplicate_of: str | None
    text: str
    truncated: bool
    mentions: list[dict[str, Any]]
    entity_ids: tuple[str, ...]  # canonical entities, most mentioned first
    entity_mentions: dict[str, int]


class Invalid(ValueError):
    """A record that does not follow its topic's schema; the server counts and skips it."""


def _epoch(stamp: Any) -> int:
    if not isinstance(stamp, str):
        raise Invalid(f"not a date-time: {stamp!r}")
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError as error:
        raise Invalid(str(error)) from None


def _entity(value: Any) -> tuple[str, str, str]:
    if not isinstance(value, Mapping):
        raise Invalid("no entity object")
    entity_id, name, label = value.get("entity_id"), value.get("name"), value.get("label")
    if not (isinstance(entity_id, str) and isinstance(name, str) and isinstance(label, str)):
        raise Invalid("entity without entity_id, name or label")
    return entity_id, name, label


def shown_name(local: Mapping[str, str], name: str, language: str | None = None) -> str:
    """The name readers see (on the page and in ``make run``'s terminal alike): the entity's
    name in ``language`` (a language filter), or in the one language of the articles that
    mention it (``local``: language → its name in articles of that language); ``name``, the
    one shared across languages, where articles of several languages do."""
    if language and language in local:
        return local[language]
    return next(iter(local.values())) if len(local) == 1 else name


def fold(text: str) -> str:
    """Lower case without accents: how the search box compares names."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class DashboardState:
    limits: Limits = field(default_factory=Limits)
    version: int = 0
    arrivals: int = 0
    articles: OrderedDict[str, StoredArticle] = field(default_factory=OrderedDict)
    # entity id → ids of the stored articles that mention it, oldest first
    entity_articles: dict[str, dict[str, None]] = field(default_factory=dict)
    totals: dict[str, Count] = field(default_factory=dict)
    # window name → window start (epoch s) → entity id → count
    windows: dict[str, dict[int, dict[str, Count]]] = field(default_factory=dict)
    window_seconds: dict[str, int] = field(default_factory=dict)
    # window name → window start → the trending record
    trending: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    languages: dict[str, set[str]] = field(default_factory=dict)
    # entity id → language → its name in articles of that language ("United Kingdom" in
    # English, where the counts carry the one name across languages, "Inggris")
    local_names: dict[str, dict[str, str]] = field(default_factory=dict)
    # entity id → its names, folded for search (one per language it is written in)
    folded_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Dead letters: how many by reason code, and the latest few (what, why, where)
    deadletter_reasons: Counter[str] = field(default_factory=Counter)
    latest_deadletters: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=LATEST_DEADLETTERS))

    # ---- records in ---------------------------------------------------------------------

    def apply_article(self, value: Mapping[str, Any]) -> str:
        """An ``articles.enriched`` record; returns its id."""
        article_id = value.get("id")
        text = value.get("text")
        if not isinstance(article_id, str) or not article_id or not isinstance(text, str):
            raise Invalid("article without id or text")
        mentions = [m for m in value.get("entities") or [] if isinstance(m, Mapping)
                    and isinstance(m.get("entity_id"), str)]
        counts: dict[str, int] = {}
        for entry in value.get("entity_counts") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("entity_id"), str):
                counts[entry["entity_id"]] = int(entry.get("mentions") or 0)
        for mention in mentions:
            counts.setdefault(mention["entity_id"], 0)
        kept = text[:ARTICLE_TEXT_CHARS]
        language = str(value.get("language") or "und")
        duplicate_of = value.get("duplicate_of")
        previous = self.articles.get(article_id)
        if previous is None:
            self.arrivals += 1
        article = StoredArticle(
            id=article_id, seq=previous.seq if previous else self.arrivals,
            url=str(value.get("url") or ""), source=str(value.get("source") or ""),
            title=value.get("title") if isinstance(value.get("title"), str) else None,
            language=language, published_at=_optional_str(value.get("published_at")),
            processed_at=_optional_str(value.get("processed_at")),
            # A record that names itself (written before the same id was the same article)
            # is the article, not a copy.
            duplicate_of=duplicate_of if isinstance(duplicate_of, str)
            and duplicate_of != article_id else None,
            text=kept, truncated=len(kept) < len(text),
            mentions=[dict(m) for m in mentions if isinstance(m.get("end"), int)
                      and m["end"] <= len(kept)],
            entity_ids=tuple(sorted(counts, key=lambda e: (-counts[e], e))),
            entity_mentions=counts)
        if previous is not None:  # the latest value of the key replaces it, in its place
            self._unindex(previous)
        for mention in mentions:
            entity_id = mention["entity_id"]
            name = str(mention.get("name") or "")
            self.languages.setdefault(entity_id, set()).add(language)
            self.local_names.setdefault(entity_id, {}).setdefault(language, name)
            self._add_search_name(entity_id, name)
        self.articles[article_id] = article
        for entity_id in article.entity_ids:
            self.entity_articles.setdefault(entity_id, {})[article_id] = None
        while len(self.articles) > self.limits.articles:
            _, oldest = self.articles.popitem(last=False)
            self._unindex(oldest)
        self.version += 1
        return article_id

    def forget_article(self, article_id: str) -> None:
        """A tombstone on ``articles.enriched``: the key's value is gone."""
        article = self.articles.pop(article_id, None)
        if article is not None:
            self._unindex(article)
            self.version += 1

    def _unindex(self, article: StoredArticle) -> None:
        for entity_id in article.entity_ids:
            ids = self.entity_articles.get(entity_id)
            if ids is not None:
                ids.pop(article.id, None)
                if not ids:
                    del self.entity_articles[entity_id]
                    self._forget_if_unused(entity_id)

    def apply_count(self, value: Mapping[str, Any]) -> None:
        """An ``entities.mentions`` record."""
        entity_id, name, label = _entity(value.get("entity"))
        window = value.get("window")
        mentions, articles = value.get("mentions"), value.get("articles")
        if not isinstance(window, str) or not isinstance(mentions, int) \
                or not isinstance(articles, int):
            raise Invalid("count without window, mentions or articles")
        count = Count(mentions, articles, name, label)
        if window == TOTAL:
            # Search names come from the totals and the articles, which forget them again;
            # every entity of a window has a total too.
            self._add_search_name(entity_id, name)
            self.totals[entity_id] = count
            if len(self.totals) > self.limits.entities * 1.1:
                self._forget_least_mentioned()
        else:
            start = _epoch(value.get("window_start"))
            starts = self._window_starts(window, start, _epoch(value.get("window_end")) - start)
            if starts is None:
                return
            counts = starts.setdefault(start, {})
            counts[entity_id] = count
            if len(counts) > self.limits.window_entities * 1.1:
                starts[start] = _most_mentioned(counts, self.limits.window_entities)
            self._keep_latest(starts)
        self.version += 1

    def apply_deadletter(self, value: Mapping[str, Any]) -> None:
        """An ``articles.deadletter`` record: counted by reason, the latest few kept (their
        payloads are not: what failed is named, not shown)."""
        code, reason = value.get("reason_code"), value.get("reason")
        if not isinstance(code, str) or not isinstance(reason, str):
            raise Invalid("dead letter without reason_code or reason")
        self.deadletter_reasons[code] += 1
        self.latest_deadletters.appendleft({
            "reason_code": code, "reason": reason[:300],
            **{name: value.get(name) for name in ("stage", "article_id", "topic", "partition",
                                                  "offset", "failed_at")}})
        self.version += 1

    def deadletters(self) -> dict[str, Any]:
        return {"total": sum(self.deadletter_reasons.values()),
                "reasons": [{"reason_code": code, "count": count}
                            for code, count in self.deadletter_reasons.most_common()],
                "latest": list(self.latest_deadletters)}

    def apply_trending(self, value: Mapping[str, Any]) -> None:
        """An ``entities.trending`` record."""
        window = value.get("window")
        if not isinstance(window, str) or not isinstance(value.get("entities"), list):
            raise Invalid("trending record without window or entities")
        start = _epoch(value.get("window_start"))
        for entry in value["entities"]:
            _entity(entry.get("entity") if isinstance(entry, Mapping) else None)
        if self._window_starts(window, start, _epoch(value.get("window_end")) - start) is None:
            return
        boards = self.trending.setdefault(window, {})
        boards[start] = dict(value)
        self._keep_latest(boards)
        self.version += 1

    def _window_starts(self, window: str, start: int,
                       seconds: int) -> dict[int, dict[str, Count]] | None:
        """The starts held for ``window``, or None when ``start`` is older than all of them and
        there is no room (bounded history) or there are too many window names."""
        starts = self.windows.get(window)
        if starts is None:
            if len(self.windows) >= MAX_WINDOW_NAMES:
                return None
            starts = self.windows[window] = {}
            self.window_seconds[window] = max(seconds, 1)
        if start not in starts and len(starts) >= self.limits.windows and start < min(starts):
            return None
        return starts

    def _keep_latest(self, by_start: dict[int, Any]) -> None:
        while len(by_start) > self.limits.windows:
            del by_start[min(by_start)]

    def _forget_least_mentioned(self) -> None:
        kept = _most_mentioned(self.totals, self.limits.entities)
        gone = self.totals.keys() - kept.keys()
        self.totals = kept
        for entity_id in gone:
            self._forget_if_unused(entity_id)

    def _add_search_name(self, entity_id: str, name: str) -> None:
        """Every name of the entity is searchable ("inggris", "united kingdom")."""
        folded, known = fold(name), self.folded_names.get(entity_id)
        if known is None:
            self.folded_names[entity_id] = (folded,)
        elif folded and folded not in known:
            self.folded_names[entity_id] = (*known, folded)

    def _forget_if_unused(self, entity_id: str) -> None:
        if entity_id not in self.totals and entity_id not in self.entity_articles:
            self.languages.pop(entity_id, None)
            self.local_names.pop(entity_id, None)
            self.folded_names.pop(entity_id, None)

    def shown_name(self, entity_id: str, name: str, language: str | None = None) -> str:
        return shown_name(self.local_names.get(entity_id, {}), name, language)

    # ---- views out ----------------------------------------------------------------------

    def window_names(self) -> list[str]:
        """``total`` and the window sizes seen, shortest first."""
        return [TOTAL, *sorted(self.windows, key=lambda w: (self.window_seconds[w], w))]

    def language_names(self) -> list[str]:
        """The languages of the stored articles, most frequent first."""
        seen = Counter(a.language for a in self.articles.values())
        return [language for language, _ in seen.most_common()]

    def latest_start(self, window: str) -> int | None:
        starts = self.windows.get(window)
        return max(starts) if starts else None

    def counts_of(self, window: str, start: int | None = None) -> tuple[int | None,
                                                                         dict[str, Count]]:
        if window == TOTAL:
            return None, self.totals
        starts = self.windows.get(window) or {}
        if start is None or start not in starts:
            start = self.latest_start(window)
        return start, (starts.get(start, {}) if start is not None else {})

    def top(self, window: str = TOTAL, start: int | None = None, label: str | None = None,
            language: str | None = None, n: int = 25) -> dict[str, Any]:
        """The entities of one window by mentions (ties: more articles, then id), as the
        worker's ``/entities/top`` ranks them."""
        start, counts = self.counts_of(window, start)
        items: Iterable[tuple[str, Count]] = counts.items()
        if label:
            items = ((e, c) for e, c in items if c.label == label)
        if language:
            items = ((e, c) for e, c in items if language in self.languages.get(e, ()))
        best = heapq.nsmallest(n, items, key=lambda item: (-item[1].mentions,
                                                           -item[1].articles, item[0]))
        starts = sorted(self.windows.get(window, {}), reverse=True)
        return {"window": window, "start": start, "starts": starts,
                "seconds": self.window_seconds.get(window),
                "entities": [{"entity_id": e, "name": self.shown_name(e, c.name, language),
                              "label": c.label,
                              "mentions": c.mentions, "articles": c.articles} for e, c in best]}

    def trending_board(self, window: str | None = None) -> dict[str, Any] | None:
        """The latest trending record of ``window`` (default: the one updated last)."""
        latest = {w: boards[max(boards)] for w, boards in self.trending.items() if boards}
        if window not in latest:
            window = max(latest, key=lambda w: str(latest[w].get("updated_at") or ""),
                         default=None)
            if window is None:
                return None
        board = latest[window]
        return {"window": window, "window_start": board.get("window_start"),
                "window_end": board.get("window_end"), "updated_at": board.get("updated_at"),
                "windows": sorted(self.trending, key=lambda w: self.window_seconds.get(w, 0)),
                "entities": board.get("entities", [])}

    def feed(self, n: int = 30, since: int | None = None) -> list[dict[str, Any]]:
        """The newest ``n`` articles, newest first, as feed items; with ``since``, only those
        that arrived after that one (the page's newest)."""
        items = []
        for article in reversed(self.articles.values()):  # arrival order: seq rises
            if since is not None and article.seq <= since:
                break
            items.append(self.feed_item(article))
            if len(items) == n:
                break
        return items

    def feed_item(self, article: StoredArticle, limit: int = EXCERPT_CHARS) -> dict[str, Any]:
        return {"id": article.id, "seq": article.seq, "url": article.url, "source": article.source,
                "title": article.title, "language": article.language,
                "published_at": article.published_at, "processed_at": article.processed_at,
                "duplicate_of": article.duplicate_of,
                "first_copy_known": article.duplicate_of in self.articles
                if article.duplicate_of else None,
                "mentions": len(article.mentions),
                "more": len(article.text) > limit or article.truncated,
                "segments": segments(article.text, article.mentions, limit)}

    def article(self, article_id: str) -> dict[str, Any] | None:
        stored = self.articles.get(article_id)
        if stored is None:
            return None
        item = self.feed_item(stored, limit=ARTICLE_TEXT_CHARS)
        item["more"] = stored.truncated
        item["entity_counts"] = [self.entity_ref(e) | {"mentions": stored.entity_mentions[e]}
                                 for e in stored.entity_ids]
        return item

    def entity_ref(self, entity_id: str) -> dict[str, Any]:
        name, label = self.name_of(entity_id)
        return {"entity_id": entity_id, "name": self.shown_name(entity_id, name),
                "label": label}

    def name_of(self, entity_id: str) -> tuple[str, str]:
        count = self.totals.get(entity_id)
        if count is not None:
            return count.name, count.label
        for starts in self.windows.values():
            for counts in starts.values():
                found = counts.get(entity_id)
                if found is not None:
                    return found.name, found.label
        for article_id in reversed(self.entity_articles.get(entity_id, {})):
            for mention in self.articles[article_id].mentions:
                if mention["entity_id"] == entity_id:
                    return str(mention["name"]), str(mention["label"])
        label, _, name = entity_id.partition(":")
        return name, label

    def entity(self, entity_id: str) -> dict[str, Any] | None:
        """The entity page: totals, mentions per window over time, outlets, the entities it
        co-occurs with and its latest articles (the last three from the stored articles)."""
        article_ids = list(self.entity_articles.get(entity_id, {}))
        total = self.totals.get(entity_id)
        series: dict[str, list[list[int]]] = {}
        for window, starts in self.windows.items():
            points = [[start, counts[entity_id].mentions, counts[entity_id].articles]
                      for start, counts in sorted(starts.items()) if entity_id in counts]
            if points:
                series[window] = points
        if total is None and not article_ids and not series:
            return None
        outlets: Counter[str] = Counter()
        neighbours: Counter[str] = Counter()  # articles in common
        weight: Counter[str] = Counter()  # their mentions there: the tie-break
        originals = [self.articles[a] for a in article_ids if not self.articles[a].duplicate_of]
        for article in originals:
            outlets[article.source] += 1
            for other, mentions in article.entity_mentions.items():
                if other != entity_id:
                    neighbours[other] += 1
                    weight[other] += mentions
        newest = reversed(article_ids[-ENTITY_ARTICLES:])
        latest = [self.feed_item(self.articles[a]) for a in newest]
        return {
            **self.entity_ref(entity_id),
            "languages": sorted(self.languages.get(entity_id, ())),
            "total": {"mentions": total.mentions, "articles": total.articles} if total else None,
            "windows": [w for w in self.window_names() if w in series],
            "window_seconds": self.window_seconds,
            "series": series,
            "stored_articles": len(originals),
            "outlets": [{"source": s, "articles": k}
                        for s, k in sorted(outlets.items(), key=lambda i: (-i[1], i[0]))
                        [:ENTITY_OUTLETS]],
            "cooccurring": [self.entity_ref(e) | {"articles": k}
                            for e, k in sorted(neighbours.items(),
                                               key=lambda i: (-i[1], -weight[i[0]], i[0]))
                            [:ENTITY_NEIGHBOURS]],
            "articles": latest,
        }

    def search(self, query: str, n: int = 10) -> list[dict[str, Any]]:
        """Entities whose name holds ``query`` (case and accents ignored): names that start with
        it first, then by total mentions."""
        wanted = fold(query.strip())
        if not wanted:
            return []
        found = [(e, names) for e, names in self.folded_names.items()
                 if any(wanted in name for name in names)]

        def rank(item: tuple[str, tuple[str, ...]]) -> tuple[int, int, str]:
            entity_id, names = item
            total = self.totals.get(entity_id)
            starts = any(name.startswith(wanted) for name in names)
            return (0 if starts else 1,
                    -(total.mentions if total else 0), entity_id)

        return [self.entity_ref(e) | {"mentions": self.totals[e].mentions
                                      if e in self.totals else None}
                for e, _ in sorted(found, key=rank)[:n]]

    def sizes(self) -> dict[str, int]:
        """How much is held, for the metrics and the bounds' tests."""
        return {"articles": len(self.articles), "entities": len(self.totals),
                "window_entries": sum(len(c) for s in self.windows.values()
                                      for c in s.values()),
                "window_starts": sum(len(s) for s in self.windows.values()),
                "trending_boards": sum(len(b) for b in self.trending.values()),
                "names": len(self.folded_names)}


def _most_mentioned(counts: dict[str, Count], n: int) -> dict[str, Count]:
    return dict(heapq.nlargest(n, counts.items(),
                               key=lambda item: (item[1].mentions, item[1].articles)))


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["TOTAL", "DashboardState", "Invalid", "Limits", "Segment", "fold"]
