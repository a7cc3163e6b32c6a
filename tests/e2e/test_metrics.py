"""/metrics after a real job: the counters the wrappers kept and the gauges read from the store."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import BotMetrics
from bot.web import serve
from core.domain.catalog import DEFAULT_MODEL, Region
from core.domain.jobs import JobStatus
from tests.e2e.harness import World, results_in

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(world: World, metrics: BotMetrics) -> tuple[str, Samples]:
    assert world.running is not None
    rt = world.running.rt
    route = metrics.route(rt.store, rt.clock.now, rt.context.slots_of)
    async with (
        serve("127.0.0.1", 0, [route]) as web,
        aiohttp.ClientSession() as http,
        http.get(web.url + "/metrics") as r,
    ):
        assert r.status == 200 and r.content_type == "text/plain"
        text = await r.text()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def test_the_numbers_after_one_delivered_job(world: World) -> None:
    metrics = BotMetrics(Region.BEIJING)
    await world.start_bot(metrics=metrics)
    _, before = await scrape(world, metrics)
    assert value(before, "animate_queue_depth") == 0
    assert ("animate_jobs", frozenset({("state", "delivered"), ("model", DEFAULT_MODEL)})) not in (
        before
    )

    inter = await world.animate()
    status = world.fake.find_message(inter.original_id or 0)
    assert status is not None
    _, queued = await scrape(world, metrics)
    assert value(queued, "animate_queue_depth") == 1
    world.clock.advance(30)
    _, waited = await scrape(world, metrics)
    assert value(waited, "animate_queue_wait_seconds") >= 30, "the oldest queued job's wait"

    thread = world.thread_of(status)
    assert thread is not None
    await world.drive(lambda: results_in(world.fake, thread))
    text, after = await scrape(world, metrics)

    assert world.running is not None
    [job] = await world.running.rt.store.jobs_with_status([JobStatus.DELIVERED])
    assert job.usage_seconds and job.cost is not None
    model, region = job.spec.model, job.region
    assert value(after, "animate_jobs", state="delivered", model=model) == 1
    assert value(after, "animate_queue_depth") == 0
    assert value(after, "animate_slots_in_use", model=model) == 0
    assert value(after, "animate_slots", model=model) >= 1
    assert value(after, "animate_dashscope_requests_total", operation="create") == 1
    assert value(after, "animate_dashscope_requests_total", operation="get") >= 1
    assert value(after, "animate_dashscope_requests_total", operation="download") == 1
    assert value(after, "animate_delivery_seconds_count", platform="discord", kind="result") == 1
    assert value(after, "animate_video_seconds_total", model=model, region=region) == (
        job.usage_seconds
    )
    assert value(after, "animate_cost_total", model=model, region=region, currency="CNY") == (
        pytest.approx(job.cost)
    )
    assert value(after, "animate_poll_lag_seconds") == 0
    assert "animate_dashscope_errors_total" not in {name for name, _ in after}
    assert "python_gc" not in text and "process_" not in text, "a private registry only"
