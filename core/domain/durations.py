"""How long a task takes: the key of what is learned, its persisted statistics, the prior.

The prior is ``Model.typical_seconds`` scaled by duration and resolution tier; finished tasks
fold their observed time into the statistics of their (model, resolution, duration). The
belief built on them and the checks it pays for are ``core.polling``; the cache over the
store's statistics is ``core.estimates``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.catalog import Model

#: relative generation time per resolution tier (pixels grow ~2.25× per tier; time less so)
_TIER = {"480P": 0.55, "720P": 0.75, "1080P": 1.0}


@dataclass(frozen=True, slots=True)
class DurationKey:
    model: str
    resolution: str
    duration: int


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Learned generation time of one key: the (windowed) count, mean and variance of
    log(seconds) — ``core.polling.Belief`` as the store keeps it."""

    samples: int
    log_mean: float
    log_var: float


def prior_median(model: Model, resolution: str, duration: int) -> float:
    """Typical seconds scaled from the model's default settings to these ones."""
    tier = _TIER.get(resolution, 1.0) / _TIER.get(model.default_resolution, 1.0)
    length = 0.4 + 0.6 * duration / max(model.default_duration, 1)
    return max(5.0, model.typical_seconds * tier * length)
