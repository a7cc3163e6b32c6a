"""The delivery router and the deliverer: a job goes to its platform's port, and a job whose
platform has no ready port in this process stays due, never failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.jobs import ChatRef, JobStatus
from core.engine.router import DeliveryRouter
from tests.core.fakes import FakeClock, RecordingPort, png
from tests.core.rig import SPEC, Rig, run_until


def test_a_port_is_found_by_platform_once_ready() -> None:
    router = DeliveryRouter()
    discord, slack = RecordingPort(), RecordingPort()
    up = {"discord": False}
    router.register("discord", discord, ready=lambda: up["discord"])
    router.register("slack", slack)
    assert router.port("discord") is None and router.registered("discord")
    up["discord"] = True
    assert router.port("discord") is discord and router.port("slack") is slack
    assert router.port("matrix") is None and not router.registered("matrix")
    with pytest.raises(ValueError, match="already registered"):
        router.register("slack", RecordingPort())
    router.unregister("slack")
    assert router.port("slack") is None


async def test_jobs_of_an_unserved_platform_wait_and_others_are_delivered(
    service: Rig, clock: FakeClock, port: RecordingPort
) -> None:
    here = await service.submit(spec=SPEC, image=png(), chat=ChatRef("discord", "u1", "c1"))
    away = await service.submit(spec=SPEC, image=png(), chat=ChatRef("slack", "U1", "C1"))
    await run_until(service, clock, port, {JobStatus.DELIVERED}, [here.id])
    waiting = await service.store.get_job(away.id)
    assert waiting is not None and waiting.status is JobStatus.DOWNLOADED  # never failed
    assert waiting.deliver_at is not None and waiting.deliver_at > clock.now()  # looked later
    assert [r.id for r in port.results] == [here.id]
    # once a port for it registers, it is delivered like any other
    slack = RecordingPort()
    service.rt.router.register("slack", slack)
    clock.advance(service.rt.config.unrouted_retry)
    assert await service.rt.deliverer.deliver_once(clock.now()) == 1
    assert [r.id for r in slack.results] == [away.id]


async def test_a_registered_port_not_ready_yet_leaves_its_jobs_untouched(
    service: Rig, clock: FakeClock, port: RecordingPort
) -> None:
    view = await service.submit(spec=SPEC, image=png(), chat=ChatRef("discord", "u1", "c1"))
    await run_until(service, clock, port, {JobStatus.DOWNLOADED}, [view.id], deliver=False)
    before = await service.store.get_job(view.id)
    service.rt.router.unregister("discord")
    service.rt.router.register("discord", port, ready=lambda: False)
    assert await service.rt.deliverer.deliver_once(clock.now() + timedelta(seconds=1)) == 0
    after = await service.store.get_job(view.id)
    assert after == before  # not written: due as it was, delivered as soon as the client is up
