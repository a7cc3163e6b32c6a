"""Budget accounting from DashScope's ``usage``, for every usage shape the models send today
(issue 10): wan2.1 ``video_duration``; wan2.2 / wan2.5 ``duration`` + ``SR``; wan2.6
``duration`` + ``output_video_duration`` (+ ``audio`` on the flash model, whose silent videos
cost less); wan2.7 on the media protocol. The emulator answers each model in its own shape,
the real client parses it, the engine records the cost, and the ledger sums what was billed."""

from __future__ import annotations

from pathlib import Path

from bench._support import SimClock
from core.domain.catalog import Region, find_model
from core.domain.jobs import ChatRef, JobSpec
from core.domain.ledger import ChargeState, Scope, charge_of, month_start
from core.domain.pricing import PriceBook
from tests.core.fakes import RecordingPort, png
from tests.e2e.engine_stack import engine_stack
from tests.e2e.test_engine_on_emulator import drive

#: (model, resolution, seconds, sound): one job per usage shape
CASES = [
    ("wanx2.1-i2v-turbo", "480P", 3, True),
    ("wan2.2-i2v-flash", "480P", 5, True),
    ("wan2.5-i2v-preview", "720P", 5, True),
    ("wan2.6-i2v-flash", "720P", 2, True),
    ("wan2.6-i2v-flash", "720P", 2, False),
    ("wan2.6-i2v", "720P", 2, True),
    ("wan2.7-i2v", "720P", 2, True),
]


async def test_the_cost_of_each_usage_shape_is_billed_and_summed(tmp_path: Path) -> None:
    clock = SimClock()
    chat = ChatRef(platform="discord", user="u1", channel="c1", guild="g1")
    async with engine_stack(tmp_path, clock, duration_sigma=0.0) as stack:
        port = RecordingPort()
        ids = []
        for model, resolution, seconds, sound in CASES:
            spec = JobSpec(model, "a lighthouse", resolution, seconds, sound=sound)
            ids.append((await stack.service.submit(spec=spec, image=png(), chat=chat)).id)
        await drive(stack, port, ids)
        expected = 0.0
        for job_id, (model, resolution, seconds, sound) in zip(ids, CASES, strict=True):
            view = await stack.service.get_view(job_id)
            catalog = find_model(model)
            assert catalog is not None
            price = PriceBook(Region.BEIJING).cost(catalog, resolution, seconds, sound=sound)
            assert price is not None
            assert (view.usage_seconds, view.cost) == (seconds, price), model
            assert charge_of(view).state is ChargeState.BILLED
            expected += price
        loud, silent = [await stack.service.get_view(i) for i in ids[3:5]]
        assert silent.cost is not None and loud.cost is not None and silent.cost < loud.cost
        spent = await stack.store.spend(Scope.of_guild("discord", "g1"), month_start(clock.now()))
        assert spent.videos == len(CASES) and spent.refunded == 0
        assert abs(spent.money - expected) < 1e-9
        assert spent.seconds == sum(c[2] for c in CASES)
