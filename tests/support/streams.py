"""Helpers for the exact-count tests: a synthetic stream with a known entity distribution, the
expected counts computed from `newsstream process` output (not by the agents), and a watcher
that keeps the latest value of every key of entities.mentions."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from stream.clock import from_epoch, parse_iso, to_iso
from stream.config import Settings
from stream.tools.producing import produce_records

PEOPLE = ["Joko Widodo", "Prabowo Subianto", "Anies Baswedan", "Ganjar Pranowo",
          "Sri Mulyani", "Ridwan Kamil", "Erick Thohir", "Puan Maharani"]
PLACES = ["Jakarta", "Surabaya", "Bandung", "Medan", "Makassar", "Semarang", "Yogyakarta"]
ORGS = ["Pertamina", "Garuda Indonesia", "Telkom", "Bank Mandiri"]
# Lower-case filler, so that every line and every article is unlike every other: no line is
# learned as site boilerplate and no article is a near-copy of another.
_FILLER_TEXT = (
    "rapat warga kota desa harga beras naik turun pasar pagi sore malam jalan rusak hujan "
    "deras banjir kering sekolah guru murid kantor pegawai gaji pajak listrik air bersih "
    "kotor sungai laut kapal nelayan ikan sawah petani panen gagal baik buruk pemerintah "
    "daerah pusat anggaran proyek jembatan gedung rumah sakit dokter obat vaksin kereta bus "
    "ojek macet lancar bandara pesawat tiket mahal murah musim libur pekan depan lalu tahun "
    "bulan hari minggu pagi siang rakyat kecil besar usaha kopi teh gula garam minyak sayur "
    "buah daging telur susu roti nasi"
)
FILLER = _FILLER_TEXT.split()
BASE_TIME = 1_790_000_000  # 2026-09-21T14:13:20Z: 20 s past a minute boundary


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(words))


def article(i: int, rng: random.Random, t: float, url: str | None = None) -> dict[str, Any]:
    """One text article naming a person, a place and sometimes an organisation."""
    person, place = rng.choice(PEOPLE), rng.choice(PLACES)
    org = rng.choice(ORGS) if rng.random() < 0.5 else None
    lines = [
        f"{person} mengunjungi {place} pada hari Senin untuk meninjau {_sentence(rng, 6)}.",
        f"Menurut {person}, {_sentence(rng, 12)} di {place} {_sentence(rng, 6)}.",
    ]
    if org:
        lines.append(f"Direktur {org} mengatakan {_sentence(rng, 10)} tahun ini.")
    lines.append(f"Warga berharap {_sentence(rng, 14)} segera selesai.")
    return {"url": url or f"https://berita{i % 50}.example.id/read/{i}",
            "content_type": "text/plain", "body": "\n".join(lines),
            "published_at": to_iso(from_epoch(t))}


def make_articles(n: int, seed: int = 7, step_s: float = 0.5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [article(i, rng, BASE_TIME + i * step_s) for i in range(n)]


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def processed(path: Path, settings: Settings) -> list[dict[str, Any]]:
    """`newsstream process` on the file: one enriched article per line."""
    from tests.conftest import settings_env

    result = subprocess.run([sys.executable, "-m", "stream.tools.cli", "process", str(path)],
                            env=settings_env(settings), capture_output=True, check=True)
    return [orjson.loads(line) for line in result.stdout.splitlines()]


CountKey = tuple[str, str, str | None]  # entity id, window, window start (ISO)


def expected_counts(enriched: Iterable[dict[str, Any]], sizes: list[int],
                    late: dict[str, set[int]] | None = None) -> dict[CountKey, tuple[int, int]]:
    """Mentions and articles per (entity, window) from enriched articles, each counted once;
    ``late`` maps an article id to the window sizes it is too late for."""
    counts: dict[CountKey, list[int]] = defaultdict(lambda: [0, 0])
    for record in enriched:
        moment = parse_iso(record["published_at"])
        assert moment is not None
        t = moment.timestamp()
        keys: list[tuple[str, str | None]] = [("total", None)]
        for size in sizes:
            if size in (late or {}).get(record["id"], set()):
                continue
            name = {60: "1m", 3600: "1h", 86400: "1d"}.get(size, f"{size}s")
            keys.append((name, to_iso(from_epoch(int(t // size) * size))))
        for count in record["entity_counts"]:
            for window, start in keys:
                value = counts[(count["entity_id"], window, start)]
                value[0] += count["mentions"]
                value[1] += 1
    return {key: (m, a) for key, (m, a) in counts.items()}


async def produce(settings: Settings, records: Iterable[dict[str, Any]]) -> None:
    await produce_records(settings.connection, settings.input_topics[0],
                          [(None, orjson.dumps(r)) for r in records], progress=False)


class MentionsWatcher:
    """The latest value of every (entity, window, start) on the mentions topic."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.latest: dict[CountKey, tuple[int, int]] = {}
        self.updates = 0
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> MentionsWatcher:
        self._consumer = AIOKafkaConsumer(
            self.settings.mentions_topic,
            bootstrap_servers=self.settings.connection.bootstrap_servers,
            group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._consumer is not None
        await self._consumer.stop()

    async def poll(self, seconds: float = 0.5) -> None:
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=int(seconds * 1000))
        for messages in batches.values():
            for message in messages:
                value = orjson.loads(message.value)
                key = (value["entity"]["entity_id"], value["window"], value["window_start"])
                self.latest[key] = (value["mentions"], value["articles"])
                self.updates += 1

    async def wait_for(self, expected: dict[CountKey, tuple[int, int]], timeout: float,
                       settle_s: float = 3.0) -> dict[CountKey, tuple[int, int]]:
        """Poll until the counts equal ``expected`` and stay so for ``settle_s`` (a count
        that overshoots never comes back down), or until ``timeout``; returns the counts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.poll()
            if self.latest == expected:
                settled = time.monotonic() + settle_s
                while time.monotonic() < settled:
                    await self.poll()
                return dict(self.latest)
        return dict(self.latest)


async def wait_until(predicate: Any, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(every)
    return False
