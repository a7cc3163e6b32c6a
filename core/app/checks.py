"""The checks a request passes before any byte is read: the server's policy, the one validation,
the quotas; and the intake that bounds requests holding attachment bytes.

``check`` is the facade's answer to "may this member ask for this here?": the place and role
allow-lists, the server's model / resolution / duration / sound / audio choices and block-list
(``core.domain.policy``), the validation (``core.domain.validation``), then the quotas read from
the ledger (``core.domain.quota``). Its ``ValidSpec`` carries the limits that applied, which
``submit`` hands to the atomic insert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.app.controls import Controls
from core.app.intake import Intake
from core.domain.catalog import CURRENCY, Region
from core.domain.jobs import ChatRef, JobSpec
from core.domain.policy import Member, check_place, shape
from core.domain.pricing import PriceBook, Quote
from core.domain.quota import Limits, Quota, price_unknown, refusal
from core.domain.validation import resolve_model, validate_spec
from core.ports import Clock, JobStore


@dataclasses.dataclass(frozen=True, slots=True)
class ValidSpec:
    """A request that passed ``check`` (or only ``validate``): ``submit`` trusts it as it is."""

    spec: JobSpec  # the catalog model id, the server's and the catalog's defaults filled in
    audio: bool  # validated as coming with an audio file
    #: the limits ``check`` found for the requester (None: only validated; submit checks)
    limits: Limits | None = None
    last_frame: bool = False  # … with an end image
    clip: bool = False  # … with a video to continue instead of the image

    @property
    def files(self) -> tuple[bool, bool, bool]:
        return (self.audio, self.last_frame, self.clip)


class Checks:
    def __init__(
        self,
        *,
        store: JobStore,
        clock: Clock,
        region: Region,
        controls: Controls,
        intakes: int,
        prices: PriceBook,
    ) -> None:
        self.store = store
        self.clock = clock
        self.region = region
        self.controls = controls
        self.prices = prices
        self._intake = Intake(concurrency=intakes)

    def validate(
        self,
        spec: JobSpec,
        *,
        audio: bool = False,
        last_frame: bool = False,
        clip: bool = False,
        image: bool | None = None,
    ) -> ValidSpec:
        """The one validation of a request (``core.domain.validation``) without the server's
        policy: ``spec`` with the catalog model id and defaults filled in, or a
        ``ValidationError`` with one clear message. No I/O. ``submit`` applies the policy and
        quotas to a spec that only passed this."""
        checked = validate_spec(
            spec, self.region, audio=audio, last_frame=last_frame, clip=clip, image=image
        )
        return ValidSpec(checked, audio, None, last_frame, clip)

    async def check(
        self,
        spec: JobSpec,
        *,
        chat: ChatRef,
        member: Member | None = None,
        audio: bool = False,
        last_frame: bool = False,
        clip: bool = False,
        image: bool | None = None,
        pending: bool = True,
    ) -> ValidSpec:
        """Everything that can refuse a request before its bytes are read, in one call: the
        server's policy (place, role, models, resolution, duration, sound, audio, block-list;
        an empty model, resolution or duration takes the server's choice), the validation,
        and the quotas (active jobs, cooldown, daily seconds, monthly budget: which limit,
        the usage and when it resets). No external call; ``submit`` checks the quotas again,
        atomically. ``pending``: count the requester's requests inside the intake (not when
        called from inside it)."""
        member = member or Member()
        policy = await self.controls.policy(chat, member)
        check_place(policy, chat, member)
        shaped = shape(spec, policy, self.region, audio=audio)
        checked = validate_spec(
            shaped, self.region, audio=audio, last_frame=last_frame, clip=clip, image=image
        )
        inside = self._intake.pending(chat) if pending else 0
        await self.quotas(chat, policy.limits, checked, inside)
        return ValidSpec(checked, audio, policy.limits, last_frame, clip)

    async def quotas(
        self, chat: ChatRef, limits: Limits, spec: JobSpec | None, pending: int
    ) -> None:
        """Refuse when a job of ``spec`` would not fit ``limits`` now (cheap, not atomic);
        ``pending``: the requester's requests inside the intake. No ``spec``: only the
        active-jobs cap."""
        if spec is None:
            limits = Limits(active_jobs=limits.active_jobs)
        if spec is not None and limits.monthly_budget and not self.quote(spec).price_known:
            # a budget cannot hold what it cannot count: the operator sets PRICE_OVERRIDES
            raise price_unknown(spec.model)
        quota = Quota.of(chat, limits, self.clock.now(), CURRENCY[self.region])
        if not quota.any:
            return
        usage = await self.store.quota_usage(quota)
        seconds, money = (spec.duration, self.estimate(spec)[0]) if spec else (0, 0.0)
        error = refusal(quota, usage, seconds=seconds, money=money, pending=pending)
        if error is not None:
            raise error

    def quote(self, spec: JobSpec) -> Quote:
        """What a validated ``spec`` will cost: the whole output (a continued clip included)
        at the published or the operator's price; ``price_known`` False when there is none."""
        resolve_model(spec.model, self.region)  # a clear refusal for an unknown model
        return self.prices.quote(spec)

    def estimate(self, spec: JobSpec) -> tuple[float, str]:
        """The price of ``spec`` in the region's currency (its reservation; 0.0 unknown)."""
        quote = self.quote(spec)
        return quote.cost or 0.0, quote.currency

    @asynccontextmanager
    async def intake(self, chat: ChatRef, checked: ValidSpec | None) -> AsyncIterator[None]:
        """Bound the requests holding bytes; the requester's requests already inside count
        against their active-jobs cap (``checked.limits``; without them, the server's)."""

        async def again(pending: int) -> None:
            if checked is not None and checked.limits is not None:
                if pending:
                    await self.quotas(chat, checked.limits, checked.spec, pending)
                return
            policy = await self.controls.policy(chat, Member())
            await self.quotas(chat, policy.limits, None, pending)

        async with self._intake.enter(chat, again):
            yield
