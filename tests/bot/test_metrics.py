"""The metrics wrappers: DashScope errors by code, failed posts by platform, pushed events, fit
times; each registry private to its runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.metrics import BotMetrics
from core.domain.errors import Kind, ProviderError
from core.domain.jobs import ChatRef, JobSpec, JobStatus, JobView
from core.domain.regions import Region
from core.domain.tasks import TaskEvent, TaskStatus
from core.engine.router import DeliveryRouter
from core.ports import DeliveryError
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def sample(metrics: BotMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def view() -> JobView:
    return JobView(
        id=7,
        status=JobStatus.DOWNLOADED,
        spec=JobSpec(model="wan2.6-i2v-flash", prompt="p", resolution="720P", duration=5),
        chat=ChatRef(platform="discord", user="1", channel="2", guild="3", thread="4"),
        created_at=T0,
        updated_at=T0,
        usage_seconds=5.0,
        cost=1.5,
    )


async def test_dashscope_errors_are_counted_by_code_and_passed_on() -> None:
    metrics = BotMetrics(Region.BEIJING)
    fake = FakeVideoProvider(FakeClock())
    refused = ProviderError("slow down", kind=Kind.RATE_LIMITED, retryable=True, code="Throttling")
    fake.get_errors.append(refused)
    fake.get_errors.append(ProviderError("down", kind=Kind.BUSY, retryable=True))
    provider = metrics.provider(fake)
    for _ in range(2):
        with pytest.raises(ProviderError):
            await provider.get_task("t-1")
    assert sample(metrics, "animate_dashscope_requests_total", operation="get") == 2
    assert sample(metrics, "animate_dashscope_errors_total", operation="get", code="Throttling")
    assert sample(metrics, "animate_dashscope_errors_total", operation="get", code="busy") == 1


async def test_posts_are_timed_and_failures_counted_per_platform() -> None:
    metrics = BotMetrics(Region.BEIJING)
    router = DeliveryRouter(wrap=metrics.port)
    inner = RecordingPort()
    router.register("slack", inner)
    router.register("slack", inner, ready=lambda: True)  # the same port again: one wrapper
    port = router.port("slack")
    assert port is not None and port is not inner
    inner.errors.append(DeliveryError("gone", permanent=True))
    with pytest.raises(DeliveryError):
        await port.post_result(view())
    assert await port.post_result(view()) == "msg-7"
    assert inner.results == [view()], "the wrapped port posted it, unchanged"
    labels = {"platform": "slack", "permanent": "true"}
    assert sample(metrics, "animate_delivery_failures_total", **labels) == 1
    assert sample(metrics, "animate_delivery_seconds_count", platform="slack", kind="result") == 1
    model = {"model": "wan2.6-i2v-flash", "region": "cn-beijing"}
    assert sample(metrics, "animate_video_seconds_total", **model) == 5.0
    assert sample(metrics, "animate_cost_total", **model, currency="CNY") == 1.5


async def test_pushed_events_and_fit_times() -> None:
    metrics = BotMetrics(Region.BEIJING)
    seen: set[str] = set()

    def offer(event: TaskEvent) -> bool:
        new = event.event_id not in seen
        seen.add(event.event_id)
        return new

    counted = metrics.push(offer)
    event = TaskEvent(event_id="e-1", task_id="t-1", status=TaskStatus.SUCCEEDED)
    assert counted(event) is True and counted(event) is False
    assert sample(metrics, "animate_push_events_total", outcome="new") == 1
    assert sample(metrics, "animate_push_events_total", outcome="repeat") == 1

    async def fit(src: Path, dest: Path, max_bytes: int) -> Path | None:
        return dest

    assert await metrics.fit(fit)(Path("a"), Path("b"), 10) == Path("b")
    assert sample(metrics, "animate_media_fit_seconds_count") == 1


def test_each_runtime_has_its_own_registry() -> None:
    one, two = BotMetrics(Region.BEIJING), BotMetrics(Region.BEIJING)
    one.pushes.labels("new").inc()
    assert sample(one, "animate_push_events_total", outcome="new") == 1
    assert sample(two, "animate_push_events_total", outcome="new") is None
    assert REGISTRY.get_sample_value("animate_push_events_total", {"outcome": "new"}) is None
