"""The other libraries' internals newsstream relies on, each checked on its own: htmldate's month
names, trafilatura's readability port, py3langid's loader, ProcessPoolExecutor's processes."""

import contextlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import trafilatura
from htmldate import extractors as htmldate_extractors

from stream.clean.internals import Readability, load_langid_identifier
from stream.runtime.budget import pool_broken, pool_processes


def test_htmldate_finds_month_names_through_the_cached_set() -> None:
    import stream.clean.internals  # noqa: F401  (installs the cached lookup)

    months = htmldate_extractors.month_words()
    assert months is htmldate_extractors.month_words()  # built once
    assert {"januari", "january", "juli"} <= months


def test_readability_keeps_the_cleaned_article_element() -> None:
    paragraph = "<p>" + "Presiden meresmikan bandara baru di Majalengka, Jawa Barat. " * 8 + "</p>"
    tree = trafilatura.load_html(f"<html><body><nav>Menu</nav><article>{paragraph}"
                                 f"{paragraph}</article></body></html>")
    document = Readability(tree, min_text_length=25)
    document.summary()
    assert document.article is not None
    assert "Majalengka" in document.article.text_content()


def test_py3langid_loads_its_shipped_model() -> None:
    identifier = load_langid_identifier()
    language, _probability = identifier.classify("Presiden Joko Widodo meresmikan bandara "
                                                 "baru di Majalengka pada hari Senin.")
    assert language == "id"


def test_a_pools_processes_are_found_and_a_dead_one_breaks_it() -> None:
    with ProcessPoolExecutor(1) as pool:
        pool.submit(int).result()
        processes = pool_processes(pool)
        assert len(processes) == 1 and processes[0].is_alive()
        assert not pool_broken(pool)
        processes[0].kill()
        processes[0].join(5)
        with contextlib.suppress(BrokenProcessPool):
            pool.submit(int).result(5)
        assert pool_broken(pool)
