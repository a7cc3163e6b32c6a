"""Modals: views.open / update / push, and what a view_submission ack does (reference §4)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from tests.fakeslack._blocks import check_view, input_blocks
from tests.fakeslack._model import FakeView, Json, new_id
from tests.fakeslack._registry import ApiError, arg_str, invalid_arguments, method

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

TRIGGER_LIFETIME = 3.0  # seconds, single use (views.open docs)
MAX_STACK = 3  # the root and at most two pushed views


def _hash(fake: FakeSlack) -> str:
    return f"{int(fake.clock())}.{secrets.token_hex(4)}"


def consume_trigger(fake: FakeSlack, args: Json) -> str:
    """The user whose click issued ``trigger_id``; the trigger is then spent."""
    trigger = arg_str(args, "trigger_id", required=False) or str(
        args.get("interactivity_pointer") or ""
    )
    if not trigger:
        raise invalid_arguments("[ERROR] missing required field: trigger_id")
    if trigger in fake.used_triggers:
        raise ApiError("exchanged_trigger_id")
    issued = fake.triggers.get(trigger)
    if issued is None:
        raise ApiError("invalid_trigger_id")
    user, at = issued
    if fake.clock() - at > TRIGGER_LIFETIME:
        raise ApiError("expired_trigger_id")
    fake.used_triggers.add(trigger)
    return user


def _check_external_id(fake: FakeSlack, body: Json, replacing: FakeView | None = None) -> None:
    ext = body.get("external_id")
    if not ext:
        return
    if len(str(ext)) > 255:
        raise invalid_arguments("[ERROR] must be less than 256 characters [json-pointer:/view]")
    for v in fake.views.values():
        if v is not replacing and not v.closed and v.body.get("external_id") == ext:
            raise ApiError("duplicate_external_id")


def view_payload(fake: FakeSlack, view: FakeView, state: Json | None = None) -> Json:
    return view.payload(fake.team_id, fake.app_id, fake.bot_id, state)


def _new_view(fake: FakeSlack, user: str, body: Json, stack: list[str]) -> FakeView:
    vid = new_id("V")
    root = stack[0] if stack else vid
    view = FakeView(vid, user, body, _hash(fake), root, stack[-1] if stack else None)
    fake.views[vid] = view
    stack.append(vid)
    return view


def close_stack(fake: FakeSlack, user: str) -> None:
    for vid in fake.view_stacks.pop(user, []):
        fake.views[vid].closed = True


@method("views.open")
async def views_open(fake: FakeSlack, args: Json) -> Json:
    body = check_view(args.get("view"))
    _check_external_id(fake, body)
    user = consume_trigger(fake, args)
    close_stack(fake, user)
    view = _new_view(fake, user, body, fake.view_stacks.setdefault(user, []))
    return {"view": view_payload(fake, view)}


@method("views.push")
async def views_push(fake: FakeSlack, args: Json) -> Json:
    body = check_view(args.get("view"))
    _check_external_id(fake, body)
    user = consume_trigger(fake, args)
    stack = fake.view_stacks.get(user)
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= MAX_STACK:
        raise ApiError("push_limit_reached")
    return {"view": view_payload(fake, _new_view(fake, user, body, stack))}


def replace_view(fake: FakeSlack, view: FakeView, body: Json) -> None:
    def ids(blocks: list[Json]) -> dict[str, object]:
        return {b["block_id"]: b["element"].get("action_id") for b in input_blocks(blocks)}

    # what the user entered survives only in inputs with the same block_id and action_id
    new, old = ids(body.get("blocks", [])), ids(view.body.get("blocks", []))
    view.picks = {k: v for k, v in view.picks.items() if k in new and new[k] == old.get(k)}
    view.body = body
    view.hash = _hash(fake)
    view.errors = {}
    view.updates += 1


@method("views.update")
async def views_update(fake: FakeSlack, args: Json) -> Json:
    vid, ext = args.get("view_id"), args.get("external_id")
    if not vid and not ext:
        raise invalid_arguments("[ERROR] either view_id or external_id is required")
    view = fake.views.get(str(vid)) if vid else None
    if view is None and ext:
        view = next((v for v in fake.views.values() if v.body.get("external_id") == ext), None)
    if view is None or view.closed:
        raise ApiError("not_found")
    if args.get("hash") and args["hash"] != view.hash:
        raise ApiError("hash_conflict")
    body = check_view(args.get("view"))
    _check_external_id(fake, body, replacing=view)
    replace_view(fake, view, body)
    return {"view": view_payload(fake, view)}


def apply_submission_ack(fake: FakeSlack, view: FakeView, payload: Json | None) -> str | None:
    """What the user sees after acking a view_submission; returns a problem Slack would show.

    No payload closes the view; ``errors`` keeps it open with inline errors (keys must be
    block_ids of input blocks); ``update``/``push`` swap or stack a view; ``clear`` closes all.
    """
    action = (payload or {}).get("response_action")
    if action is None:
        stack = fake.view_stacks.get(view.user, [])
        if stack and stack[-1] == view.id:
            stack.pop()
            view.closed = True
            if not stack:
                fake.view_stacks.pop(view.user, None)
        return None
    assert payload is not None
    if action == "errors":
        errors = payload.get("errors")
        ids = {b["block_id"] for b in input_blocks(view.body.get("blocks", []))}
        if not isinstance(errors, dict) or not errors or set(errors) - ids:
            return f"errors must name input block_ids of the view {sorted(ids)}, got {errors!r}"
        view.errors = {str(k): str(v) for k, v in errors.items()}
        return None
    if action in ("update", "push"):
        try:
            body = check_view(payload.get("view"))
        except ApiError as err:
            return f"invalid view in response_action {action}: {err.body()}"
        if action == "update":
            replace_view(fake, view, body)
        else:
            stack = fake.view_stacks.setdefault(view.user, [])
            if len(stack) >= MAX_STACK:
                return "push_limit_reached"
            _new_view(fake, view.user, body, stack)
        return None
    if action == "clear":
        close_stack(fake, view.user)
        return None
    return f"unknown response_action {action!r}"
