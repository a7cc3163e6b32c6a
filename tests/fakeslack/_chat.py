"""chat.* and conversations.* (reference §6, §7.4, §9, §10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fakeslack._blocks import check_message_blocks
from tests.fakeslack._model import ChannelKind, Ephemeral, FakeChannel, FakeMessage, Json
from tests.fakeslack._registry import ApiError, arg_bool, arg_json, arg_str, method

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

TEXT_LIMIT = 40_000  # longer text is truncated with a warning (changelog 2018-04)
UPDATE_TEXT_LIMIT = 4_000  # chat.update: msg_too_long


def _postable(fake: FakeSlack, args: Json) -> FakeChannel:
    """The channel the bot posts to, with Slack's visibility and membership errors."""
    cid = arg_str(args, "channel")
    if cid.startswith(("U", "W")) and cid in fake.users:
        return fake.dm(fake.users[cid])  # posting to a user id lands in the app's DM
    channel = fake.visible(cid)
    if channel.archived:
        raise ApiError("is_archived")
    # chat:write.public covers public channels only (reference §1.2)
    public_ok = channel.kind is ChannelKind.PUBLIC and "chat:write.public" in fake.bot_scopes
    if fake.bot_user.id not in channel.members and not public_ok:
        raise ApiError("not_in_channel")
    return channel


