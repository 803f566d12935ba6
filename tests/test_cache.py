from pathlib import Path

import pytest

from stream.cache import cache_dir, cached_pickle


def test_built_once_then_read_back_and_rebuilt_when_damaged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[int] = []

    def build() -> dict[str, int]:
        calls.append(1)
        return {"answer": 42}

    assert cached_pickle("thing.pickle", build) == {"answer": 42}
    assert cached_pickle("thing.pickle", build) == {"answer": 42}
    assert len(calls) == 1
    (cache_dir() / "thing.pickle").write_bytes(b"not a pickle")
    assert cached_pickle("thing.pickle", build) == {"answer": 42}
    assert len(calls) == 2


def test_an_unwritable_cache_only_costs_time(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where a folder should be
    assert cached_pickle("x.pickle", lambda: [1, 2]) == [1, 2]
