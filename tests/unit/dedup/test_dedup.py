from typing import Any

from stream.dedup.decision import decide
from stream.dedup.fingerprint import Fingerprint, fingerprint, simhash
from stream.dedup.index import SimIndex, bands
from stream.ingest.urls import same_page_url

STORY = ("Presiden Joko Widodo meresmikan jalan tol baru di Jawa Tengah pada hari Senin. "
         "Jalan tol sepanjang 40 kilometer itu menghubungkan Semarang dan Demak. Menurut "
         "Menteri Pekerjaan Umum, proyek ini selesai lebih cepat dari jadwal dan akan "
         "mengurangi kemacetan di jalur pantura selama musim mudik tahun depan. Warga yang "
         "tinggal di sekitar jalan tol menyambut baik peresmian itu karena perjalanan ke kota "
         "kini hanya memakan waktu setengah jam. Pemerintah daerah juga berencana membangun "
         "terminal bus di dekat gerbang tol untuk melayani penumpang dari desa-desa di "
         "sekitarnya. Pembangunan terminal itu dijadwalkan mulai pada awal tahun depan dan "
         "dibiayai bersama oleh pemerintah provinsi serta pemerintah kabupaten.")
OTHER = ("Tim nasional sepak bola Indonesia mengalahkan Vietnam dua gol tanpa balas dalam "
         "laga kualifikasi Piala Dunia di Stadion Gelora Bung Karno, Jakarta, Kamis malam. "
         "Pelatih mengatakan timnya bermain disiplin sejak menit pertama hingga akhir laga.")
OPTIONS: dict[str, Any] = {"sizes": [60, 3600], "grace_s": 120.0, "count_near": False}


class Stream:
    """The dedup state as the agent holds it: a table plus the in-memory SimHash index."""

    def __init__(self, distance: int = 4) -> None:
        self.state: dict[str, Any] = {}
        self.near = SimIndex(distance)

    def decide(self, item: Fingerprint, offset: int, **options: Any) -> Any:
        return decide(self.state, self.near, item, (0, offset), **{**OPTIONS, **options})


def _item(article_id: str, url: str, text: str, t: float = 1000.0) -> Fingerprint:
    return fingerprint({"id": article_id, "url": url, "text": text}, t)


def test_urls_of_one_page_normalise_to_one_form() -> None:
    same = ["https://www.Kompas.com/read/1/?utm_source=x#top", "http://kompas.com/read/1",
            "https://kompas.com/read/1/?fbclid=abc"]
    assert len({same_page_url(u) for u in same}) == 1
    assert same_page_url("https://kompas.com/read/1?page=2") != same_page_url(same[0])


def test_simhash_is_close_for_small_edits_and_far_for_other_stories() -> None:
    a, b = simhash(STORY), simhash(STORY.replace("Senin", "Selasa").replace("40", "41"))
    c = simhash(OTHER)
    assert a is not None and b is not None and c is not None
    assert (a ^ b).bit_count() <= 4 < 12 < (a ^ c).bit_count()
    assert simhash("terlalu pendek") is None


def test_bands_split_64_bits_so_close_hashes_share_one() -> None:
    value = 0x0123456789ABCDEF
    assert len(bands(value, 3)) == 4
    flipped = value ^ (1 << 3) ^ (1 << 20) ^ (1 << 40)  # 3 bits in 3 different bands
    assert set(bands(value, 3)) & set(bands(flipped, 3))


def test_first_copy_counts_and_later_copies_point_to_it() -> None:
    stream = Stream()
    first = stream.decide(_item("a", "https://x.id/1", STORY), 0)
    assert (first.duplicate_of, first.counted, first.sizes) == (None, True, [60, 3600])
    same_page = stream.decide(_item("a2", "https://x.id/1", STORY), 1)
    assert (same_page.duplicate_of, same_page.reason, same_page.counted) == ("a", "url", False)
    mirror = stream.decide(_item("b", "https://y.id/9", STORY), 2)
    assert (mirror.duplicate_of, mirror.reason, mirror.counted) == ("a", "body", False)
    edited = STORY.replace("Senin", "Selasa")
    syndicated = stream.decide(_item("c", "https://z.id/3", edited), 3)
    assert (syndicated.duplicate_of, syndicated.reason, syndicated.counted) == (
        "a", "near", False)
    other = stream.decide(_item("d", "https://x.id/2", OTHER), 4)
    assert (other.duplicate_of, other.counted) == (None, True)


def test_near_copies_count_when_configured_and_can_be_turned_off() -> None:
    stream = Stream()
    stream.decide(_item("a", "https://x.id/1", STORY), 0)
    edited = STORY.replace("Senin", "Selasa")
    near = stream.decide(_item("c", "https://z.id/3", edited), 1, count_near=True)
    assert (near.duplicate_of, near.counted) == ("a", True)
    off = Stream(distance=0)
    off.decide(_item("a", "https://x.id/1", STORY), 0)
    assert off.decide(_item("c", "https://z.id/3", edited), 1).duplicate_of is None


