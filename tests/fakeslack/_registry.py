"""The Web API method table: each handler module registers its methods here.

Handlers take ``(fake, args)`` and return the success body (``ok: true`` is added) or raise
:class:`ApiError`, which becomes ``{"ok": false, "error": …}`` like Slack's answers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakeslack._model import Json

if TYPE_CHECKING:
    from tests.fakeslack._server import FakeSlack

Handler = Callable[["FakeSlack", Json], Awaitable[Json]]


class ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> Json:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> ApiError:
    # shape of views.open's documented error example: response_metadata.messages
    return ApiError("invalid_arguments", response_metadata={"messages": list(messages)})


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    #: scope the bot token needs (None: none, or checked inside the handler by channel kind)
    scope: str | None
    #: "bot" for xoxb- tokens, "app" for the xapp- token (apps.connections.open)
    kind: str = "bot"


METHODS: dict[str, Method] = {}


def method(
    name: str, *, scope: str | None = None, kind: str = "bot"
) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        METHODS[name] = Method(name, fn, scope, kind)
        return fn

    return deco


def arg_str(args: Json, name: str, *, required: bool = True) -> str:
    value = args.get(name)
    if value is None or value == "":
        if required:
            raise ApiError("invalid_arguments" if name != "channel" else "channel_not_found")
        return ""
    return str(value)


def arg_bool(args: Json, name: str, default: bool = False) -> bool:
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def arg_json(args: Json, name: str, error: str = "invalid_arguments") -> Any:
    """A structured argument: JSON bodies carry it as is, form bodies as a JSON string."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ApiError(error) from exc
    return value
