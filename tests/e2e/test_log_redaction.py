"""A whole run logged at DEBUG, a 429 on a follow-up included, leaks no token and no key, in
either log format; every line names the job it is about."""

from __future__ import annotations

import json

import pytest

from tests.e2e.harness import API_KEY, World, button, captured_logs, results_in


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_full_run_at_debug_logs_no_secret(world: World, log_format: str) -> None:
    with captured_logs([world.fake.token, API_KEY], log_format) as out:
        await world.start_bot()
        inter = await world.animate()
        status = world.fake.find_message(inter.original_id or 0)
        assert status is not None
        thread = world.thread_of(status)
        assert thread is not None
        result = (await world.drive(lambda: results_in(world.fake, thread)))[0]

        # the follow-up of "Show again" is rate limited once; discord.py retries it
        fault = world.fake.fail_next("POST", "/webhooks/", status=429)
        show = await world.fake.click(result, button(result, "show"), world.alice)
        await world.fake.wait_for(lambda: show.followups)
        assert fault.count == 0, "the 429 was served"
        await world.stop_bot()

    text = out.getvalue()
    if log_format == "json":
        entries = [json.loads(line) for line in text.splitlines()]  # one object per line
        queued = next(e for e in entries if e["message"].startswith("job 1 queued"))
        assert queued["job_id"] == "1" and queued["platform"] == "discord"
        assert queued["guild"] == str(world.guild.id) and queued["user_id"] == str(world.alice.id)
        assert queued["model"] == "wan2.6-i2v-flash"
        posted = [e for e in entries if e.get("task_id") and e["logger"].startswith("core")]
        assert posted, "the engine's lines about the job name its task"
        # the scan below reads the messages as they were written, escapes undone
        text = "\n".join(" ".join(str(v) for v in e.values()) for e in entries)
    else:
        assert f"[job_id=1 platform=discord guild={world.guild.id}" in text
    # the run really was logged in full, URLs and gateway events included
    assert "is rate limited" in text
    assert f"/webhooks/{world.fake.app_id}/[redacted]" in text
    assert f"/interactions/{inter.id}/[redacted]/callback" in text
    assert "INTERACTION_CREATE" in text
    tokens = [i.token for i in world.fake.interactions.values()]
    assert len(tokens) == 2
    leaked = [t for t in [*tokens, world.fake.token, API_KEY] if t in text]
    assert leaked == []