def test_the_near_copy_index_comes_back_from_the_state() -> None:
    stream = Stream()
    stream.decide(_item("a", "https://x.id/1", STORY), 0)
    restarted = SimIndex(4)
    restarted.rebuild(stream.state.items())
    edited = STORY.replace("Senin", "Selasa")
    assert decide(stream.state, restarted, _item("c", "https://z.id/3", edited), (0, 1),
                  **OPTIONS).duplicate_of == "a"


def test_a_redelivered_record_gets_its_first_decision_again() -> None:
    stream = Stream()
    first = stream.decide(_item("a", "https://x.id/1", STORY, t=1000.0), 5)
    stream.decide(_item("z", "https://x.id/2", OTHER, t=5000.0), 6)
    again = stream.decide(_item("a", "https://x.id/1", STORY, t=1000.0), 5)
    # the stream time moved past the windows meanwhile, but the replay keeps its decision
    assert again.replay and (again.counted, again.sizes) == (first.counted, first.sizes)


def test_the_same_article_sent_again_unchanged_is_itself_and_not_counted_again() -> None:
    stream = Stream()
    stream.decide(_item("a", "https://x.id/1", STORY), 0)
    again = stream.decide(_item("a", "https://x.id/1", STORY, t=2000.0), 1)
    assert (again.resent, again.duplicate_of, again.counted, again.publishes) == (
        "unchanged", None, False, True)
    # Never a copy of itself, whichever key matched (its URL and its body are its own).
    moved = stream.decide(_item("a", "https://x.id/moved", STORY), 2)
    assert (moved.resent, moved.duplicate_of) == ("unchanged", None)


def test_an_updated_article_is_published_as_itself_and_counted_once() -> None:
    stream = Stream()
    first = stream.decide(_item("a", "https://x.id/1", STORY), 0)
    longer = STORY + " Presiden juga meninjau jembatan di Kendal pada sore harinya."
    updated = stream.decide(_item("a", "https://x.id/1", longer), 1)
    assert (updated.resent, updated.duplicate_of, updated.publishes) == ("updated", None, True)
    assert first.counted and not updated.counted  # counts never double
    # A copy of the updated text from another site points to it.
    mirror = stream.decide(_item("b", "https://y.id/1", longer), 2)
    assert (mirror.duplicate_of, mirror.reason) == ("a", "body")


def test_an_article_first_fetched_as_a_copy_is_counted_once_it_is_its_own() -> None:
    stream = Stream()
    stream.decide(_item("placeholder", "https://x.id/soon", OTHER), 0)
    early = stream.decide(_item("a", "https://x.id/1", OTHER), 1)
    assert (early.duplicate_of, early.counted) == ("placeholder", False)
    real = stream.decide(_item("a", "https://x.id/1", STORY), 2)
    assert (real.resent, real.duplicate_of, real.counted) == ("updated", None, True)
    assert not stream.decide(_item("a", "https://x.id/1", STORY + " Lagi."), 3).counted


def test_redeliveries_of_versions_give_their_decisions_again() -> None:
    stream = Stream()
    first = stream.decide(_item("a", "https://x.id/1", STORY), 0)
    stream.decide(_item("a", "https://x.id/1", STORY + " Tambahan."), 1)
    replayed = stream.decide(_item("a", "https://x.id/1", STORY + " Tambahan."), 1)
    assert (replayed.replay, replayed.resent, replayed.counted) == (True, "updated", False)
    # The first version, redelivered after the update: nothing new to publish, but it is
    # the version the article was counted with, so its counts go again (applied once).
    older = stream.decide(_item("a", "https://x.id/1", STORY), 0)
    assert (older.resent, older.publishes, older.counted, older.sizes) == (
        "stale", False, True, first.sizes)


def test_positions_of_a_log_created_again_are_not_the_old_logs() -> None:
    stream = Stream()
    stream.decide(_item("a", "https://x.id/1", STORY), 0, log="old")
    # Offset 0 of a new articles log: another article, not a redelivery of "a".
    other = stream.decide(_item("b", "https://x.id/2", OTHER), 0, log="new")
    assert not other.replay and other.counted
    assert stream.decide(_item("b", "https://x.id/2", OTHER), 0, log="new").replay


def test_entries_written_before_articles_were_kept_by_id_are_read() -> None:
    stream = Stream()
    item = _item("a", "https://x.id/1", STORY)
    decision = {"id": "a", "at": [0, 5], "seen": 1000.0, "duplicate_of": None, "reason": None,
                "counted": True, "sizes": [60]}
    stream.state.update({f"url:{item.url}": decision, f"body:{item.body}": decision})
    replayed = stream.decide(item, 5)
    assert (replayed.replay, replayed.counted, replayed.sizes) == (True, True, [60])
    again = stream.decide(item, 6)
    assert (again.resent, again.counted, again.publishes) == ("unchanged", False, True)