def _metadata(args: Json) -> Json | None:
    meta = arg_json(args, "metadata", "invalid_metadata_format")
    if meta is None or meta == {}:
        return {} if meta == {} else None
    if not (
        isinstance(meta, dict)
        and isinstance(meta.get("event_type"), str)
        and isinstance(meta.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": meta["event_type"], "event_payload": meta["event_payload"]}


@method("chat.postMessage", scope="chat:write")
async def post_message(fake: FakeSlack, args: Json) -> Json:
    channel = _postable(fake, args)
    text = str(args.get("text") or "")
    blocks = check_message_blocks(args.get("blocks"))
    if args.get("markdown_text") and (text or blocks):
        raise ApiError("markdown_text_conflict")
    text = text or str(args.get("markdown_text") or "")
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    out: Json = {}
    if len(text) > TEXT_LIMIT:
        text = text[:TEXT_LIMIT]
        out |= {"warning": "message_truncated"}
    thread_ts = args.get("thread_ts") or None
    parent = channel.messages.get(str(thread_ts)) if thread_ts else None
    if parent is not None and parent.is_reply:
        thread_ts = parent.thread_ts  # a reply's ts stands for its thread
    message = FakeMessage(
        channel.id,
        fake.new_ts(),
        fake.bot_user.id,
        text,
        blocks,
        thread_ts=str(thread_ts) if thread_ts else None,
        metadata=_metadata(args),
        bot_id=fake.bot_id,
        app_id=fake.app_id,
        parse_mentions=args.get("parse") == "full" or arg_bool(args, "link_names"),
        unfurl_links=arg_bool(args, "unfurl_links") if "unfurl_links" in args else None,
        unfurl_media=arg_bool(args, "unfurl_media") if "unfurl_media" in args else None,
        reply_broadcast=arg_bool(args, "reply_broadcast"),
    )
    fake.add_message(channel, message)
    return out | {"channel": channel.id, "ts": message.ts, "message": fake.message_payload(message)}


def _own_message(fake: FakeSlack, args: Json, ts_arg: str, error: str) -> FakeMessage:
    channel = fake.visible(arg_str(args, "channel"))
    message = channel.messages.get(arg_str(args, ts_arg))
    if message is None or message.deleted:
        raise ApiError("message_not_found")
    if message.user != fake.bot_user.id:
        raise ApiError(error)
    return message


@method("chat.update", scope="chat:write")
async def update(fake: FakeSlack, args: Json) -> Json:
    message = _own_message(fake, args, "ts", "cant_update_message")
    text = args.get("text")
    if text is not None and len(str(text)) > UPDATE_TEXT_LIMIT:
        raise ApiError("msg_too_long")
    blocks = check_message_blocks(args["blocks"]) if "blocks" in args else None
    metadata = _metadata(args) if "metadata" in args else message.metadata
    message.edits.append(
        {"text": message.text, "blocks": message.blocks, "edited_ts": fake.new_ts()}
    )
    if text is not None:
        message.text = str(text)
    if blocks is not None:
        message.blocks = blocks
    message.metadata = metadata or None  # {} removes it (chat.update docs)
    file_ids = args.get("file_ids")
    if file_ids:
        ids = file_ids if isinstance(file_ids, list) else str(file_ids).split(",")
        for fid in ids:
            if fid not in fake.files:
                raise ApiError("file_not_found")
            message.files.append(fake.files[fid])
    payload = fake.message_payload(message)
    return {"channel": message.channel, "ts": message.ts, "text": message.text, "message": payload}


@method("chat.delete", scope="chat:write")
async def delete(fake: FakeSlack, args: Json) -> Json:
    message = _own_message(fake, args, "ts", "cant_delete_message")
    message.deleted = True
    channel = fake.channels[message.channel]
    del channel.messages[message.ts]
    return {"channel": message.channel, "ts": message.ts}


@method("chat.postEphemeral", scope="chat:write")
async def post_ephemeral(fake: FakeSlack, args: Json) -> Json:
    channel = _postable(fake, args)
    user = arg_str(args, "user", required=False)
    if user not in fake.users:
        raise ApiError("user_not_found")
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    text = str(args.get("text") or "")
    blocks = check_message_blocks(args.get("blocks"))
    if not text and not blocks:
        raise ApiError("no_text")
    thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
    fake.ephemerals.append(
        Ephemeral(channel.id, user, text, blocks, thread_ts, "chat.postEphemeral")
    )
    return {"message_ts": fake.new_ts()}


@method("chat.getPermalink")
async def permalink(fake: FakeSlack, args: Json) -> Json:
    channel = fake.visible(arg_str(args, "channel"))
    message = channel.messages.get(arg_str(args, "message_ts"))
    if message is None:
        raise ApiError("message_not_found")
    link = f"https://{fake.domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


# ------------------------------------------------------------------------- conversations
_HISTORY_SCOPE = {
    ChannelKind.PUBLIC: "channels:history",
    ChannelKind.PRIVATE: "groups:history",
    ChannelKind.IM: "im:history",
}
_READ_SCOPE = {
    ChannelKind.PUBLIC: "channels:read",
    ChannelKind.PRIVATE: "groups:read",
    ChannelKind.IM: "im:read",
}


def _readable(fake: FakeSlack, args: Json) -> FakeChannel:
    channel = fake.visible(arg_str(args, "channel"))
    fake.need(_HISTORY_SCOPE[channel.kind])
    if fake.bot_user.id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


def _page(fake: FakeSlack, args: Json, messages: list[FakeMessage]) -> Json:
    """``limit``/``cursor`` paging; non-Marketplace commercial apps get at most 15 (§9)."""
    cap = 15 if fake.limiter.commercial else 999
    limit = min(int(args.get("limit") or (15 if fake.limiter.commercial else 100)), cap)
    start = int(args.get("cursor") or 0)
    chunk = messages[start : start + limit]
    meta = arg_bool(args, "include_all_metadata")
    out: Json = {
        "messages": [fake.message_payload(m, metadata=meta) for m in chunk],
        "has_more": start + limit < len(messages),
    }
    if out["has_more"]:
        out["response_metadata"] = {"next_cursor": str(start + limit)}
    return out


@method("conversations.history")
async def history(fake: FakeSlack, args: Json) -> Json:
    channel = _readable(fake, args)
    newest_first = sorted(channel.top_level(), key=lambda m: float(m.ts), reverse=True)
    return _page(fake, args, newest_first)


@method("conversations.replies")
async def replies(fake: FakeSlack, args: Json) -> Json:
    channel = _readable(fake, args)
    thread = fake.thread(channel, arg_str(args, "ts"))
    if not thread:
        raise ApiError("thread_not_found")
    return _page(fake, args, thread)


@method("conversations.info")
async def info(fake: FakeSlack, args: Json) -> Json:
    channel = fake.visible(arg_str(args, "channel"))
    fake.need(_READ_SCOPE[channel.kind])
    payload = channel.payload(fake.bot_user.id, include_locale=arg_bool(args, "include_locale"))
    return {"channel": payload}


@method("conversations.join", scope="channels:join")
async def join(fake: FakeSlack, args: Json) -> Json:
    channel = fake.visible(arg_str(args, "channel"))
    if channel.kind is not ChannelKind.PUBLIC:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.archived:
        raise ApiError("is_archived")
    channel.members.add(fake.bot_user.id)
    return {"channel": channel.payload(fake.bot_user.id)}


@method("conversations.open", scope="im:write")
async def open_dm(fake: FakeSlack, args: Json) -> Json:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        raise NotImplementedError("the fake Slack has no multi-person DMs")
    if users[0] not in fake.users:
        raise ApiError("user_not_found")
    return {"channel": {"id": fake.dm(fake.users[users[0]]).id}}
