"""The hand-written English regression set: read right, big enough, and the English model's
F1 on it held above a floor (the fast tier measured 77.4 per sentence and 81.6 per article on
the 336 sentences; a change that loses English entities fails here)."""

from evaluation.english import parse_line, predicted_spans, read_set, score
from evaluation.report import tier_env

SENTENCE_FLOOR = 0.76
ARTICLE_FLOOR = 0.80
# The accurate tier (e5 with spaCy's vote): measured 87.3 per sentence, 88.2 per article.
ACCURATE_SENTENCE_FLOOR = 0.86
ACCURATE_ARTICLE_FLOOR = 0.87


def test_marks_become_spans_and_other_brackets_stay_text() -> None:
    sentence = parse_line("a1\t[PER Owen Dempsey] of the [ORG NSC] took 30 min[ute] in [LOC UK].")
    assert sentence.text == "Owen Dempsey of the NSC took 30 min[ute] in UK."
    assert {(sentence.text[s:e], label) for s, e, label in sentence.spans} == {
        ("Owen Dempsey", "PER"), ("NSC", "ORG"), ("UK", "LOC")}


def test_the_set_has_at_least_200_sentences_with_exact_spans() -> None:
    sentences = read_set()
    assert len(sentences) >= 200
    assert sum(len(s.spans) for s in sentences) >= 400
    for sentence in sentences:
        assert "[PER " not in sentence.text and "[ORG " not in sentence.text
        for start, end, _label in sentence.spans:
            name = sentence.text[start:end]
            assert name == name.strip() and not name.startswith("the "), name


def test_the_english_model_stays_above_its_floor() -> None:
    sentences = read_set()
    _p, _r, alone = score(sentences, predicted_spans(sentences))
    _p, _r, together = score(sentences, predicted_spans(sentences, by_article=True))
    assert alone >= SENTENCE_FLOOR, alone
    assert together >= ARTICLE_FLOOR, together


def test_the_accurate_english_tier_stays_above_its_floor() -> None:
    sentences = read_set()
    env = tier_env("accurate")
    _p, _r, alone = score(sentences, predicted_spans(sentences, env=env))
    _p, _r, together = score(sentences, predicted_spans(sentences, by_article=True, env=env))
    assert alone >= ACCURATE_SENTENCE_FLOOR, alone
    assert together >= ACCURATE_ARTICLE_FLOOR, together



def test_the_model_reads_only_the_words_around_capitals() -> None:
    from stream.entities.models.english import name_windows

    def windows(sentence: str, context: int) -> list[tuple[int, int]]:
        return name_windows(sentence.split(" "), context)

    long = "He said on Monday that the long talks in the capital had ended without a deal"
    assert windows(long, 2) == [(1, 6)]
    assert windows("The committee met on a rainy day .", 5) == []
    assert name_windows([]) == []
    # a name-like opener, an inner capital, an all-caps opener; two capitals close together
    assert windows("May said it was over .", 1) == [(0, 2)]
    assert windows("the new iPhone sells well in shops", 1) == [(1, 4)]
    assert windows("US officials said so", 0) == [(0, 1)]
    assert windows("met Joko Widodo and Ma'ruf Amin", 1) == [(0, 6)]


def test_reading_windows_finds_what_reading_whole_sentences_finds() -> None:
    from stream.entities.models.english import LABELS, SpacyEnglishTagger

    tagger = SpacyEnglishTagger()
    sentences = [s.text.split() for s in read_set()]
    whole = tagger._nlp.pipe([tagger._doc(tagger._nlp.vocab, words=w) for w in sentences])
    for words, doc, spans in zip(sentences, whole, tagger.predict(sentences), strict=True):
        expected = [(e.start, e.end, LABELS[e.label_]) for e in doc.ents if e.label_ in LABELS
                    and any(ch.isupper() for ch in e.text)]
        assert [s for s in spans if any(ch.isupper() for ch in " ".join(words[s[0]:s[1]]))] \
            == expected, words
