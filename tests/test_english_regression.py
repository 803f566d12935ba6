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


def test_only_sentences_without_a_possible_name_are_left_unread() -> None:
    from stream.entities.models.english import can_hold_a_name

    assert not can_hold_a_name("The committee met on a rainy day .".split())
    assert not can_hold_a_name("He said it was over .".split())
    assert not can_hold_a_name([])
    # a name-like opener, a capital further on, an inner capital, an all-caps opener
    assert can_hold_a_name("Apple said it was over .".split())
    assert can_hold_a_name("May said it was over .".split())
    assert can_hold_a_name("He met Joko Widodo .".split())
    assert can_hold_a_name("The new iPhone sells .".split())
    assert can_hold_a_name("US officials said so .".split())
    assert can_hold_a_name("THE END".split())


def test_skipping_unreadable_sentences_changes_no_entity() -> None:
    from stream.entities.models.english import SpacyEnglishTagger

    tagger = SpacyEnglishTagger()
    sentences = [s.text.split() for s in read_set()[:60]]
    sentences += [["The", "guardian", "of", "the", "moon", "said", "so", "."]]
    everything = list(tagger._nlp.pipe(
        [tagger._doc(tagger._nlp.vocab, words=words) for words in sentences]))
    for words, doc, spans in zip(sentences, everything, tagger.predict(sentences), strict=True):
        capitalised = [(e.start, e.end) for e in doc.ents if e.label_ in ("PERSON", "ORG", "GPE")
                       and any(ch.isupper() for ch in e.text)]
        assert [(s, e) for s, e, _l in spans if (s, e) in capitalised] == capitalised, words
