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


def test_a_new_version_replaces_its_family_only(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached_pickle("model-v1.pickle", lambda: 1, family="model-")
    cached_pickle("other-v1.pickle", lambda: 3, family="other-")
    assert cached_pickle("model-v2.pickle", lambda: 2, family="model-") == 2
    assert sorted(p.name for p in cache_dir().iterdir()) == ["model-v2.pickle",
                                                             "other-v1.pickle"]


def test_the_mapped_language_model_ranks_as_the_packed_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from py3langid.langid import _load_identifier

    from stream.clean import language

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._identifier.cache_clear()
    written = language._identifier()  # built and written to the cache
    language._identifier.cache_clear()
    mapped = language._identifier()  # read back, memory-mapped
    language._identifier.cache_clear()
    assert isinstance(mapped.tk_nextmove, memoryview)
    packed = _load_identifier(norm_probs=True)
    for text in ("Menteri Luar Negeri Amerika Serikat tiba di Jakarta pada hari Senin.",
                 "The minister arrived in Jakarta on Monday for talks.",
                 "Der Minister kam am Montag zu Gesprächen in Jakarta an."):
        assert mapped.rank(text)[:3] == packed.rank(text)[:3] == written.rank(text)[:3]
