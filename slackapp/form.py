"""The ``/animate`` modal: building it, reading a submission, placing errors (no I/O here).

One ``file_input`` for the picture (absent when a message shortcut already names it), an
optional one for an end image on models that can end on one (wan2.7, Wan 3.0), the prompt, and
selects for model, resolution, duration, sound and shape. The model select has
``dispatch_action`` set: choosing another model rebuilds the modal (``views.update``) with only
what that model allows. The selects that depend on the model carry the model in their
``block_id`` (``resolution.wan2.6-i2v-flash``), so Slack cannot carry a choice the new model does
not offer over into the rebuilt modal (it keeps input values only for identical block and
action ids, §4). Where the request comes from and in which language to answer travels in
``private_metadata`` (≤ 3000 characters, echoed back by Slack, §4).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from core.domain.catalog import (
    ASPECTS,
    CURRENCY,
    DEFAULT_MODEL,
    FILLS,
    AudioMode,
    Media,
    Model,
    Region,
    first_frame_models,
    models_taking,
)
from core.domain.validation import resolve_model
from core.i18n import t
from slackapp import mrkdwn

Json = dict[str, Any]

CALLBACK = "animate_modal"
EXTEND_CALLBACK = "animate_extend"
ACTION_MODEL = "animate:model"
IMAGE, PROMPT, MODEL, ASPECT, FILL = "image", "prompt", "model", "aspect", "fill"
END_IMAGE = "end_image"
CLIP = "clip"
CLIP_TYPES = ["mp4", "mov"]
PROMPT_MAX = 1500  # the longest any model reads; each model's own limit is the facade's check
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif"]  # "for convenience only" (§4)
METADATA_MAX = 3000
OPTION_TEXT_MAX = 75


@dataclasses.dataclass(frozen=True, slots=True)
class SourceFile:
    """A picture already in Slack (from a message shortcut), as its file object named it."""

    id: str
    name: str
    size: int
    url: str  # url_private_download (or url_private)


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    """Where the request came from and where its status message goes."""

    channel: str
    locale: str
    #: the thread to post the status message in (a message shortcut's thread), else None
    thread: str | None = None
    source: SourceFile | None = None

    def dump(self) -> str:
        data: Json = {"c": self.channel, "l": self.locale, "t": self.thread}
        if self.source is not None:
            data["f"] = dataclasses.astuple(self.source)
        raw = json.dumps(data, separators=(",", ":"))
        if len(raw) > METADATA_MAX:
            raise ValueError("private_metadata would exceed Slack's 3000 characters")
        return raw

    @classmethod
    def load(cls, raw: str) -> Origin:
        data = json.loads(raw)
        source = SourceFile(*data["f"]) if data.get("f") else None
        return cls(data["c"], data["l"], data.get("t"), source)


def _option(text: str, value: str) -> Json:
    return {
        "text": {"type": "plain_text", "text": mrkdwn.clip(text, OPTION_TEXT_MAX)},
        "value": value,
    }


def _select(
    block_id: str,
    label: str,
    options: list[Json],
    wanted: str | None,
    default: str,
    **extra: Any,
) -> Json:
    """A required select showing ``wanted`` when it is offered, else ``default``."""
    element: Json = {"type": "static_select", "action_id": "pick", "options": options}
    by_value = {o["value"]: o for o in options}
    chosen = by_value.get(wanted or "") or by_value.get(default)
    if chosen is not None:
        element["initial_option"] = chosen
    element.update(extra.pop("element", {}))
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        **extra,
    }


def _picture(block_id: str, label: str, hint: str, *, optional: bool = False) -> Json:
    """A ``file_input`` for one picture."""
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "hint": {"type": "plain_text", "text": hint},
        "element": {
            "type": "file_input",
            "action_id": "file",
            "filetypes": IMAGE_TYPES,
            "max_files": 1,
        },
    }


def price_hint(locale: str, model: Model, region: Region) -> str:
    prices = [
        p for table in (model.price, model.silent_price) for p in table.get(region, {}).values()
    ]
    if not prices:
        return ""
    return t(locale, "slack.modal.price", price=mrkdwn.money(min(prices), CURRENCY[region]))


def build(
    origin: Origin,
    region: Region,
    *,
    model_id: str = DEFAULT_MODEL,
    prompt: str | None = None,
    chosen: dict[str, str] | None = None,
    problem: str | None = None,
) -> Json:
    """The modal for ``model_id``; ``chosen`` keeps earlier picks that the model still allows,
    ``problem`` is shown above the form (a refusal that came too late for inline errors)."""
    loc = origin.locale
    model = resolve_model(model_id, region)
    chosen = chosen or {}
    blocks: list[Json] = []
    if problem:
        text = mrkdwn.safe(problem, 2900)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f":warning: {text}"}})
    if origin.source is not None:
        name = mrkdwn.safe(origin.source.name, 200)
        blocks.append(_context(t(loc, "slack.modal.from_message", name=name)))
    else:
        # a model that continues videos takes a clip instead of the picture
        continues = model in models_taking(Media.CLIP, region)
        label, hint = t(loc, "slack.modal.image"), t(loc, "slack.modal.image_hint")
        blocks.append(_picture(IMAGE, label, hint, optional=continues))
        if continues:
            label, hint = t(loc, "slack.modal.clip"), t(loc, "slack.modal.clip_hint")
            clip = _picture(f"{CLIP}.{model.id}", label, hint, optional=True)
            clip["element"]["filetypes"] = CLIP_TYPES
            blocks.append(clip)
    prompt_element: Json = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": True,
        "max_length": PROMPT_MAX,
        "placeholder": {"type": "plain_text", "text": t(loc, "slack.modal.prompt_placeholder")},
    }
    if prompt:
        prompt_element["initial_value"] = prompt[:PROMPT_MAX]
    blocks.append(
        {
            "type": "input",
            "block_id": PROMPT,
            "label": {"type": "plain_text", "text": t(loc, "slack.modal.prompt")},
            "element": prompt_element,
        }
    )
    models = [
        _option(f"{m.label} — {price_hint(loc, m, region)}", m.id)
        for m in first_frame_models(region)
    ]
    blocks.append(
        _select(
            MODEL,
            t(loc, "slack.modal.model"),
            models[:100],
            model.id,
            DEFAULT_MODEL,
            dispatch_action=True,
            element={"action_id": ACTION_MODEL},
        )
    )
    resolutions = [_option(r, r) for r in model.resolutions]
    blocks.append(
        _select(
            f"resolution.{model.id}",
            t(loc, "slack.modal.resolution"),
            resolutions,
            chosen.get("resolution"),
            model.default_resolution,
        )
    )
    durations = [_option(t(loc, "slack.unit.seconds", seconds=d), str(d)) for d in model.durations]
    blocks.append(
        _select(
            f"duration.{model.id}",
            t(loc, "slack.modal.duration"),
            durations,
            chosen.get("duration"),
            str(model.default_duration),
        )
    )
    if model.takes(Media.LAST_FRAME):
        # the block id names the model: the input goes away with a model that cannot use it
        label, hint = t(loc, "slack.modal.end_image"), t(loc, "slack.modal.end_image_hint")
        blocks.append(_picture(f"{END_IMAGE}.{model.id}", label, hint, optional=True))
    if model.audio is AudioMode.OPTIONAL:
        sounds = [
            _option(t(loc, "slack.modal.sound_on"), "on"),
            _option(t(loc, "slack.modal.sound_off"), "off"),
        ]
        blocks.append(
            _select(
                f"sound.{model.id}",
                t(loc, "slack.modal.sound"),
                sounds,
                chosen.get("sound"),
                "on",
            )
        )
    aspects = [
        _option(t(loc, "slack.modal.aspect_original") if a == "original" else a, a) for a in ASPECTS
    ]
    blocks.append(
        _select(ASPECT, t(loc, "slack.modal.aspect"), aspects, chosen.get("aspect"), "original")
    )
    fills = [_option(t(loc, f"slack.modal.fill_{f}"), f) for f in FILLS]
    blocks.append(_select(FILL, t(loc, "slack.modal.fill"), fills, chosen.get("fill"), "crop"))
    return _modal(loc, CALLBACK, "slack.modal.title", "slack.modal.submit", origin.dump(), blocks)


def _modal(
    loc: str, callback: str, title: str, submit: str, metadata: str, blocks: list[Json]
) -> Json:
    """A modal with a Submit and a Close button; ``title`` and ``submit`` are catalog keys."""
    return {
        "type": "modal",
        "callback_id": callback,
        "title": {"type": "plain_text", "text": mrkdwn.clip(t(loc, title), 24)},
        "submit": {"type": "plain_text", "text": mrkdwn.clip(t(loc, submit), 24)},
        "close": {"type": "plain_text", "text": mrkdwn.clip(t(loc, "slack.modal.close"), 24)},
        "private_metadata": metadata,
        "blocks": blocks,
    }


def extend_view(job_id: int, durations: tuple[int, ...], origin: Origin) -> Json:
    """The Extend form: what happens next and the total length (only totals the model can
    make from this clip). The job travels in ``private_metadata``, so a form opened before a
    restart is answered after it."""
    loc = origin.locale
    lengths = [_option(t(loc, "slack.unit.seconds", seconds=d), str(d)) for d in durations]
    prompt = {
        "type": "input",
        "block_id": PROMPT,
        "label": {"type": "plain_text", "text": t(loc, "extend.prompt")},
        "element": {"type": "plain_text_input", "action_id": "text", "max_length": PROMPT_MAX},
    }
    total = _select("duration", t(loc, "slack.extend.duration"), lengths, None, lengths[0]["value"])
    metadata = json.dumps({"job": job_id, "origin": origin.dump()}, separators=(",", ":"))
    blocks = [prompt, total, _context(t(loc, "slack.extend.billing"))]
    return _modal(loc, EXTEND_CALLBACK, "extend.title", "slack.extend.submit", metadata, blocks)


def extend_request(view: Json) -> tuple[int, Origin, str, int]:
    """(job id, origin, prompt, total) of a submitted Extend form."""
    meta = json.loads(view["private_metadata"])
    values = (view.get("state") or {}).get("values") or {}
    prompt = str(((values.get(PROMPT) or {}).get("text") or {}).get("value") or "")
    picked = ((values.get("duration") or {}).get("pick") or {}).get("selected_option") or {}
    return int(meta["job"]), Origin.load(meta["origin"]), prompt, int(picked.get("value") or 0)


def waiting(origin: Origin, external_id: str) -> Json:
    """Shown while a slow picture is still being checked (after the 3 s ack window).

    ``external_id`` exists only once Slack has applied the ack that shows this view: updating
    by it cannot overtake that ack (which would then cover the outcome with this view)."""
    loc = origin.locale
    return {
        "type": "modal",
        "callback_id": f"{CALLBACK}:waiting",
        "external_id": external_id,
        "title": {"type": "plain_text", "text": mrkdwn.clip(t(loc, "slack.modal.title"), 24)},
        "close": {"type": "plain_text", "text": mrkdwn.clip(t(loc, "slack.modal.done"), 24)},
        "private_metadata": origin.dump(),
        "blocks": [_context(t(loc, "slack.modal.checking"))],
    }


def started(origin: Origin, job_id: int) -> Json:
    loc = origin.locale
    view = {**waiting(origin, ""), "blocks": [_context(t(loc, "slack.modal.started", job=job_id))]}
    del view["external_id"]
    return view


def _context(text: str) -> Json:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
