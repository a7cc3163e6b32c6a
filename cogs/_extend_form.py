"""The Extend form: the continuation's prompt and its total length, the clip included.

DashScope bills the whole output of a continuation (reference §5.3), so the form asks for the
total rather than "how much more", offers only the totals the model can make beyond the clip
(``core.domain.combinations.continuation_durations``) and says the whole is billed.

Restart-proof like the buttons: the form's ``custom_id`` names the job, and a filled-in form is
answered from the interaction alone (``submitted``: the job, the prompt and the total as typed),
never from the ``Modal`` object, which a restart would have lost. The totals are worked out
again from the job when it arrives, and a wrong one is refused before anything is spent.
"""

from __future__ import annotations

import re
from typing import Any, cast

import discord

from cogs._words import say
from core.domain.errors import Input, ValidationError

#: the longest prompt the form takes (wan2.7 takes 5000; the model's own limit is checked)
PROMPT_MAX = 1500
_FORM_ID = re.compile(r"animate:extendform:(?P<job>[0-9]+)")


def lengths(durations: tuple[int, ...]) -> str:
    """``6-15`` for a run of whole seconds, ``5, 10, 15`` otherwise."""
    if len(durations) > 2 and durations[-1] - durations[0] == len(durations) - 1:
        return f"{durations[0]}-{durations[-1]}"
    return ", ".join(str(d) for d in durations)


class ExtendForm(discord.ui.Modal):
    """The prompt of the continuation and its total length (the clip included: billed whole)."""

    def __init__(self, job_id: int, durations: tuple[int, ...], locale: str) -> None:
        super().__init__(
            title=say(locale, "extend.title"),
            timeout=15 * 60,
            custom_id=f"animate:extendform:{job_id}",
        )
        self.add_item(
            discord.ui.TextInput(
                label=say(locale, "extend.prompt")[:45],
                style=discord.TextStyle.paragraph,
                max_length=PROMPT_MAX,
                custom_id="prompt",
            )
        )
        self.add_item(
            discord.ui.TextInput(
                label=say(locale, "extend.duration", choices=lengths(durations))[:45],
                placeholder=say(locale, "extend.duration_placeholder")[:100],
                max_length=3,
                custom_id="total",
            )
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Nothing here: ``submitted`` answers every filled-in form, before or after a
        restart, so one path does it (see the module docstring)."""


def submitted(interaction: discord.Interaction) -> tuple[int, str, str] | None:
    """(job id, prompt, total as typed) of a filled-in Extend form; None for anything else."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return None
    data = cast(dict[str, Any], interaction.data or {})
    match = _FORM_ID.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    values: dict[str, str] = {}
    for row in data.get("components", []):
        # an action row holding the input, or a label wrapping it
        inner = row.get("components") or [row.get("component") or {}]
        for item in inner:
            values[str(item.get("custom_id"))] = str(item.get("value") or "")
    return int(match["job"]), values.get("prompt", ""), values.get("total", "")


def total(raw: str, durations: tuple[int, ...]) -> int:
    """The total asked for, or a refusal naming the totals offered (nothing is spent)."""
    given = raw.strip().removesuffix("s").strip()
    if given.isdigit() and int(given) in durations:
        return int(given)
    choices = lengths(durations)
    raise ValidationError(
        f"Give the total length as one of {choices} seconds (the clip included); "
        "nothing was spent.",
        key="extend.duration_invalid",
        params={"choices": choices, "given": given[:10]},
        subject=Input.CLIP,
    )
