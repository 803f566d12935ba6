import pytest

from stream.clean.article import clean_article
from stream.clean.choice import choose_extraction
from stream.clean.html import clean_html
from stream.clean.text import clean_text
from stream.ingest.deadletters import Rejected
from stream.ingest.payloads import raw_article_from_dict
from tests.support.helpers import SAMPLE_BODY_OPENINGS, SAMPLE_BOILERPLATE, SAMPLE_TEXT, raw_article


def test_sample_article_keeps_exactly_its_eight_body_paragraphs() -> None:
    cleaned = clean_text(SAMPLE_TEXT)
    paragraphs = cleaned.text.split("\n\n")
    assert len(paragraphs) == len(SAMPLE_BODY_OPENINGS)
    for paragraph, opening in zip(paragraphs, SAMPLE_BODY_OPENINGS, strict=True):
        assert paragraph.startswith(opening)
    for line in SAMPLE_BOILERPLATE:
        assert line not in cleaned.text


def test_sample_header_gives_title_author_and_date() -> None:
    cleaned = clean_text(SAMPLE_TEXT)
    assert cleaned.title == "AS Yakin Menhan Rusia di Korea Utara untuk Cari Senjata"
    assert cleaned.author == "Irawan Sapto Adhi"
    assert cleaned.published_at == "2023-07-29"


_BODY = "\n".join([
    "Presiden meresmikan jembatan baru di Kalimantan Timur pada hari Senin pagi ini.",
    "Warga menyambut peresmian jembatan itu dengan gembira dan penuh harapan besar.",
    "Jembatan sepanjang dua kilometer itu menghubungkan dua kabupaten yang terpisah sungai.",
])


@pytest.mark.parametrize(("byline", "author"), [
    ("Oleh Desca Lidya Natalia", "Desca Lidya Natalia"),
    ("Oleh : Maya Sofia", "Maya Sofia"),
    ("Penulis: Aditya Maulana", "Aditya Maulana"),
    ("Kontributor Balikpapan, Budi Santoso", "Balikpapan, Budi Santoso"),
    ("Oleh-oleh khas Samarinda diburu pemudik", None),  # a headline, not a byline
])
def test_a_byline_above_scraped_text_names_the_author(byline: str, author: str | None) -> None:
    cleaned = clean_text(f"Jembatan Baru Diresmikan Presiden Hari Ini\n{byline}\n{_BODY}")
    assert cleaned.author == author


def test_repeated_lines_and_known_prefixes_are_dropped() -> None:
    body = "\n".join([
        "Menu utama situs berita",
        "Presiden meresmikan jembatan baru di Kalimantan Timur pada hari Senin pagi ini.",
        "Baca juga: Jembatan lain yang diresmikan tahun lalu di Sumatera dan Jawa Barat.",
        "Warga menyambut peresmian jembatan itu dengan gembira dan penuh harapan besar.",
        "Ikuti kami di media sosial untuk berita terbaru setiap hari tanpa ketinggalan.",
        "Menu utama situs berita",
    ])
    text = clean_text(body).text
    assert text.split("\n\n") == [
        "Presiden meresmikan jembatan baru di Kalimantan Timur pada hari Senin pagi ini.",
        "Warga menyambut peresmian jembatan itu dengan gembira dan penuh harapan besar.",
    ]


def test_html_main_text_and_metadata() -> None:
    paragraphs = [
        "The city council approved the new budget on Tuesday after a long debate.",
        "Council members said the plan would fund schools, roads and public transport.",
        "The mayor welcomed the decision and promised to publish quarterly reports.",
    ]
    html = (
        "<html><head><title>Budget approved | City News</title>"
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head>'
        "<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article>"
        "<h1>Budget approved</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article><footer>Copyright City News. All rights reserved.</footer></body></html>"
    )
    cleaned = clean_html(html, "https://citynews.example/budget")
    assert cleaned.text.split("\n\n") == paragraphs
    assert cleaned.author == "Jane Doe"
    assert cleaned.published_at == "2024-03-05"
    assert cleaned.title is not None and "Budget approved" in cleaned.title


def test_article_without_text_is_rejected() -> None:
    raw = raw_article_from_dict(raw_article(body="<html><body><nav>Home</nav></body></html>",
                                            content_type="text/html"))
    with pytest.raises(Rejected) as caught:
        clean_article(raw)
    assert caught.value.code == "no_text"


