"""files.getUploadURLExternal → upload URL → files.completeUploadExternal, and files.info (§7).

The share into a channel is asynchronous, as on Slack: completeUploadExternal answers with
``shares: {}`` and no message ts; the file message appears ``fake.share_delay`` seconds later on
the fake's clock (0: right after the response; ``math.inf``: never, the "ok but nothing appears"
reports). ``files.info`` then shows ``shares.public|private[channel][i].ts``.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import re
import secrets
from typing import TYPE_CHECKING

from tests.fakeslack._model import MIB, FakeFile, FakeMessage, Json, new_id
from tests.fakeslack._registry import ApiError, arg_str, invalid_arguments, method

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

_SHAREABLE = re.compile(r"^[CGDZ][A-Z0-9]{8,}$")  # file shares reject user ids (reference §1.2)
MAX_SIZE = 1024 * MIB  # slack_sdk refuses more (MAX_V2_FILE_SIZE); admins may lower it


def guess_mimetype(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@method("files.getUploadURLExternal", scope="files:write")
async def get_upload_url(fake: FakeSlack, args: Json) -> Json:
    filename = arg_str(args, "filename", required=False)
    if not filename:
        raise invalid_arguments("[ERROR] missing required field: filename")
    try:
        length = int(args.get("length") or 0)
    except ValueError as exc:
        raise ApiError("invalid_arguments") from exc
    if length <= 0:
        raise ApiError("missing_argument")
    if length > fake.hooks.max_upload_size:
        raise ApiError("file_upload_size_restricted")
    alt = args.get("alt_txt")
    if alt is not None and len(str(alt)) > 1000:
        raise ApiError("alt_txt_too_large")
    f = FakeFile(
        new_id("F"),
        filename,
        filename,
        guess_mimetype(filename),
        fake.bot_user.id,
        created=int(fake.clock()),
        declared_length=length,
        bot_can_read=True,
        alt_txt=str(alt) if alt is not None else None,
    )
    fake.files[f.id] = f
    ticket = secrets.token_urlsafe(12)
    fake.hooks.upload_tickets[ticket] = f.id
    return {"upload_url": f"{fake.base}/upload/v1/{ticket}", "file_id": f.id}


def _share(fake: FakeSlack, files: list[FakeFile], channel_id: str, args: Json) -> None:
    thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
    comment = str(args.get("initial_comment") or "")
    bot = fake.bot_user.id

    def post() -> None:
        channel = fake.channels[channel_id]
        message = FakeMessage(channel_id, fake.new_ts(), bot, comment, thread_ts=thread_ts)
        message.files = list(files)
        fake.add_message(channel, message)

    due = fake.clock() + fake.share_delay
    fake.pending_shares.append((due, post))
    if fake.share_delay == 0:
        # "a little later": after this response, on the next turn of the loop
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: fake.hooks.spawn(fake.tick()))


@method("files.completeUploadExternal", scope="files:write")
async def complete_upload(fake: FakeSlack, args: Json) -> Json:
    raw = args.get("files")
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ApiError("invalid_arguments") from exc
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise invalid_arguments("[ERROR] missing required field: files")
    files: list[FakeFile] = []
    for item in items:
        f = fake.files.get(str(item.get("id")))
        if f is None or not f.uploaded or f.completed or f.user != fake.bot_user.id:
            raise ApiError("file_not_found")
        files.append(f)
    listed = str(args.get("channel_id") or args.get("channels") or "").split(",")
    channels = [c.strip() for c in listed if c.strip()]
    for cid in channels:
        if not _SHAREABLE.match(cid):
            raise ApiError("invalid_arguments")
        channel = fake.visible(cid)
        # membership is needed even with chat:write.public (reference §1.2)
        if fake.bot_user.id not in channel.members:
            raise ApiError("not_in_channel")
    for item, f in zip(items, files, strict=True):
        f.completed = True
        f.title = str(item.get("title") or f.name)
    for cid in channels:
        _share(fake, files, cid, args)
    return {"files": [fake.file_payload(f) for f in files]}


@method("files.info", scope="files:read")
async def files_info(fake: FakeSlack, args: Json) -> Json:
    f = fake.files.get(arg_str(args, "file", required=False))
    if f is None or not f.bot_can_read or (f.user == fake.bot_user.id and not f.completed):
        raise ApiError("file_not_found")
    return {"file": fake.file_payload(f), "comments": [], "response_metadata": {"next_cursor": ""}}
