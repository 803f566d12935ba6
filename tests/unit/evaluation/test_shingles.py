import pytest

from evaluation.extraction_metric import match, scores


def test_identical_text_scores_one_and_disjoint_zero() -> None:
    text = "one two three four five six seven"
    assert scores([match(text, text)]) == (1.0, 1.0, 1.0)
    assert scores([match(text, "alpha beta gamma delta epsilon")])[2] == 0.0


def test_extra_text_costs_precision_not_recall() -> None:
    gold = "a b c d e f g h"
    precision, recall, _ = scores([match(gold, gold + " x y z w")])
    assert recall == 1.0
    assert precision == pytest.approx(5 / 9)