def test_crawler_metadata_wins_over_extracted() -> None:
    raw = raw_article_from_dict(raw_article(title="Given title", published_at="2023-07-30",
                                            source="Kompas"))
    cleaned = clean_article(raw)
    assert (cleaned.title, cleaned.published_at, cleaned.source) == (
        "Given title", "2023-07-30", "Kompas")


LEAD = "Tahun depan, dua produsen otomotif asal China mulai meramaikan industri otomotif di sini."
BODY = [
    "Menurut Nangoi, produsen otomotif baru yang mendirikan pabrik di Indonesia itu bagus sekali.",
    "Sebab, selain menguntungkan bagi pabrikan itu sendiri, bisa menyerap tenaga kerja lokal.",
    "Nangoi melanjutkan, sukses atau tidaknya merek itu ditentukan oleh konsumen di Indonesia.",
]
JUNK = ["Google Umbar Kelemahan Galaxy S6 Edge", "- Kamis, 05/11/2015 09:25 WIB",
        "Xiaomi Siapkan Ponsel Baru", "- Rabu, 04/11/2015 23:45 WIB"]


def test_readability_adds_a_lead_trafilatura_missed() -> None:
    assert choose_extraction(BODY, [LEAD, *BODY]) == [LEAD, *BODY]


def test_photo_captions_are_not_taken_as_a_missed_lead() -> None:
    caption = "Warga berfoto di depan pabrik baru di Karawang, Jawa Barat, Senin. (Foto: Antara)"
    assert choose_extraction(BODY, [caption, *BODY]) == BODY


def test_readability_wins_when_trafilatura_took_boilerplate_along() -> None:
    assert choose_extraction([*BODY, *JUNK], BODY) == BODY


def test_body_text_readability_dropped_is_kept() -> None:
    intro = ("Eines der großen Probleme, mit denen wir zu kämpfen haben, ist die "
             "Luftverschmutzung, und woher sie kommt, erklären wir hier.")
    assert choose_extraction([intro, *BODY, *JUNK[:2]], BODY) == [intro, *BODY]


def test_one_empty_extraction_gives_the_other() -> None:
    assert choose_extraction([], BODY) == BODY
    assert choose_extraction(BODY, []) == BODY


def _figures(captions: list[str]) -> str:
    return "".join(f"<figure><img src='p{i}.jpg'><figcaption>{caption}</figcaption></figure>"
                   for i, caption in enumerate(captions))


CAPTIONS = [
    "Penyanyi itu memeluk sahabatnya saat berpose di karpet merah di Los Angeles, Senin (15/2).",
    "Keduanya berpose untuk fotografer saat tiba di karpet merah Grammy Awards di Los Angeles.",
    "Mereka tampak berbincang di sela acara penghargaan musik bergengsi itu pada Senin malam.",
]
SIDEBAR = [
    "Warga antre bantuan beras di kantor kelurahan di Jakarta Utara pada Senin pagi (15/2/2016).",
    "Pemain tim nasional berlatih di stadion utama menjelang laga persahabatan pekan depan ini.",
    "Pengunjung memadati pameran otomotif terbesar di Jakarta pada hari terakhir penyelenggaraan.",
]


def test_a_photo_story_is_its_gallery_captions() -> None:
    html = (f'<html><head><meta property="og:description" content="{CAPTIONS[0]}"></head><body>'
            f'<div class="gallery">{_figures(CAPTIONS)}</div>'
            f'<aside><div class="latest">{"".join(f"<p>{s}</p>" for s in SIDEBAR)}</div></aside>'
            "</body></html>")
    assert clean_html(html, "https://photo.example.com/musik/1").text.split("\n\n") == CAPTIONS


def test_a_gallery_in_an_article_does_not_replace_its_text() -> None:
    html = (f'<html><head><meta property="og:description" content="{BODY[0]}"></head><body>'
            f'<article>{"".join(f"<p>{p}</p>" for p in [LEAD, *BODY])}'
            f'<div class="gallery">{_figures(CAPTIONS)}</div></article></body></html>')
    text = clean_html(html, "https://news.example.com/read/1").text
    assert BODY[-1] in text
    assert CAPTIONS[0] not in text


