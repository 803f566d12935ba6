from stream.clean.language import UNDETERMINED, detect_language
from tests.support.helpers import SAMPLE_TEXT


def test_indonesian_news_is_id_not_malay() -> None:
    assert detect_language(SAMPLE_TEXT) == "id"
    assert detect_language("Menteri Luar Negeri Amerika Serikat pada Sabtu menyebut") == "id"


def test_english() -> None:
    text = "The foreign minister said on Saturday that talks would resume next week."
    assert detect_language(text) == "en"


def test_short_text_falls_back_to_the_hint() -> None:
    assert detect_language("ok", "EN") == "en"
    assert detect_language("ok") == UNDETERMINED
