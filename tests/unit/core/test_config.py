import pytest

from stream.config import Settings


def test_environment_overrides_with_comma_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_INPUT_TOPICS", "crawl.a, crawl.b")
    monkeypatch.setenv("NEWSSTREAM_COUNT_WINDOWS_S", "60,3600")
    monkeypatch.setenv("NEWSSTREAM_BROKER_URL", "kafka://k1:9092;k2:9092")
    settings = Settings()
    assert settings.input_topics == ["crawl.a", "crawl.b"]
    assert settings.count_windows_s == [60, 3600]
    assert settings.connection.bootstrap_servers == "k1:9092,k2:9092"
    assert settings.topics.all[:2] == ["crawl.a", "crawl.b"]


def test_bad_values_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSSTREAM_PARTITIONS", "many")
    with pytest.raises(ValueError):
        Settings()