def test_tables_and_credit_rows_of_a_layout_table_are_not_body_text() -> None:
    credits = "<table><tr><td>Penulis</td><td>: Aditya Maulana</td></tr>" \
              "<tr><td>Editor</td><td>: Agung Kurniawan</td></tr></table>"
    data = "<table><tr><th>Merek</th><th>Unit</th></tr><tr><td>Wuling</td><td>120</td></tr></table>"
    html = (f"<html><body><article>{''.join(f'<p>{p}</p>' for p in [LEAD, *BODY])}"
            f"{data}{credits}</article></body></html>")
    text = clean_html(html, "https://otomotif.example.com/read/1").text
    assert BODY[-1] in text
    # Tables are not article text: a rate box, a standings table, a page's metadata in cells.
    assert "Wuling" not in text
    assert "Aditya Maulana" not in text and "Penulis" not in text


FIRST_HALF = [f"In week {i} the harbour board reviewed how ships number {i} were unloaded, "
              f"which cranes broke down, and why the night shift {i} ran short of workers."
              for i in range(14)]  # ~330 words
SECOND_HALF = [f"Later, passengers on line {i} told reporters that trains often arrived late "
               f"because signals near station {i} failed during heavy rain in spring."
               for i in range(14)]


def test_an_article_split_over_containers_is_put_back_together() -> None:
    generic = [*SECOND_HALF, "More Great Stories"]
    assert choose_extraction(FIRST_HALF, generic) == [*FIRST_HALF, *SECOND_HALF]


def test_a_short_unrelated_block_is_not_added() -> None:
    assert choose_extraction(FIRST_HALF, SECOND_HALF[:3]) == FIRST_HALF


def test_a_line_both_extractors_found_is_kept_whatever_its_formatting() -> None:
    quoted = [f"„{line[:-1]}“." for line in BODY]  # trafilatura's copy, other quote marks
    kept = choose_extraction([*quoted, *JUNK[:2]], BODY)
    assert kept == quoted


def test_decomposed_accents_come_out_composed() -> None:
    decomposed = "Die Prüfung in München dauerte bis zum späten Abend des Tages."
    decomposed = decomposed.replace("ü", "u\u0308").replace("ä", "a\u0308")
    html = f"<html><body><article><p>{decomposed}</p>{''.join(f'<p>{p}</p>' for p in BODY)}" \
           "</article></body></html>"
    assert "Prüfung in München" in clean_html(html, "https://news.example.de/a").text
    assert "Prüfung in München" in clean_text(decomposed + "\n" + "\n".join(BODY)).text


SHORT_STORY = "\n".join([
    "Son of former German president stabbed to death in Berlin - Breaking News - The Post",
    "", "Login",
    "Arab Israeli Conflict Israel News Opinion Middle East Diaspora Politics World News",
    "BREAKING NEWS", "",
    "Son of former German president stabbed to death in Berlin", "",
    "By POST STAFF", "NOVEMBER 20, 2019 10:43",
    "The son of the former German president was stabbed to death, while another man was "
    "critically injured in an attempt to stop the assailant, Kan reported on Wednesday.",
    "The stabbing occurred during a presentation he led at a clinic in Berlin, where he worked "
    "as a chief physician.",
    "Liberman: Both parties are to blame for lack of unity government", "By POST STAFF",
    "Russia: Israeli strikes on Syria wrong move", "By REUTERS",
    "11 dead in Israeli strike on Syria - reports", "By POST STAFF",
    "Benny Gantz: Government will protect Israeli citizens", "By POST STAFF",
    "China condemns US Senate measure on Hong Kong rights", "By REUTERS",
    "US Senate unanimously passes Hong Kong rights bill", "By REUTERS", "",
    # A footer longer than the story, written as prose.
    "The Customer Service Center can be contacted with any questions or requests by telephone "
    "on weekdays, and it is staffed and provides answers on Sundays through Thursdays between "
    "seven and two, while on Fridays it only handles distribution requests between seven and "
    "one, for customers in the country and abroad alike, by telephone or by fax.", "",
    "Copyright © 2019 The Post Inc. All rights reserved", ""])


def test_a_short_story_after_its_headline_beats_a_longer_footer() -> None:
    text = clean_text(SHORT_STORY).text
    assert text.startswith("The son of the former German president was stabbed")
    assert "chief physician" in text
    assert "Customer Service" not in text and "Copyright" not in text


def test_lists_without_punctuation_and_contact_lines_are_not_prose() -> None:
    tags = " ".join(f"Tag{i} Administração Agricultura Campanha" for i in range(8))
    story = ("A equipe do Serviço de Atendimento Domiciliar registrou nesta manhã o "
             "arrombamento de dois automóveis da unidade, e a polícia foi até o local.")
    text = clean_text(f"Título da página\n\n{tags}\n\n{story}\n\n{story} Mais.\n").text
    assert "Agricultura" not in text
    assert text.count("arrombamento") == 2


