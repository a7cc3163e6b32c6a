"""Block Kit rules the fake enforces (reference §4, §6) and the ``view.state`` a submit carries.

Limits come from slack_sdk's block models and docs.slack.dev's block references: 50 blocks per
message (100 per modal), section text 3000, ``block_id``/``action_id`` 255, button text 75 and
value 2000, ``actions`` 25 elements, modal title/submit/close 24, ``private_metadata`` 3000,
``file_input`` ``max_files`` 1-10, static_select 100 options, view JSON 250 kB.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from typing import Any

from tests.fakeslack._model import FakeFile, Json
from tests.fakeslack._registry import ApiError, invalid_arguments

_ID_CHARS = string.ascii_letters + string.digits
INTERACTIVE = {
    "button",
    "static_select",
    "plain_text_input",
    "file_input",
    "checkboxes",
    "radio_buttons",
    "overflow",
    "users_select",
    "conversations_select",
    "channels_select",
}


def _random_id() -> str:
    # Slack fills missing block_id/action_id with short random strings ("hspI", "maBWU")
    return "".join(secrets.choice(_ID_CHARS) for _ in range(5))


def elements(block: Json) -> list[Json]:
    """The interactive elements of one block (``element``, ``accessory``, ``elements``)."""
    out = [block[k] for k in ("element", "accessory") if isinstance(block.get(k), dict)]
    if block.get("type") == "actions":
        out += [e for e in block.get("elements") or [] if isinstance(e, dict)]
    return out


def walk_elements(blocks: list[Json]) -> Iterator[tuple[Json, Json]]:
    for block in blocks:
        for element in elements(block):
            yield block, element


def fill_ids(blocks: list[Json]) -> list[Json]:
    """A copy with every block_id / interactive action_id set, as Slack stores blocks."""
    copied: list[Json] = json.loads(json.dumps(blocks))
    for block in copied:
        block.setdefault("block_id", _random_id())
        for element in elements(block):
            if element.get("type") in INTERACTIVE:
                element.setdefault("action_id", _random_id())
    return copied


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def _block_problems(blocks: Any, limit: int) -> list[str]:
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"missing required field: type {where}]")
            continue
        if len(str(block.get("block_id", ""))) > 255:
            problems.append(f"must be less than 256 characters {where}/block_id]")
        if block["type"] == "section" and _text_len(block.get("text")) > 3000:
            problems.append(f"must be less than 3001 characters {where}/text/text]")
        if block["type"] == "header" and _text_len(block.get("text")) > 150:
            problems.append(f"must be less than 151 characters {where}/text/text]")
        if block["type"] == "actions" and len(block.get("elements") or []) > 25:
            problems.append(f"no more than 25 items allowed {where}/elements]")
        for element in elements(block):
            if len(str(element.get("action_id", ""))) > 255:
                problems.append(f"must be less than 256 characters {where}/action_id]")
            if element.get("type") == "button":
                if _text_len(element.get("text")) > 75:
                    problems.append(f"must be less than 76 characters {where}/text]")
                if len(str(element.get("value", ""))) > 2000:
                    problems.append(f"must be less than 2001 characters {where}/value]")
    return problems


def check_message_blocks(raw: Any) -> list[Json]:
    """Blocks of chat.postMessage / chat.update, or ``invalid_blocks`` as Slack answers."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ApiError("invalid_blocks_format") from exc
    if raw is None:
        return []
    problems = _block_problems(raw, 50)
    if problems:
        raise ApiError("invalid_blocks", response_metadata={"messages": problems})
    return fill_ids(raw)


