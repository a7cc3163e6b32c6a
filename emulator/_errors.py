"""DashScope-style API errors: ``{"request_id", "code", "message"}`` with a JSON content type."""

from __future__ import annotations

import json
import logging
import uuid

from aiohttp import web

log = logging.getLogger(__name__)

# Handlers that parse a non-JSON body (the multipart upload) leave its fields here for the log.
LOG_BODY = web.RequestKey("emulator_log_body", dict[str, str])

RATE_LIMIT_MESSAGE = "Requests rate limit exceeded, please try again later."
GENERIC_INVALID = "Required parameter(s) missing or invalid, please check the request parameters."


def new_id() -> str:
    return str(uuid.uuid4())


class ApiError(Exception):
    """Raised anywhere in request handling; turned into a JSON error response by the middleware."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        body = {"request_id": new_id(), "code": self.code, "message": self.message}
        return web.Response(
            status=self.status, text=json.dumps(body), content_type="application/json"
        )


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


def bad_param(name: str, detail: str) -> ApiError:
    return invalid(
        f"Required parameter({name}) missing or invalid, please check the request "
        f"parameters. {detail}".strip()
    )


def rate_limited() -> ApiError:
    return ApiError(429, "Throttling.RateQuota", RATE_LIMIT_MESSAGE)


def oss_error(status: int, code: str, message: str) -> web.Response:
    """An OSS-style XML error (upload host and result download host)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{uuid.uuid4().hex[:24].upper()}</RequestId>\n"
        "  <HostId>dashscope-emulator</HostId>\n</Error>\n"
    )
    return web.Response(status=status, text=body, content_type="application/xml")
