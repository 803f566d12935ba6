"""A seeded corpus of hostile raw-article records, interleaved with good articles.

Each record is the bytes of one Kafka record value. ``offline=True`` keeps every record on one
line of a JSONL file (no raw line breaks in the bytes; blank records are kept as blank lines),
so that `newsstream process` sees the same corpus as the worker.

Run as a script to write a corpus: ``python -m tests.fuzz --hostile 3000 --good 200 OUT``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from tests.support.streams import article

Maker = Callable[[random.Random], bytes]
FIELDS = ["url", "content_type", "body", "id", "fetched_at", "lang", "title", "published_at",
          "source", "schema_version"]
SCRIPTS = [
    "مرحبا بالعالم هذا نص عربي طويل عن الأخبار",  # Arabic, right to left
    "新闻报道今天上午在北京举行的会议",  # Chinese
    "Привет мир это новости из Москвы",  # Cyrillic
    "नमस्ते दुनिया यह समाचार है",  # Devanagari
    "שלום עולם חדשות היום",  # Hebrew
    "🙂🔥📰 emoji only 👍🏽👨‍👩‍👧",
    "Z̷̢̛a̸͎͝l̵̙̈g̶̰͐o̴̟͑ t̸e̷x̸t̵",  # combining marks
    "\u202eRTL override\u202c and \u200bzero\u200bwidth\u200b",
    "ภาษาไทยข่าววันนี้",  # Thai, no spaces
]
WRONG_VALUES: list[Any] = [None, 0, -1, 1.5, True, [], {}, ["x"], {"a": 1}, "", " ",
                           "x" * 10_000, 2**70]


def good(rng: random.Random, i: int) -> dict[str, Any]:
    base = 1_790_000_000 + rng.randint(0, 3600)
    return article(1_000_000 + i, rng, base, url=f"https://fuzz{i % 7}.example.id/berita/{i}")


def _good_bytes(rng: random.Random) -> bytes:
    return orjson.dumps(good(rng, rng.randint(0, 10**9)))


def _truncated(rng: random.Random) -> bytes:
    whole = _good_bytes(rng)
    return whole[: rng.randint(1, len(whole) - 1)]


def _malformed(rng: random.Random) -> bytes:
    return rng.choice([b"{", b"}", b"[1,2", b'{"url": }', b"{'url': 'x'}", b"nul", b"tru",
                       b'{"a":1,}', b"\"unterminated", b"{}{}", b"NaN", b"1e999999",
                       b'{"url": "https://a.example/x", "body": "\\ud800"}'])


def _invalid_utf8(rng: random.Random) -> bytes:
    whole = bytearray(_good_bytes(rng))
    for _ in range(rng.randint(1, 5)):
        whole.insert(rng.randrange(len(whole)), rng.choice([0x80, 0xC0, 0xFF, 0xFE, 0xED]))
    return bytes(whole)


def _bom(rng: random.Random) -> bytes:
    return rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + _good_bytes(rng)


def _not_object(rng: random.Random) -> bytes:
    return orjson.dumps(rng.choice([[1, 2], "text", 42, None, True, [good(rng, 0)]]))


def _wrong_type(rng: random.Random) -> bytes:
    record: dict[str, Any] = good(rng, rng.randint(0, 10**9))
    record[rng.choice(FIELDS)] = rng.choice(WRONG_VALUES)
    return json.dumps(record).encode()  # the standard library writes 71-bit integers too


def _missing_field(rng: random.Random) -> bytes:
    record = good(rng, rng.randint(0, 10**9))
    record.pop(rng.choice(["url", "content_type", "body"]))
    return orjson.dumps(record)


def _deep(rng: random.Random) -> bytes:
    depth = rng.choice([100, 2_000, 50_000])
    record = good(rng, rng.randint(0, 10**9))
    return orjson.dumps(record)[:-1] + b',"extra":' + b"[" * depth + b"]" * depth + b"}"


def _huge(rng: random.Random) -> bytes:
    size = rng.choice([300_000, 1_000_000])
    record = good(rng, rng.randint(0, 10**9))
    record[rng.choice(["body", "title", "source", "extra"])] = "kata " * (size // 5)
    return orjson.dumps(record)


def _controls(rng: random.Random) -> bytes:
    record = good(rng, rng.randint(0, 10**9))
    noise = "".join(chr(rng.choice([0, 1, 7, 8, 11, 12, 27, 127, 0x85, 0x9F]))
                    for _ in range(rng.randint(1, 2_000)))
    field = rng.choice(["body", "title", "url", "source", "id"])
    record[field] = (record.get(field) or "") + noise if rng.random() < 0.5 else noise
    return orjson.dumps(record)


def _html(rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0:
        page = "<div>" * 20_000 + "Berita hari ini di Jakarta." + "</div>" * 20_000
    elif kind == 1:
        page = "<p>" + "&amp;" * 50_000 + "</p>"
    elif kind == 2:
        page = "<html><body><table>" + "<tr><td>sel</td></tr>" * 5_000 + "</table>"
    elif kind == 3:
        page = "<script>" + "var a=1;" * 20_000 + "</script>"
    elif kind == 4:
        page = "<p " + " ".join(f'a{i}="{i}"' for i in range(5_000)) + ">teks</p>"
    elif kind == 5:
        page = "<!--" + "komentar " * 10_000
    elif kind == 6:
        page = "<html><body>" + "<p>Paragraf berita yang tidak ditutup" * 2_000
    else:
        page = "<svg>" + "<path d='M0 0'/>" * 10_000 + "</svg><p>Teks.</p>"
    record = good(rng, rng.randint(0, 10**9))
    record.update(content_type="text/html", body=page)
    return orjson.dumps(record)


def _scripts(rng: random.Random) -> bytes:
    record = good(rng, rng.randint(0, 10**9))
    lines = [rng.choice(SCRIPTS) * rng.randint(1, 30) for _ in range(rng.randint(1, 12))]
    record.update(body="\n".join(lines), title=rng.choice(SCRIPTS))
    return orjson.dumps(record)


def _blank_body(rng: random.Random) -> bytes:
    record = good(rng, rng.randint(0, 10**9))
    record["body"] = rng.choice(["", " ", "\n\n\n", "\t \u3000\u00a0", "\u200b" * 10])
    return orjson.dumps(record)


def _dates(rng: random.Random) -> bytes:
    record = good(rng, rng.randint(0, 10**9))
    record[rng.choice(["published_at", "fetched_at"])] = rng.choice([
        "9999-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z", "-1", "2023-02-30", "kemarin", "2023-07-29T25:61:00Z",
        "+275760-09-13T00:00:00Z", "2023-07-29T10:00:00+14:00", "2023-07-29T10:00:00-99:00"])
    return orjson.dumps(record)


def _urls(rng: random.Random) -> bytes:
    record = good(rng, rng.randint(0, 10**9))
    record["url"] = rng.choice([
        "https://example.com:abc/x", "https://[::1/x", "http://a:99999/x",
        "https://xn--bcher-kva.example/ä", "https://例子.测试/新闻", "http://[::1]:8080/a",
        "https://a.example/" + "x" * 9_000, "https://user:pass@a.example/x",
        "https://a.example/%zz%00", "http://a.example:0/x"])
    return orjson.dumps(record)


def _empty(rng: random.Random) -> bytes:
    return rng.choice([b"", b" ", b"\t"])


MAKERS: list[Maker] = [_truncated, _malformed, _invalid_utf8, _bom, _not_object, _wrong_type,
                       _missing_field, _deep, _huge, _controls, _html, _scripts, _blank_body,
                       _dates, _urls, _empty]


def corpus(hostile: int, good_articles: int, seed: int = 2026,
           offline: bool = False) -> list[tuple[str, bytes]]:
    """``hostile`` records of every kind above and ``good_articles`` good ones, shuffled, each
    as (kind, value): the kind is the maker's name without its underscore, or "good"."""
    rng = random.Random(seed)
    records = [(MAKERS[i % len(MAKERS)].__name__[1:], MAKERS[i % len(MAKERS)](rng))
               for i in range(hostile)]
    records += [("good", orjson.dumps(good(rng, i))) for i in range(good_articles)]
    rng.shuffle(records)
    if offline:  # one record per line: the bytes must not break it
        records = [(kind, value.replace(b"\n", b" ").replace(b"\r", b" "))
                   for kind, value in records]
    return records


def write_corpus(records: list[tuple[str, bytes]], path: Path) -> Path:
    path.write_bytes(b"".join(value + b"\n" for _, value in records))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--hostile", type=int, default=3000)
    parser.add_argument("--good", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    write_corpus(corpus(args.hostile, args.good, args.seed, offline=True), args.out)


if __name__ == "__main__":
    main()
