"""Reading a submitted (or half-filled) ``/animate`` modal, and placing errors on it.

The selects that depend on the model carry it in their ``block_id`` (see :mod:`slackapp.form`),
so values are found by prefix. No I/O here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.domain.catalog import DEFAULT_MODEL, Model, Region
from core.domain.errors import AnimateError, Input
from core.domain.jobs import JobSpec
from core.domain.validation import resolve_model
from slackapp.form import ASPECT, CLIP, END_IMAGE, FILL, IMAGE, MODEL, PROMPT

Json = dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Submission:
    spec: JobSpec
    #: the file object a ``file_input`` handed over (None when the origin names the picture)
    upload: Json | None
    model: Model
    #: the end image's file object, when the model offers one and the user gave it
    end_upload: Json | None = None
    #: a video to continue instead of the picture, on models that continue videos
    clip_upload: Json | None = None


def _picked(values: Json, prefix: str) -> str | None:
    """The selected option value of the block whose id is ``prefix`` or ``prefix.<model>``."""
    for block_id, actions in values.items():
        if block_id == prefix or block_id.startswith(prefix + "."):
            for state in actions.values():
                option = state.get("selected_option") or {}
                if "value" in option:
                    return str(option["value"])
    return None


def choices(values: Json) -> dict[str, str]:
    """What the user picked so far (to keep it when the modal is rebuilt for another model)."""
    out = {}
    for name in ("resolution", "duration", "sound", ASPECT, FILL):
        if (picked := _picked(values, name)) is not None:
            out[name] = picked
    return out


def typed_prompt(values: Json) -> str | None:
    state = (values.get(PROMPT) or {}).get("text") or {}
    value = state.get("value")
    return str(value) if value else None


def read(values: Json, region: Region) -> Submission:
    """The request a submitted modal describes (the facade validates it after this)."""
    model = resolve_model(_picked(values, MODEL) or DEFAULT_MODEL, region)
    picks = choices(values)
    spec = JobSpec(
        model=model.id,
        prompt=typed_prompt(values),
        resolution=picks.get("resolution") or model.default_resolution,
        duration=int(picks.get("duration") or model.default_duration),
        sound=picks.get("sound", "on") != "off",
        aspect=picks.get(ASPECT) or "original",
        fill=picks.get(FILL) or "crop",
    )
    return Submission(
        spec, _file(values, IMAGE), model, _file(values, END_IMAGE), _file(values, CLIP)
    )


def _file(values: Json, prefix: str) -> Json | None:
    """The first file of the ``file_input`` block ``prefix`` (or ``prefix.<model>``)."""
    for block_id, actions in values.items():
        if block_id == prefix or block_id.startswith(prefix + "."):
            files = (actions.get("file") or {}).get("files") or []
            if files:
                return dict(files[0])
    return None


_BLOCK_OF_KEY = {
    "request.resolution": "resolution",
    "request.duration": "duration",
    "request.silent_unsupported": "sound",
    "request.prompt_too_long": PROMPT,
    "request.model_unknown": MODEL,
    "request.model_region": MODEL,
    "request.aspect": ASPECT,
    "request.fill": FILL,
    "image.aspect": ASPECT,
    "image.fill": FILL,
}


def error_block(view: Json, error: AnimateError) -> str:
    """The input block an error belongs on (``response_action: errors`` must name one)."""
    ids = [str(b["block_id"]) for b in view.get("blocks", []) if b.get("type") == "input"]
    wanted = _BLOCK_OF_KEY.get(error.key)
    if wanted is None and error.subject is Input.IMAGE:
        wanted = IMAGE
    if wanted is None and error.subject is Input.PROMPT:
        wanted = PROMPT
    if wanted is None and error.subject is Input.CLIP:
        wanted = CLIP
    for block_id in ids:
        if wanted is not None and (block_id == wanted or block_id.startswith(wanted + ".")):
            return block_id
    # a picture named by the message (no file input), a quota, a place we cannot post to:
    # on the first input, where it is seen first
    return ids[0] if ids else PROMPT
