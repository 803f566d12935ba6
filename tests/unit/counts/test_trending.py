import math
from typing import Any

from stream.counts.keys import board_key
from stream.counts.trending import merge, score_update, trend_score, trending_payload
from stream.counts.windows import Window
from tests.support.helpers import assert_valid

ENTITY: Any = {"entity_id": "PER:x", "name": "X", "label": "PER"}


def test_score_is_a_z_score_with_poisson_noise() -> None:
    assert trend_score(10, [0, 0, 0]) == (0.0, 10.0)
    mean, score = trend_score(20, [10, 10, 10])
    assert mean == 10.0 and math.isclose(score, 10 / math.sqrt(11))
    assert trend_score(5, [5, 5])[1] == 0.0
    assert trend_score(3, [])[1] == 3.0


def test_board_keeps_the_best_and_the_payload_ranks_them() -> None:
    window = Window("1h", 3600, 7200)
    board = None
    for i, mentions in enumerate([3, 30, 9, 12]):
        entity: Any = {**ENTITY, "entity_id": f"PER:{i}", "name": f"N{i}"}
        update = score_update(entity, window, mentions, [1, 1, 1])
        board = merge(board, update, keep=3)
    assert board is not None and set(board) == {"PER:1", "PER:2", "PER:3"}
    key = board_key(update["window"], update["start"])
    assert key == "1h|3600"
    payload = trending_payload(key, board, top_n=2, updated_at="2026-01-01T00:00:00.000Z")
    assert_valid("entity-trending", payload)
    assert [e["entity"]["entity_id"] for e in payload["entities"]] == ["PER:1", "PER:3"]
    assert [e["rank"] for e in payload["entities"]] == [1, 2]
    assert payload["window_start"] == "1970-01-01T01:00:00.000Z"


def test_boards_expire_after_their_sizes_retention() -> None:
    from stream.counts.trending import expired_boards

    keys = ["1m|0", "1m|900", "1h|0", "2h|0"]
    # latest 1m window ended at 1200: keep 1m windows that ended within 300 s of it
    assert expired_boards(keys, {"1m": 1200, "1h": 3600}, {60: 300.0, 3600: 7200.0}) == ["1m|0"]
