"""Which results get an Extend button, and how the form words the totals."""

from __future__ import annotations

from cogs._extend_form import lengths
from cogs.buttons import result_view
from core.app.extend import extendable
from core.domain.jobs import JobSpec, JobStatus
from tests.cogs.test_embeds import job

WAN27 = JobSpec(model="wan2.7-i2v", prompt="p", resolution="720P", duration=5)


def test_only_a_delivered_video_its_model_can_continue_gets_extend() -> None:
    done = job(status=JobStatus.DELIVERED, spec=WAN27, video_path="/r/1.mp4")
    assert extendable(done)
    ids = [getattr(i, "custom_id", "") for i in result_view(done).children]
    assert ids == ["animate:regen:7", "animate:show:7", "animate:extend:7"]
    assert not extendable(job(status=JobStatus.DELIVERED, spec=WAN27))  # no file kept
    assert not extendable(job(status=JobStatus.DELIVERED, video_path="/r/1.mp4"))  # wan2.6
    assert not extendable(
        job(status=JobStatus.DELIVERED, spec=WAN27, video_path="/r/1.mp4", region="ap-southeast-1")
    ), "no temporary storage in Singapore: a clip cannot be sent"
    assert not extendable(
        job(status=JobStatus.DELIVERED, spec=WAN27, video_path="/r/1.mp4", region="mars-1")
    )


def test_the_totals_read_as_a_range_when_they_are_one() -> None:
    assert lengths(tuple(range(6, 16))) == "6-15"
    assert lengths((5, 10, 15)) == "5, 10, 15"
    assert lengths((14, 15)) == "14, 15"