def test_japanese_prose_counts_its_words_without_spaces() -> None:
    prose = ("Kindle書籍を読む場合は、一般的にスマホやタブレットなどのモバイル端末で読むことが"
             "多いと思いますが、パソコンでそのまま読みたい時もあります。")
    archive = " ".join(f"20{y}年{m}月" for y in range(12, 20) for m in range(1, 13))
    page = f"Kindle for PCの方法 | ノート\n\nホーム\n\n{prose}\n\n{prose}完了。\n\n{archive}\n"
    text = clean_text(page).text
    assert "Kindle書籍" in text and "2013年" not in text


def test_next_to_nothing_found_gives_trafilaturas_full_pass_a_try(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Real pages where the fast pass and readability both miss the article (a recipe tip
    whose text sits in <br>-separated divs, readability taking a teaser) cannot be rebuilt
    in a few lines: the two misses are staged here, trafilatura's full pass is real."""
    import trafilatura

    from stream.clean import html as html_module

    story = ["The council approved the new budget on Monday after a long debate about "
             "school funding and road repairs across the district.",
             "In the end the budget passed by seven votes to four, and the mayor said the "
             "town would start the road repairs in the spring."]
    page = ("<html><head><title>Budget approved</title></head><body><h1>Budget approved</h1>"
            + "".join(f"<p>{line}</p>" for line in story) + "</body></html>")
    real = trafilatura.bare_extraction

    def fast_pass_misses(tree: object, **options: object) -> object:
        return None if options.get("fast") else real(tree, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(trafilatura, "bare_extraction", fast_pass_misses)
    monkeypatch.setattr(html_module, "readability_text", lambda tree: "Read also: in pictures")
    text = clean_html(page).text
    assert "seven votes to four" in text and "Read also" not in text


def test_pointers_to_other_articles_are_not_body_text() -> None:
    story = ["Dewan kota menyetujui anggaran baru pada hari Senin setelah perdebatan panjang "
             "tentang dana sekolah dan perbaikan jalan di seluruh kabupaten.",
             "Anggaran itu disahkan dengan tujuh suara berbanding empat, dan wali kota mengatakan "
             "perbaikan jalan akan dimulai pada musim hujan berikutnya."]
    pointers = ["Baca juga: Wali Kota Resmikan Jembatan Baru", "Lesen Sie auch:",
                "Czytaj też: Budżet miasta na 2024 rok"]
    body = "".join(f"<p>{line}</p>" for pair in zip(story, pointers[:2], strict=True)
                   for line in pair)
    page = (f"<html><head><title>Anggaran disetujui</title></head><body><article>{body}"
            f"<p>{pointers[2]}</p></article></body></html>")
    text = clean_html(page).text
    assert all(line in text for line in story)
    assert not any(pointer.split(":")[0] in text for pointer in pointers)


def test_a_photo_caption_is_not_article_text_unless_the_story_is_photos() -> None:
    caption = ("Petugas BMKG mengawasi sebaran abu vulkanik Gunung Rinjani di Banyuwangi, Kamis "
               "(5/11). (ANTARA FOTO/Budi Setya)")
    html = (f"<html><body><article><p>{caption}</p>{''.join(f'<p>{p}</p>' for p in BODY)}"
            f"</article></body></html>")
    text = clean_html(html, "https://www.antaranews.com/berita/1").text
    assert BODY[0] in text and "ANTARA FOTO" not in text
    # A link in brackets is no credit: a press release's "(Foto: http://…)" stays.
    release = BODY[0] + " (Foto: http://photos.prnewswire.com/prnh/20160219/335111-INFO)"
    kept = clean_html(f"<html><body><article>{''.join(f'<p>{p}</p>' for p in [release, *BODY[1:]])}"
                      f"</article></body></html>", "https://www.antaranews.com/berita/2").text
    assert "prnewswire" in kept
    # A photo story is its captions.
    photos = [f"Selena Gomez dan Taylor Swift berpose di karpet merah Grammy Awards ke-{n} di "
              f"Los Angeles, Senin (15/2). (REUTERS / Danny Moloshok)" for n in range(50, 56)]
    story = clean_text("Galeri foto Grammy\n\n" + "\n".join(photos)).text
    assert "Grammy Awards ke-55" in story
