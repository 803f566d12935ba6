"""The hand-written English regression set: read right, big enough, and the English model's
F1 on it held above a floor (measured 79.2 per sentence and 83.9 per article; a change that
loses English entities fails here)."""

from stream.evaluation.english import parse_line, predicted_spans, read_set, score

SENTENCE_FLOOR = 0.77
ARTICLE_FLOOR = 0.82


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
