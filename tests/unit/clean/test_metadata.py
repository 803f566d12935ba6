from stream.clean.metadata import clean_author, clean_title, date_in_text, date_in_url


def test_site_name_is_cut_from_titles() -> None:
    assert clean_title("Budget approved | City News", "citynews.example") == "Budget approved"
    assert clean_title("29 penerbangan dibatalkan - ANTARA News", "antaranews.com") == (
        "29 penerbangan dibatalkan")
    assert clean_title("Kompas.com - Harga BBM naik", "kompas.com") == "Harga BBM naik"
    assert clean_title("Pro - Contra of budget", "citynews.example") == "Pro - Contra of budget"


def test_author_labels_and_publishers_are_removed() -> None:
    assert clean_author("Penulis: Irawan Sapto Adhi", "kompas.com") == "Irawan Sapto Adhi"
    assert clean_author("Fino Yurio Kristo - detikinet", "inet.detik.com") == "Fino Yurio Kristo"
    assert clean_author("Kompas.com", "kompas.com") is None
    assert clean_author("By Jane Doe", "x.example") == "Jane Doe"


def test_dates_in_text_and_urls() -> None:
    assert date_in_text("Kompas.com - 29/07/2023, 15:00 WIB") == "2023-07-29"
    assert date_in_text("Monday November 18, 2019 7:45 am PST") == "2019-11-18"
    assert date_in_text("Kamis, 5 November 2015 10:08") == "2015-11-05"
    assert date_in_text("Sabtu, 29 Juli 2023") == "2023-07-29"
    assert date_in_text("31/02/2023 is not a date") is None
    assert date_in_url("https://www.vox.com/2019/11/8/20948348/delhi") == "2019-11-08"
    assert date_in_url("https://example.com/a/b") is None


def test_site_prefix_with_colon_and_sister_sites_are_cut() -> None:
    assert clean_title("KapanLagi.com: Brandon Salim di 'HEART BEAT'", "kapanlagi.com") == (
        "Brandon Salim di 'HEART BEAT'")
    assert clean_title("Jamaah Haji Ikuti Pemeriksaan - ihram.co.id", "republika.co.id") == (
        "Jamaah Haji Ikuti Pemeriksaan")
