"""Emulated OSS: temporary-upload policy + form POST (§11) and signed, expiring result URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from aiohttp import BodyPartReader, web

from emulator._config import EmulatorConfig
from emulator._errors import LOG_BODY, ApiError, oss_error
from emulator._media import UploadedFile

log = logging.getLogger(__name__)

ACCESS_KEY_ID = "LTAI5tEmulatorAccessKey"
UPLOAD_PATH = "/oss/dashscope-file-emulator"
RESULT_PREFIX = "/oss/dashscope-result-emulator/"
MAX_FILE_MB = 100
POLICY_EXPIRED = "Invalid according to Policy: Policy expired."


class OssStore:
    def __init__(self, config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self._config = config
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._files: dict[str, UploadedFile] = {}
        self.origin = "http://127.0.0.1"  # set by the server once the port is known

    # ------------------------------------------------------------------ signing
    def _sign(self, text: str) -> str:
        mac = hmac.new(self._secret, text.encode(), hashlib.sha1).digest()
        return base64.b64encode(mac).decode()

    def lookup(self, key: str) -> UploadedFile | None:
        return self._files.get(key)

    @property
    def files(self) -> dict[str, UploadedFile]:
        return dict(self._files)

    # ------------------------------------------------------------------ upload policy
    def policy(self, model: str, account: str) -> dict[str, Any]:
        now = self._clock()
        tz = timezone(timedelta(hours=self._config.timestamp_utc_offset_hours))
        day = datetime.fromtimestamp(now, tz=tz).strftime("%Y-%m-%d")
        upload_dir = f"dashscope-instant/{account}/{day}/{uuid.uuid4().hex}"
        ttl = self._config.upload_policy_ttl
        doc = {"expiration": now + ttl, "upload_dir": upload_dir, "model": model}
        policy = base64.b64encode(json.dumps(doc).encode()).decode()
        return {
            "policy": policy,
            "signature": self._sign(policy),
            "upload_dir": upload_dir,
            "upload_host": self.origin + UPLOAD_PATH,
            "expire_in_seconds": math.ceil(ttl),
            "max_file_size_mb": MAX_FILE_MB,
            "capacity_limit_mb": 999999999,
            "oss_access_key_id": ACCESS_KEY_ID,
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }

    async def handle_upload(self, request: web.Request) -> web.Response:
        """Multipart form POST; ``file`` must come last (later fields are ignored, as OSS does)."""
        fields: dict[str, str] = {}
        data: bytes | None = None
        file_type = "application/octet-stream"
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file":
                data = await part.read()
                file_type = part.headers.get("Content-Type", file_type)
                break
            fields[part.name or ""] = await part.text()
        request[LOG_BODY] = fields
        return self._store_upload(fields, data, file_type)

    def _store_upload(
        self, fields: dict[str, str], data: bytes | None, file_type: str
    ) -> web.Response:
        policy = fields.get("policy", "")
        if data is None or not policy or "key" not in fields:
            return oss_error(400, "InvalidArgument", "The form must contain policy, key and file.")
        if fields.get("OSSAccessKeyId") != ACCESS_KEY_ID:
            return oss_error(
                403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist."
            )
        if not hmac.compare_digest(fields.get("Signature", ""), self._sign(policy)):
            return oss_error(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
            )
        doc = json.loads(base64.b64decode(policy))
        now = self._clock()
        if now >= float(doc["expiration"]):
            return oss_error(403, "AccessDenied", POLICY_EXPIRED)
        key = fields["key"]
        if not key.startswith(doc["upload_dir"] + "/") or key.endswith("/"):
            return oss_error(
                403, "AccessDenied", "Invalid according to Policy: Policy Condition failed."
            )
        if len(data) > MAX_FILE_MB * 1024 * 1024:
            return oss_error(
                400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."
            )
        if fields.get("x-oss-forbid-overwrite") == "true" and key in self._files:
            return oss_error(409, "FileAlreadyExists", "The object you specified already exists.")
        self._files[key] = UploadedFile(
            key=key,
            model=str(doc["model"]),
            data=data,
            content_type=fields.get("x-oss-content-type", file_type),
            expires_at=now + self._config.scaled(self._config.upload_file_ttl),
        )
        log.info("stored upload %s (%d bytes) for %s", key, len(data), doc["model"])
        status = fields.get("success_action_status", "204")
        return web.Response(status=int(status) if status in ("200", "201", "204") else 204)

    # ------------------------------------------------------------------ results
    def result_url(self, task_id: str, expires_at: float) -> str:
        expires = str(math.ceil(expires_at))
        query = urlencode(
            {
                "Expires": expires,
                "OSSAccessKeyId": ACCESS_KEY_ID,
                "Signature": self._sign(f"{task_id}\n{expires}"),
            }
        )
        return f"{self.origin}{RESULT_PREFIX}{task_id}.mp4?{query}"

    def check_result_request(self, request: web.Request, expires_at: float | None) -> str:
        """Task id of a valid, unexpired result URL; raises ApiError(403/404) carrying XML codes."""
        task_id = request.match_info["name"].removesuffix(".mp4")
        expires = request.query.get("Expires", "")
        signature = request.query.get("Signature", "")
        if not hmac.compare_digest(signature, self._sign(f"{task_id}\n{expires}")):
            raise ApiError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if expires_at is None:
            raise ApiError(404, "NoSuchKey", "The specified key does not exist.")
        if self._clock() >= expires_at:
            raise ApiError(403, "AccessDenied", "Request has expired.")
        return task_id
