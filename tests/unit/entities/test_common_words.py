"""Words a model tags for their capital letter are not names; names written the same stay."""

from stream.entities.common_words import drop_common_words
from stream.entities.mentions import Mention


def _mentions(text: str, *tagged: tuple[str, str]) -> list[Mention]:
    """Each (surface, label) at its first occurrence in ``text``."""
    return [Mention(surface, label, text.index(surface), text.index(surface) + len(surface))
            for surface, label in tagged]


def _kept(text: str, language: str, *tagged: tuple[str, str],
          known: dict[str, str] | None = None) -> list[str]:
    return [m.text for m in drop_common_words(text, _mentions(text, *tagged), language,
                                              known or {})]


def test_a_heading_in_title_case_is_not_a_name_the_article_writes_in_lower_case() -> None:
    text = ("Tentang Istithaah Kesehatan Jemaah Haji. Data kesehatan calon jemaah haji "
            "didapatkan oleh Kota Banjarmasin.")
    assert _kept(text, "id", ("Jemaah Haji", "PER"), ("Kota Banjarmasin", "LOC")) == [
        "Kota Banjarmasin"]


def test_one_word_in_lower_case_elsewhere_drops_in_english_or_at_a_sentence_start() -> None:
    text = ("Televised debates are new. The BBC showed a televised debate. Getting to the Moon "
            "is hard; the moon is far.")
    assert _kept(text, "en", ("Televised", "LOC"), ("BBC", "ORG"), ("Moon", "PER")) == ["BBC"]
    # Indonesian one-word names are often words too ("Indah", "indah"): only at a sentence
    # start is the capital no evidence of a name.
    text = "Kata Indah, pemandangan itu indah. Pemandangan dilihat wisatawan."
    assert _kept(text, "id", ("Indah", "PER"), ("Pemandangan", "ORG")) == ["Indah"]


def test_a_word_of_a_persons_full_name_stays_though_written_in_lower_case() -> None:
    text = "Theresa May said Britain may leave. May added that she may stay."
    mentions = [*_mentions(text, ("Theresa May", "PER")), Mention("May", "PER", 36, 39)]
    assert [m.text for m in drop_common_words(text, mentions, "en", {})] == ["Theresa May", "May"]
    assert [m.text for m in drop_common_words(text, mentions[1:], "en", {})] == []


def test_months_in_dates_weekdays_and_currencies_are_not_entities() -> None:
    text = "Britain would leave the EU on Oct. 31, NASA said on Monday. | USD | 13396.00 |"
    kept = _kept(text, "en", ("Britain", "LOC"), ("EU", "ORG"), ("Oct", "LOC"), ("NASA", "ORG"),
                 ("Monday", "ORG"), ("USD", "ORG"))
    assert kept == ["Britain", "EU", "NASA"]
    # A month without a number is a name ("June Carter", "April" as a person).
    assert _kept("April said so.", "en", ("April", "PER")) == ["April"]


def test_an_english_span_without_a_capital_is_dropped_unless_the_text_has_none() -> None:
    text = "Jupiter's moon Europa may hold water."
    assert _kept(text, "en", ("moon", "PER"), ("Europa", "LOC")) == ["Europa"]
    lower = "Presiden joko widodo tiba di jakarta."
    assert _kept(lower, "id", ("joko widodo", "PER"), ("jakarta", "LOC")) == [
        "joko widodo", "jakarta"]  # Indonesian web text writes names in lower case too
    assert _kept(lower.lower(), "en", ("joko widodo", "PER")) == ["joko widodo"]


def test_known_names_always_stay() -> None:
    text = "Amerika Serikat dan amerika serikat. Indonesia menang."
    assert _kept(text, "id", ("Amerika Serikat", "LOC"),
                 known={"Amerika Serikat": "LOC"}) == ["Amerika Serikat"]


def test_a_word_is_found_as_the_regular_expression_finds_it() -> None:
    import re

    from stream.entities.common_words import _written_as_word

    text = "calon jemaah haji_x, jemaahhaji; (jemaah haji) é-jemaah haji2 ünited états."
    for word in ("jemaah haji", "haji", "jemaahhaji", "jemaah", "ünited", "états", "x",
                 "haji2", "nited", "tats", "é", "calon jemaah"):
        expected = re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text) is not None
        assert _written_as_word(text, word) == expected, word
