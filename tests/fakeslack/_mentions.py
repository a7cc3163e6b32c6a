"""Who a stored message would notify, so tests can assert the bot never pings the channel.

Mention syntax from docs.slack.dev "Formatting message text" (reference §6, mention safety).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakeslack._model import Json

_PINGS = re.compile(
    r"<!(?P<special>channel|here|everyone)(?:\|[^>]*)?>"
    r"|<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>"
    r"|<!subteam\^(?P<group>[A-Z0-9]+)(?:\|[^>]*)?>"
)
_PLAIN = re.compile(r"(?<![\w&<])@(channel|here|everyone)\b")


def _mrkdwn_texts(blocks: list[Json]) -> list[str]:
    """Texts Slack parses for mentions: mrkdwn objects (not plain_text, not verbatim)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and not node.get("verbatim"):
                out.append(str(node.get("text", "")))
            elif node.get("type") == "user" and "user_id" in node:  # rich_text element
                out.append(f"<@{node['user_id']}>")
            elif node.get("type") == "broadcast" and "range" in node:
                out.append(f"<!{node['range']}>")
            elif node.get("type") == "usergroup" and "usergroup_id" in node:
                out.append(f"<!subteam^{node['usergroup_id']}>")
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return out


def pings(text: str, blocks: list[Json] | None = None, *, parse_mentions: bool = False) -> set[str]:
    """Who Slack would notify: ``<!channel>``, ``<!here>``, ``<@U…>``, ``<!subteam^S…>``.

    Escaped forms (``&lt;!here&gt;``) and ``plain_text`` never ping; bare ``@here`` pings only
    when the message was posted with ``parse=full``/``link_names`` (reference §6, mention safety).
    """
    out: set[str] = set()
    for chunk in [text, *_mrkdwn_texts(blocks or [])]:
        for m in _PINGS.finditer(chunk):
            if m.group("special"):
                out.add(f"<!{m.group('special')}>")
            elif m.group("user"):
                out.add(f"<@{m.group('user')}>")
            else:
                out.add(f"<!subteam^{m.group('group')}>")
        if parse_mentions:
            out |= {f"<!{m.group(1)}>" for m in _PLAIN.finditer(chunk)}
    return out
