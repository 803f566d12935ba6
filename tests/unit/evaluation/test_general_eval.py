"""The general-page evaluation reads trafilatura's annotation format and scores it as
trafilatura does."""

import json
from pathlib import Path

from evaluation.general import norm, read_pages, score


def test_pages_are_read_from_a_checkout_and_scored_by_their_chunks(tmp_path: Path) -> None:
    (tmp_path / "tests" / "eval").mkdir(parents=True)
    (tmp_path / "tests" / "eval" / "a.html").write_text("<p>Body</p>", encoding="utf-8")
    (tmp_path / "tests" / "eval" / "b.html").write_bytes("<p>Gr\xfc\xdfe</p>".encode("latin-1"))
    (tmp_path / "tests" / "evaldata.json").write_text(json.dumps({
        "https://a.example/1": {"file": "a.html", "with": ["kept  text", "lost"],
                                "without": ["Impressum"]},
        "hard::b": {"file": "b.html", "with": ["Grüße"], "without": ["Menu"]},
        "https://gone.example/": {"file": "missing.html", "with": ["x"], "without": ["y"]}}))
    pages = read_pages(tmp_path)
    assert [p.url for p in pages] == ["https://a.example/1", "https://eval.invalid/b.html"]
    assert pages[1].body == "<p>Grüße</p>" and pages[0].with_chunks == ("kept text", "lost")
    texts = {pages[0].key: norm("the kept text and the Impressum"), pages[1].key: "Grüße"}
    precision, recall, f1 = score(pages, texts)
    assert (precision, recall) == (2 / 3, 2 / 3) and abs(f1 - 2 / 3) < 1e-9
