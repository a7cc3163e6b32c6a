"""The playground's web page: one channel of the fake Discord, drawn and driven like Discord's
own client (``animate-bot demo`` serves it next to the bot; ``bot.demo`` wires them)."""

from playground.channel._server import LOCALES, ChannelPage
from playground.channel._view import Reader, channel, message, readable, relative, text

__all__ = [
    "LOCALES", "ChannelPage", "Reader", "channel", "message", "readable", "relative", "text",
]  # fmt: skip
