"""The ledger through a job's life (issue 10): the estimate is reserved at submit, the cost from
``usage`` is billed on success, and every ending without a video is refunded automatically; the
usage report reads the same numbers."""

from __future__ import annotations

from core.domain.errors import Kind, ProviderError
from core.domain.jobs import JobStatus, JobView
from core.domain.ledger import ChargeState, Scope, charge_of, month_start
from core.domain.policy import Member
from tests.core.fakes import FakeClock, FakeVideoProvider, RecordingPort, png
from tests.core.rig import CHAT, SPEC, Rig, run_until

DONE = {JobStatus.DELIVERED}


async def finish(service: Rig, clock: FakeClock, port: RecordingPort, view: JobView) -> JobView:
    await run_until(service, clock, port, DONE, [view.id])
    return await service.service.get_view(view.id)


async def test_every_ending_without_a_video_is_refunded_and_the_notice_says_so(
    service: Rig, clock: FakeClock, provider: FakeVideoProvider, port: RecordingPort
) -> None:
    async def submit() -> JobView:
        view = await service.service.submit(spec=SPEC, image=png(), chat=CHAT)
        assert charge_of(view).state is ChargeState.RESERVED and view.cost_estimate == 2.5
        return view

    made = await finish(service, clock, port, await submit())
    assert (made.usage_seconds, made.cost) == (5.0, 2.5)
    assert charge_of(made).state is ChargeState.BILLED

    provider.fail_next.append(("DataInspectionFailed", "Output data may contain inappropriate"))
    moderated = await finish(service, clock, port, await submit())

    provider.create_errors.append(
        ProviderError("rejected", kind=Kind.INVALID_INPUT, retryable=False, key="input.settings")
    )
    failed = await finish(service, clock, port, await submit())

    waiting = await submit()
    await service.cancel(waiting.id, user=CHAT.user, moderator=False)
    canceled_here = await finish(service, clock, port, waiting)

    pending = await submit()
    await service.poll_once()  # the task now waits in DashScope's queue
    await service.cancel(pending.id, user=CHAT.user, moderator=False)
    canceled_there = await finish(service, clock, port, pending)

    forgotten = await submit()
    await service.poll_once()
    provider.tasks.clear()  # DashScope answers UNKNOWN: the task is gone
    expired = await finish(service, clock, port, forgotten)

    endings = [moderated, failed, canceled_here, canceled_there, expired]
    assert [j.status for j in endings] == [JobStatus.DELIVERED] * 5  # the notice is posted
    assert [j.error_key for j in endings] == [
        "moderation",  # the fake's moderation error names only its kind
        "input.settings",
        "job.canceled",
        "job.canceled",
        "task.forgotten",
    ]
    assert moderated.error_code == "DataInspectionFailed"
    assert all(charge_of(j).state is ChargeState.REFUNDED for j in endings)
    notices = {v.id: v for v in port.failures}
    assert sorted(notices) == sorted(j.id for j in endings)  # each told, once
    assert all(charge_of(v).state is ChargeState.REFUNDED for v in notices.values())

    spent = await service.store.spend(Scope.of_guild("discord", "g1"), month_start(clock.now()))
    assert (spent.videos, spent.refunded, spent.seconds, spent.money) == (1, 5, 5.0, 2.5)
    report = await service.usage(CHAT, Member(admin=True), server=True)
    assert report.personal.today == spent and report.personal.active == 0
    assert report.server is not None and report.server.month == spent
    assert [u for u, _ in report.server.top_users] == [CHAT.user]
    assert [m for m, _ in report.server.by_model] == ["wan2.6-i2v-flash"]
