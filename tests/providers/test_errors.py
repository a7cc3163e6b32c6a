"""Every error class, from the emulator where it can produce it and a canned server otherwise."""

from __future__ import annotations

import aiohttp
import pytest

from core.domain.catalog import Region
from core.domain.errors import Input, Kind, OutcomeUnknownError, ProviderError, ValidationError
from core.domain.tasks import TaskStatus
from emulator import Emulator
from providers import DashScopeClient
from tests.providers.conftest import CannedServer, FakeClock, make_client, request


def _creates(emu: Emulator) -> int:
    return sum(1 for r in emu.request_log if r.path.endswith("/video-synthesis"))


# ---- auth ------------------------------------------------------------------------------------


async def test_invalid_key_names_the_region_mixup(
    session: aiohttp.ClientSession, emu: Emulator
) -> None:
    client = make_client(session, emu.base_url, key="sk-wrong")
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    err = caught.value
    assert (err.kind, err.status, err.code, err.retryable) == (
        Kind.AUTH,
        401,
        "InvalidApiKey",
        False,
    )
    assert "Keys are per region" in err.message
    assert "DASHSCOPE_REGION / DASHSCOPE_BASE_URL" in err.message
    assert "cn-beijing" in err.message


async def test_missing_key_says_to_set_it(session: aiohttp.ClientSession, emu: Emulator) -> None:
    client = make_client(session, emu.base_url, key=" ")  # a blank bearer token
    with pytest.raises(ProviderError) as caught:
        await client.get_task("anything")
    assert caught.value.kind is Kind.AUTH
    assert caught.value.provider_message == "No API-key provided."
    assert "Set DASHSCOPE_API_KEY" in caught.value.message


# ---- moderation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        ("Input or output data may contain inappropriate content.", Input.UNKNOWN),
        ("Input image data may contain inappropriate content.", Input.IMAGE),
        ("Input text data may contain inappropriate content.", Input.PROMPT),
        ("Input audio data may contain inappropriate content.", Input.AUDIO),
        ("InternalError.Algo.DataInspectionFailed: Output data may contain…", Input.OUTPUT),
    ],
)
async def test_moderation_at_create_names_the_input(
    client: DashScopeClient, emu: Emulator, message: str, subject: Input
) -> None:
    emu.inject("moderation_create", message=message)
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    err = caught.value
    assert (err.kind, err.status, err.subject, err.retryable) == (
        Kind.MODERATION,
        400,
        subject,
        False,
    )
    assert "content check" in err.message
    assert err.provider_message == message


async def test_moderation_of_the_output_fails_the_task(
    client: DashScopeClient, emu: Emulator, clock: FakeClock
) -> None:
    emu.inject("moderation_task")
    info = await client.create_task(request())
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.status is TaskStatus.FAILED
    assert done.code == "DataInspectionFailed"
    assert done.error is not None
    assert (done.error.kind, done.error.subject) == (Kind.MODERATION, Input.OUTPUT)
    assert "generated video was blocked" in done.error.message


async def test_ip_infringement_at_create(client: DashScopeClient, emu: Emulator) -> None:
    emu.inject("ip_infringement_create")
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    assert caught.value.kind is Kind.MODERATION
    assert "IP infringement" in caught.value.message


async def test_task_failure_internal_error_is_retryable_busy(
    client: DashScopeClient, emu: Emulator, clock: FakeClock
) -> None:
    emu.inject("task_failure")
    info = await client.create_task(request())
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.error is not None
    assert (done.error.kind, done.error.retryable, done.error.code) == (
        Kind.BUSY,
        True,
        "InternalError.Algo",
    )


# ---- quota / permission / not found (documented bodies) --------------------------------------


async def test_arrearage_is_quota(client: DashScopeClient, emu: Emulator) -> None:
    emu.inject(
        "moderation_create",
        code="Arrearage",
        message="Access denied, please make sure your account is in good standing.",
    )
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    assert (caught.value.kind, caught.value.retryable) == (Kind.QUOTA, False)
    assert "overdue" in caught.value.message


