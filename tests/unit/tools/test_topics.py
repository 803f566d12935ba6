"""The topic settings newsstream creates its topics with, and how a difference is reported."""

from stream.config import Settings
from stream.tools.topics import TopicSpec, differences, largest_record, topic_specs

DAY_MS = str(86_400_000)


def _specs(**overrides: object) -> dict[str, TopicSpec]:
    settings = Settings.model_validate(overrides)
    return {spec.name: spec for spec in topic_specs(settings.topics, settings.limits)}


def test_latest_value_topics_are_compacted_and_the_rest_expire() -> None:
    specs = _specs()
    assert set(specs) == {"articles.raw", "articles.enriched", "entities.mentions",
                          "entities.trending", "articles.deadletter", "newsstream.articles",
                          "newsstream.entity-events", "newsstream.trend-scores"}
    for name in ("entities.mentions", "entities.trending"):
        assert specs[name].configs["cleanup.policy"] == "compact"
        assert "retention.ms" not in specs[name].configs
    assert specs["articles.raw"].configs["retention.ms"] == str(7 * int(DAY_MS))
    assert specs["articles.enriched"].configs["retention.ms"] == str(30 * int(DAY_MS))
    assert specs["articles.deadletter"].configs["cleanup.policy"] == "delete"
    assert (specs["newsstream.articles"].partitions, specs["newsstream.trend-scores"].partitions,
            specs["articles.raw"].partitions) == (1, 1, 4)


def test_retention_is_configurable_and_minus_one_keeps_forever() -> None:
    specs = _specs(raw_retention_s=3600, deadletter_retention_s=-1)
    assert specs["articles.raw"].configs["retention.ms"] == "3600000"
    assert specs["articles.deadletter"].configs["retention.ms"] == "-1"


def test_message_sizes_follow_the_payload_limits() -> None:
    settings = Settings(max_payload_bytes=5_000_000, deadletter_payload_bytes=65_536)
    specs = {spec.name: spec for spec in topic_specs(settings.topics, settings.limits)}
    raw = int(specs["articles.raw"].configs["max.message.bytes"])
    enriched = int(specs["articles.enriched"].configs["max.message.bytes"])
    deadletter = int(specs["articles.deadletter"].configs["max.message.bytes"])
    # a raw record past the limit still reaches the worker (and becomes an oversize dead letter)
    assert raw > settings.max_payload_bytes
    # what the worker's producer may send fits where it sends it
    assert enriched >= largest_record(settings.limits) and raw >= largest_record(settings.limits)
    # a bounded dead letter fits: its payload escaped as JSON grows at most six-fold
    assert deadletter >= 6 * settings.deadletter_payload_bytes + 2_000 + 1_024
    assert int(_specs(max_payload_bytes=40_000_000)["articles.enriched"]
               .configs["max.message.bytes"]) == 80_000_000


def test_differences_name_what_differs_and_ignore_other_settings() -> None:
    spec = TopicSpec("entities.mentions", 4, {"cleanup.policy": "compact",
                                              "max.message.bytes": "1048576"})
    assert differences(spec, 4, {"cleanup.policy": "compact", "max.message.bytes": "1048576",
                                 "segment.ms": "604800000"}) == []
    assert differences(spec, 2, {"cleanup.policy": "delete"}) == [
        "partitions 2, wanted 4", "cleanup.policy=delete, wanted compact",
        "max.message.bytes=None, wanted 1048576"]
