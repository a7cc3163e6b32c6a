"""The engine's knobs: how hard to look, normally and while completion push is healthy."""

from __future__ import annotations

import math

from core.engine.config import EngineConfig
from core.polling import forecast, look_delay


def test_the_pacing_follows_the_knobs_and_backs_off_while_push_is_healthy() -> None:
    cfg = EngineConfig()
    normal, pushed = cfg.pacing(), cfg.pacing(pushed=True)
    assert (normal.lag, normal.list_lag, normal.floor, normal.ceiling, normal.stretch) == (
        cfg.poll_lag, cfg.poll_list_lag, cfg.poll_floor, cfg.poll_ceiling, cfg.poll_stretch,
    )  # fmt: skip
    assert (pushed.lag, pushed.list_lag, pushed.ceiling) == (
        cfg.push_lag, cfg.push_lag, cfg.push_ceiling,
    )  # fmt: skip
    assert math.isinf(pushed.stretch)  # sparse list looks are not pulled in by young tasks
    learned = forecast(90.0, None)
    for elapsed in (0.0, 40.0, 90.0):
        dense = look_delay([(learned, elapsed)], normal)
        sparse = look_delay([(learned, elapsed)], pushed)
        assert dense < sparse <= cfg.push_ceiling