def check_view(view: Any) -> Json:
    """A modal for views.open/update/push, or ``invalid_arguments`` / ``view_too_large``."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except json.JSONDecodeError as exc:
            raise invalid_arguments("invalid `view` [json-pointer:/view]") from exc
    if not isinstance(view, dict):
        raise invalid_arguments("missing required field: view")
    if len(json.dumps(view)) > 250_000:
        raise ApiError("view_too_large")
    problems = [p.replace("[json-pointer:/", "[json-pointer:/view/") for p in
                _block_problems(view.get("blocks", []), 100)]  # fmt: skip
    if view.get("type") != "modal":
        problems.append("must be one of modal, home [json-pointer:/view/type]")
    for key, required in (("title", True), ("submit", False), ("close", False)):
        obj = view.get(key)
        if obj is None:
            if required:
                problems.append(f"missing required field: {key} [json-pointer:/view]")
        elif not isinstance(obj, dict) or obj.get("type") != "plain_text":
            problems.append(f"must be a plain_text object [json-pointer:/view/{key}]")
        elif len(obj.get("text", "")) > 24:
            problems.append(f"must be less than 25 characters [json-pointer:/view/{key}/text]")
    raw_blocks = view.get("blocks")
    blocks: list[Json] = [b for b in raw_blocks if isinstance(b, dict)] if isinstance(
        raw_blocks, list
    ) else []  # fmt: skip
    if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
        problems.append("must define `submit` to use input block [json-pointer:/view]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/view/blocks/{i}"
        if block.get("type") == "input" and not (block.get("label") and block.get("element")):
            problems.append(f"missing required field: label or element {where}]")
        element = block.get("element") or {}
        if element.get("type") == "file_input" and not 1 <= int(element.get("max_files", 10)) <= 10:
            problems.append(f"must be between 1 and 10 {where}/element/max_files]")
        if element.get("type") == "static_select" and len(element.get("options") or []) > 100:
            problems.append(f"no more than 100 items allowed {where}/element/options]")
        if element.get("type") == "plain_text_input" and int(element.get("max_length", 0)) > 3000:
            problems.append(f"must be at most 3000 {where}/element/max_length]")
    if problems:
        raise invalid_arguments(*(f"[ERROR] {p}" for p in problems))
    return {**view, "blocks": fill_ids(blocks)}


def input_blocks(view_blocks: list[Json]) -> list[Json]:
    return [
        b for b in view_blocks if b.get("type") == "input" and isinstance(b.get("element"), dict)
    ]


def state_values(
    view_blocks: list[Json], values: dict[str, Any], file_payload: Any, *, partial: bool = False
) -> dict[str, dict[str, Json]]:
    """``view.state.values[block_id][action_id]`` for a user who typed/picked ``values``.

    ``values`` is keyed by block_id or action_id: a str for plain_text_input, an option value
    for static_select, a list of :class:`FakeFile` for file_input. An input the user left alone
    keeps its ``initial_option`` / ``initial_value``. A required input left empty raises
    ``ValueError``: Slack's client would not let the user submit (``partial``: the state of a
    view still being filled in, as a ``block_actions`` payload carries it; nothing required).
    """
    out: dict[str, dict[str, Json]] = {}
    for block in input_blocks(view_blocks):
        element = block["element"]
        bid, aid, kind = block["block_id"], element["action_id"], element.get("type")
        given = values.get(bid, values.get(aid))
        if given is None:
            # what the modal opened with stays chosen until the user changes it
            if kind == "static_select" and element.get("initial_option"):
                given = element["initial_option"].get("value")
            elif kind == "plain_text_input" and element.get("initial_value"):
                given = element["initial_value"]
        if given in (None, "", []) and not block.get("optional") and not partial:
            raise ValueError(f"Slack would not submit: required input {bid!r} is empty")
        state: Json = {"type": kind}
        if kind == "plain_text_input":
            state["value"] = given or None
        elif kind == "static_select":
            options = element.get("options") or []
            option = next((o for o in options if o.get("value") == given), None)
            if given is not None and option is None:
                raise ValueError(f"{given!r} is not an option of {bid!r}")
            state["selected_option"] = option
        elif kind == "file_input":
            files: list[FakeFile] = list(given or [])
            if len(files) > int(element.get("max_files", 10)):
                raise ValueError(f"Slack would not submit: more than max_files in {bid!r}")
            state["files"] = [file_payload(f) for f in files]
        else:
            state["value"] = given
        out.setdefault(bid, {})[aid] = state
    return out
