"""``animate-bot demo --once IMAGE PROMPT --out DIR``: one scripted ``/animate`` through the
playground, written down as Discord would show it.

Every state a message passes through is recorded as the fake Discord applies it (an observer
of its requests, so no edit is missed however quickly the next follows). The outcome is read
from the channel, as a user would: a video in the job's thread, a failure notice there, or the
private refusal the command answered with.
"""

from __future__ import annotations

import mimetypes
import time
from dataclasses import dataclass, field
from typing import Any

from bot.demo.stack import Demo
from playground.channel import Reader, text
from playground.channel import channel as channel_view
from playground.fakediscord import FakeAttachment, FakeInteraction, Recorded

#: the whole run must stay well under a minute
WITHIN = 50.0
MARKER = "animate job #"


class DemoFailed(Exception):
    """The request did not end in a video; ``refused``: the bot turned the request down."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.message = message
        self.refused = refused


@dataclass
class Recorder:
    """Each message's distinct renderings, in the order the fake applied them."""

    demo: Demo
    states: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def observe(self, _: Recorded) -> None:
        user = self.demo.user
        reader = Reader(user.locale, names={str(user.id): user.name})
        for view in channel_view(self.demo.fake, self.demo.channel, reader):
            thread = view.pop("thread")
            self._keep(view)
            for inner in (thread or {}).get("messages", []):
                inner.pop("thread", None)
                self._keep(inner, thread=thread)

    def _keep(self, view: dict[str, Any], thread: dict[str, Any] | None = None) -> None:
        mid = view["id"]
        view["in_thread"] = thread["name"] if thread else None
        seen = self.states.setdefault(mid, [])
        if mid not in self.order:
            self.order.append(mid)
        if not seen or _shown(seen[-1]) != _shown(view):
            seen.append(view)


def _shown(view: dict[str, Any]) -> str:
    return text(view)


def _video(att: FakeAttachment) -> bool:
    return (att.content_type or "").startswith("video/") or att.filename.endswith(".mp4")


def outcome(demo: Demo, inter: FakeInteraction) -> tuple[str, Any] | None:
    """("video", attachment), ("failed", text), ("refused", text), or None while undecided."""
    fake = demo.fake
    for mid in inter.followups:
        msg = fake.find_message(mid)
        if msg is not None and msg.flags & (1 << 6):  # an ephemeral answer: the refusal
            return "refused", msg.content
    status = fake.find_message(inter.original_id or 0)
    thread = fake.channels.get(inter.original_id or 0)
    if status is None or thread is None or any(r.get("components") for r in status.components):
        return None  # the status message still offers Cancel: the job is not over
    for msg in fake.messages_in(thread):
        if video := next((a for a in msg.attachments if _video(a)), None):
            return "video", video
        footers = [(e.get("footer") or {}).get("text") or "" for e in msg.embeds]
        if any(MARKER in f for f in footers):
            embed = msg.embeds[0]
            return "failed", " ".join(filter(None, (embed.get("title"), embed.get("description"))))
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``--once`` writes: the transcript, and the video (None when there is none)."""

    transcript: str
    video: FakeAttachment | None
    #: why there is no video
    problem: DemoFailed | None = None


async def run_once(
    demo: Demo, image: bytes, filename: str, prompt: str, *, locale: str, options: dict[str, Any]
) -> Outcome:
    """Send the request as the playground's user and wait for its outcome."""
    started = time.monotonic()
    recorder = Recorder(demo)
    demo.fake.observers.append(recorder.observe)
    ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    att = demo.fake.add_attachment(image, filename, ctype)
    demo.user.locale = locale
    named = {"image": att, "prompt": prompt, **options}
    inter = await demo.fake.slash("animate", demo.channel, demo.user, named=named)
    problem: DemoFailed | None = None
    video: FakeAttachment | None = None
    try:
        kind, what = await demo.fake.wait_for(lambda: outcome(demo, inter), within=WITHIN)
        if kind == "video":
            video = what
        else:
            problem = DemoFailed(str(what), refused=kind == "refused")
    except TimeoutError:
        problem = DemoFailed(f"no video within {WITHIN:g} s", refused=False)
    finally:
        demo.fake.observers.remove(recorder.observe)
    request = " ".join(f"{k}:{_shown_value(v)}" for k, v in named.items())
    seconds = time.monotonic() - started
    return Outcome(_transcript(recorder, f"/animate {request}", locale, seconds), video, problem)


def _shown_value(value: object) -> str:
    if isinstance(value, FakeAttachment):
        return value.filename
    return repr(value) if isinstance(value, str) else str(value)


def _transcript(recorder: Recorder, request: str, locale: str, seconds: float) -> str:
    demo = recorder.demo
    lines = [
        "# animate-bot playground: transcript",
        "",
        "A local playground: the bot's real code, with an emulated DashScope video service and a",
        "local Discord stand-in. Nothing left this computer.",
        "",
        f"- channel: #{demo.channel.name}",
        f"- request by **{demo.user.name}** (Discord language {locale}): `{request}`",
        f"- finished in {seconds:.1f} s",
        "",
    ]
    place = None
    for mid in recorder.order:
        states = recorder.states[mid]
        where = states[-1]["in_thread"]
        if where != place:
            lines += [f"## {'thread “' + where + '”' if where else '#' + demo.channel.name}", ""]
            place = where
        title = f"### message {mid}"
        if len(states) > 1:
            title += f": {len(states)} states"
        lines += [title, ""]
        for n, state in enumerate(states, start=1):
            if len(states) > 1:
                lines += [f"State {n}:", ""]
            lines += [text(state), ""]
    return "\n".join(lines)