@pytest.mark.parametrize(
    ("status", "code", "message", "kind", "retryable", "words"),
    [
        (403, "AccessDenied.Unpurchased", "Access to model denied.", Kind.PERMISSION, False,
         "may not use wan2.6-i2v-flash"),
        (403, "Model.AccessDenied", "Model access denied.", Kind.PERMISSION, False, "enabled"),
        (403, "AllocationQuota.FreeTierOnly", "The free tier of the model has been exhausted.",
         Kind.QUOTA, False, "free tier only"),
        (429, "Throttling.AllocationQuota", "Allocated quota exceeded.", Kind.QUOTA, False,
         "quota"),
        (429, "PrepaidBillOverdue", "", Kind.QUOTA, False, "billing"),
        (404, "ModelNotFound", "Model can not be found.", Kind.NOT_FOUND, False, "cn-beijing"),
        (400, "InvalidParameter", "Required parameter(s) missing or invalid.",
         Kind.INVALID_INPUT, False, "settings"),
        (400, "InvalidParameter.DataInspection",
         "Unable to download the media resource during the data inspection process.",
         Kind.INVALID_INPUT, False, "could not read the image"),
        (413, "BadRequest.TooLarge", "Payload Too Large", Kind.INVALID_INPUT, False, "smaller"),
        (401, "NOT AUTHORIZED", "Access denied: Either you are not authorized to access this "
         "workspace, or the workspace does not exist.", Kind.AUTH, False, "workspace"),
        (503, "ModelServingError", "Too many requests.", Kind.BUSY, True, "busy"),
        (429, "Throttling.BurstRate", "Request rate increased too quickly.", Kind.RATE_LIMITED,
         True, "rate limit"),
    ],
)  # fmt: skip
async def test_documented_create_errors(
    session: aiohttp.ClientSession,
    canned: CannedServer,
    status: int,
    code: str,
    message: str,
    kind: Kind,
    retryable: bool,
    words: str,
) -> None:
    canned.queue(status, {"code": code, "message": message, "request_id": "rid-1"})
    client = make_client(session, canned.base_url)
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    err = caught.value
    assert not isinstance(err, OutcomeUnknownError)
    assert (err.kind, err.retryable, err.status, err.code, err.request_id) == (
        kind,
        retryable,
        status,
        code,
        "rid-1",
    )
    assert words in err.message
    assert len(canned.seen) == 1  # a create is never retried by the client


