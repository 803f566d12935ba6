from stream.clean.boilerplate import MAX_LINES, DomainLines
from stream.clean.text import clean_text
from stream.ingest.urls import registrable_domain

NAV = ["Home", "News", "Sport", "Ikuti kabar terbaru dari redaksi kami setiap hari di sini ya.",
       "Semua isi situs ini dikelola redaksi kami di Jakarta dan diperbarui setiap hari kerja."]


def _page(n: int) -> str:
    body = [f"Warga desa nomor {n} merayakan panen raya dengan pesta rakyat yang meriah sekali.",
            f"Kepala desa {n} mengatakan hasil panen tahun ini jauh lebih baik dari tahun lalu."]
    return "\n".join([*NAV[:3], *body, *NAV[3:]])


def test_registrable_domain() -> None:
    assert registrable_domain("https://regional.kompas.com/read/1") == "kompas.com"
    assert registrable_domain("https://news.detik.co.id/x") == "detik.co.id"
    assert registrable_domain("https://www.bbc.co.uk/news") == "bbc.co.uk"


def test_lines_seen_in_earlier_articles_of_the_site_become_boilerplate() -> None:
    memory = DomainLines()
    first = clean_text(_page(1), memory, article_id="a1").text
    assert NAV[3] in first  # nothing learned yet: a footer line that reads like prose stays
    clean_text(_page(2), memory, article_id="a2")
    third = clean_text(_page(3), memory, article_id="a3").text
    assert NAV[3] not in third and NAV[4] not in third
    assert "Warga desa nomor 3" in third and "Kepala desa 3" in third


def test_a_resent_article_does_not_turn_its_own_text_into_boilerplate() -> None:
    memory = DomainLines()
    for _ in range(5):
        text = clean_text(_page(1), memory, article_id="same").text
    assert "Warga desa nomor 1" in text
    assert memory.articles == 1


def test_memory_is_bounded_and_survives_serialisation() -> None:
    memory = DomainLines()
    for n in range(3):
        memory.observe([f"line {n}-{i}" for i in range(MAX_LINES)], article_id=str(n))
    assert len(memory.to_state()["lines"]) == MAX_LINES
    restored = DomainLines(memory.to_state())
    assert restored.articles == 3
    assert restored.weight("missing") == 0.0


def test_counts_decay_so_old_lines_are_forgotten() -> None:
    memory = DomainLines()
    for n in range(3):
        memory.observe(["Old footer line that the site printed for a while"], article_id=str(n))
    assert memory.is_boilerplate("Old footer line that the site printed for a while")
    for n in range(3, 80):
        memory.observe([f"fresh {n}"], article_id=str(n))
    assert not memory.is_boilerplate("Old footer line that the site printed for a while")


def test_copies_of_one_story_under_new_ids_keep_their_text() -> None:
    memory = DomainLines()
    for n in range(6):
        text = clean_text(_page(1), memory, article_id=f"copy-{n}").text
        assert "Warga desa nomor 1" in text and "Kepala desa 1" in text
