"""The Extend form: the continuation's prompt and its total length, the clip included.

DashScope bills the whole output of a continuation (reference §5.3), so the form asks for the
total rather than "how much more", offers only the totals the model can make beyond the clip
(``core.domain.combinations.continuation_durations``) and says the whole is billed. A wrong
total is refused before anything is deferred or spent; ``then`` does the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord

from cogs._words import say
from cogs.boundary import report_error
from core.domain.errors import Input, ValidationError

#: the longest prompt the form takes (wan2.7 takes 5000; the model's own limit is checked)
PROMPT_MAX = 1500
#: what happens with a filled-in form: (interaction, job id, prompt, total seconds)
Then = Callable[[discord.Interaction, int, str, int], Awaitable[None]]


def lengths(durations: tuple[int, ...]) -> str:
    """``6-15`` for a run of whole seconds, ``5, 10, 15`` otherwise."""
    if len(durations) > 2 and durations[-1] - durations[0] == len(durations) - 1:
        return f"{durations[0]}-{durations[-1]}"
    return ", ".join(str(d) for d in durations)


class ExtendForm(discord.ui.Modal):
    """The prompt of the continuation and its total length (the clip included: billed whole)."""

    def __init__(self, job_id: int, durations: tuple[int, ...], locale: str, *, then: Then) -> None:
        super().__init__(title=say(locale, "extend.title"), timeout=15 * 60)
        self.job_id = job_id
        self.durations = durations
        self.then = then
        self.prompt: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
            label=say(locale, "extend.prompt")[:45],
            style=discord.TextStyle.paragraph,
            max_length=PROMPT_MAX,
        )
        self.duration: discord.ui.TextInput[ExtendForm] = discord.ui.TextInput(
            label=say(locale, "extend.duration", choices=lengths(durations))[:45],
            placeholder=say(locale, "extend.duration_placeholder")[:100],
            max_length=3,
        )
        self.add_item(self.prompt)
        self.add_item(self.duration)

    def total(self) -> int:
        """The total asked for, or a refusal naming the totals offered (nothing is spent)."""
        raw = str(self.duration.value).strip().removesuffix("s").strip()
        if raw.isdigit() and int(raw) in self.durations:
            return int(raw)
        choices = lengths(self.durations)
        raise ValidationError(
            f"Give the total length as one of {choices} seconds (the clip included); "
            "nothing was spent.",
            key="extend.duration_invalid",
            params={"choices": choices, "given": raw[:10]},
            subject=Input.CLIP,
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.then(interaction, self.job_id, str(self.prompt.value), self.total())

    async def on_error(  # type: ignore[override]  # discord.ui.Modal narrows it the same way
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error)