async def test_429_carries_retry_after(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    canned.queue(
        429,
        {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded."},
        headers={"Retry-After": "7"},
    )
    client = make_client(session, canned.base_url)
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    assert (caught.value.kind, caught.value.retryable) == (Kind.RATE_LIMITED, True)
    assert caught.value.retry_after == 7.0


async def test_emulator_429_on_create_is_safe_and_retryable(
    client: DashScopeClient, emu: Emulator
) -> None:
    emu.inject("create_429")
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    assert (caught.value.kind, caught.value.retryable) == (Kind.RATE_LIMITED, True)
    assert not emu.tasks


async def test_submit_rate_limit_of_the_model(client: DashScopeClient, emu: Emulator) -> None:
    # wan2.2-i2v-plus allows 2 submissions per second (reference §10); the clock stands still
    for _ in range(2):
        await client.create_task(request("wan2.2-i2v-plus"))
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request("wan2.2-i2v-plus"))
    assert caught.value.kind is Kind.RATE_LIMITED
    assert len(emu.tasks) == 2


async def test_query_rate_limit_is_retried_then_reported(
    session: aiohttp.ClientSession, emu: Emulator
) -> None:
    client = make_client(session, emu.base_url, attempts=2)
    for _ in range(20):  # the account's 20 QPS (the fake clock stands still)
        await client.get_task("x")
    with pytest.raises(ProviderError) as caught:
        await client.get_task("x")
    assert (caught.value.kind, caught.value.retryable) == (Kind.RATE_LIMITED, True)
    assert sum(1 for r in emu.request_log if r.path.endswith("/tasks/x")) == 22


# ---- busy / ambiguous ------------------------------------------------------------------------


async def test_503_on_create_is_busy_and_nothing_was_created(
    client: DashScopeClient, emu: Emulator
) -> None:
    emu.inject("create_503")
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    assert (caught.value.kind, caught.value.retryable, caught.value.status) == (
        Kind.BUSY,
        True,
        503,
    )
    assert not emu.tasks


@pytest.mark.parametrize(
    ("fault", "tasks"),
    [
        ("create_500_after_create", 1),
        ("create_500", 0),
        ("reset_after_create", 1),
        ("reset_before_create", 0),
        ("malformed_create", 1),
    ],
)
async def test_ambiguous_create_is_outcome_unknown_and_never_resent(
    client: DashScopeClient, emu: Emulator, fault: str, tasks: int
) -> None:
    emu.inject(fault)  # type: ignore[arg-type]  # parametrized FaultKind literal
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.create_task(request())
    assert caught.value.kind is Kind.OUTCOME_UNKNOWN
    assert caught.value.retryable is False
    assert _creates(emu) == 1  # exactly one POST: the client did not retry
    assert len(emu.tasks) == tasks


async def test_connection_refused_is_busy_not_ambiguous(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    base = canned.base_url
    await canned.close()  # nothing listens on that port any more
    client = make_client(session, base)
    with pytest.raises(ProviderError) as caught:
        await client.create_task(request())
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert (caught.value.kind, caught.value.retryable) == (Kind.BUSY, True)


@pytest.mark.parametrize("fault", ["query_500", "query_503", "query_429", "reset_query",
                                   "malformed_query"])  # fmt: skip
async def test_queries_are_retried_once_on_transient_faults(
    client: DashScopeClient, emu: Emulator, fault: str
) -> None:
    info = await client.create_task(request())
    emu.inject(fault)  # type: ignore[arg-type]  # parametrized FaultKind literal
    again = await client.get_task(info.task_id)
    assert again.task_id == info.task_id
    assert emu.pending_faults(fault) == 0  # type: ignore[arg-type]  # same literal


async def test_persistent_5xx_on_query_gives_up_with_busy(
    client: DashScopeClient, emu: Emulator
) -> None:
    emu.inject("query_500", count=3)
    with pytest.raises(ProviderError) as caught:
        await client.get_task("whatever")
    assert (caught.value.kind, caught.value.retryable, caught.value.status) == (
        Kind.BUSY,
        True,
        500,
    )


async def test_non_json_error_body_does_not_crash(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    canned.queue(502, html, content_type="text/html")
    client = make_client(session, canned.base_url, attempts=1)
    with pytest.raises(ProviderError) as caught:
        await client.get_task("t1")
    assert (caught.value.kind, caught.value.status, caught.value.code) == (Kind.BUSY, 502, None)
    canned.queue(502, html, content_type="text/html")
    with pytest.raises(OutcomeUnknownError):
        await client.create_task(request())


async def test_malformed_200_on_query_is_retried_then_busy(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    for _ in range(2):
        canned.queue(200, b'{"output": {"task_id": "ab', content_type="application/json")
    client = make_client(session, canned.base_url, attempts=2)
    with pytest.raises(ProviderError) as caught:
        await client.get_task("t1")
    assert (caught.value.kind, caught.value.retryable) == (Kind.BUSY, True)
    assert len(canned.seen) == 2


# ---- what only the client knows: its region ------------------------------------------------


async def test_model_missing_in_region_is_refused(
    session: aiohttp.ClientSession, emu: Emulator
) -> None:
    client = make_client(session, emu.base_url, region=Region.VIRGINIA)
    with pytest.raises(ValidationError) as caught:
        await client.create_task(request("wan2.6-i2v-flash"))
    assert "not available in region us-east-1" in caught.value.message
    assert emu.request_log == []


@pytest.mark.parametrize(
    ("code", "message", "kind", "retryable", "words"),
    [
        ("InvalidParameter", "The size is not match xxxxxx", Kind.INVALID_INPUT, False,
         "settings"),
        ("InternalError.Timeout", "An internal timeout error has occured during execution.",
         Kind.BUSY, True, "gave up"),
        ("SomethingNew", "?", Kind.INTERNAL, True, "could not make this video"),
    ],
)  # fmt: skip
async def test_task_level_failure_codes(
    client: DashScopeClient,
    emu: Emulator,
    clock: FakeClock,
    code: str,
    message: str,
    kind: Kind,
    retryable: bool,
    words: str,
) -> None:
    emu.inject("task_failure", code=code, message=message)
    info = await client.create_task(request())
    clock.advance(3600)
    done = await client.get_task(info.task_id)
    assert done.status is TaskStatus.FAILED
    assert done.error is not None
    assert (done.error.kind, done.error.retryable, done.error.code) == (kind, retryable, code)
    assert words in done.error.message


async def test_408_on_create_is_outcome_unknown_not_a_final_refusal(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    """408 RequestTimeOut: the gateway gave up on the request; a task may exist (reconcile)."""
    canned.queue(408, {"code": "RequestTimeOut", "message": "Request timed out, try later."})
    client = make_client(session, canned.base_url)
    with pytest.raises(OutcomeUnknownError):
        await client.create_task(request())
    assert len(canned.seen) == 1


async def test_408_on_query_is_busy_and_retried(
    session: aiohttp.ClientSession, canned: CannedServer
) -> None:
    for _ in range(3):
        canned.queue(408, {"code": "RequestTimeOut", "message": "Request timed out."})
    client = make_client(session, canned.base_url)
    with pytest.raises(ProviderError) as caught:
        await client.get_task("t-1")
    assert (caught.value.kind, caught.value.retryable) == (Kind.BUSY, True)
    assert len(canned.seen) > 1  # retried like any transient fault
