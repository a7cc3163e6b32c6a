"""Troubleshooting: every error message the bot can give (the error keys of the English
catalog), grouped by kind, each kind with what it means and what to do.

``python -m bot.docs`` writes it into README.md. ``tests/bot/test_errors_doc.py`` checks that
every key the code raises an error with belongs to a kind listed here, so a new kind of error
cannot go unexplained.
"""

from __future__ import annotations

from core.i18n import ENGLISH, catalog

#: kind (a key prefix: the key itself or its first parts) → (what it means, what to do)
KINDS: dict[str, tuple[str, str]] = {
    "request": (
        "the request itself does not fit the model (size, duration, prompt length, options)",
        "the user changes what the message names; nothing was spent",
    ),
    "image": (
        "the first or last image cannot be used (type, size, pixels)",
        "send another image (PNG, JPEG, WEBP…); nothing was spent",
    ),
    "audio": ("the audio file cannot be used", "send a WAV or MP3 of 3 to 30 seconds"),
    "clip": ("the video to continue cannot be used", "send an MP4 the message allows"),
    "media": (
        "the chosen model does not take this combination of inputs in this region",
        "pick one of the models the message lists",
    ),
    "input": ("DashScope could not read an input", "send the input again in a common format"),
    "policy": (
        "this server's admins do not allow it (model, place, role, words)",
        "ask a server admin; `/animate-config show` lists the rules",
    ),
    "limit": (
        "a limit of `LIMIT_*` or of the server was reached",
        "wait for the time the message gives, or an admin raises it with `/animate-config`",
    ),
    "quota": (
        "the DashScope account is out of money, free quota or allocation",
        "the operator tops up the Model Studio account or raises its limits",
    ),
    "moderation": (
        "DashScope's content check refused an input or the output",
        "change the image or the prompt the message names",
    ),
    "auth": (
        "DashScope refused the API key",
        "the operator runs `animate-bot doctor --online`: `DASHSCOPE_API_KEY` and "
        "`DASHSCOPE_REGION` must be of the same region",
    ),
    "permission": (
        "the key is valid but may not use this model or workspace",
        "activate the model in Model Studio, or check `DASHSCOPE_WORKSPACE_ID`",
    ),
    "config": (
        "a setting is wrong",
        "the operator runs `animate-bot doctor`; each finding names the setting",
    ),
    "busy": ("DashScope is overloaded or failing", "nothing; the bot retries, users try later"),
    "rate_limited": ("DashScope's rate limit was hit", "nothing; the job is retried"),
    "outcome_unknown": (
        "a create was sent but its answer was lost",
        "nothing; the bot checks DashScope's task list before it ever sends it again",
    ),
    "create": (
        "the outcome of a lost create, once checked",
        "start the job again if the message says nothing was made",
    ),
    "task": ("DashScope could not make the video", "try again, or change the image or prompt"),
    "download": (
        "the finished video could not be fetched (its link lives 24 hours)",
        "nothing while it retries; a regeneration once the link expired",
    ),
    "upload": ("an input could not be handed to DashScope", "try again"),
    "video": (
        "the finished video could not be re-encoded to fit the upload limit",
        "the bot posts a link instead; nothing to do",
    ),
    "place": (
        "the bot cannot post in that channel or thread",
        "give the bot View Channel, Send Messages, threads, Embed Links and Attach Files",
    ),
    "job": ("the job's inputs or state no longer allow that", "start a new `/animate`"),
    "regenerate": ("a regeneration is not possible", "start a new `/animate`"),
    "cancel": ("the job cannot be canceled (any more)", "nothing; the message says why"),
    "click": ("a button was used on the wrong message or by someone else", "nothing"),
    "admin": ("a command only the bot's owner may use", "ask the owner"),
    "error": ("a command is not allowed here", "use it in a server channel the bot can see"),
    "not_found": ("the job, task or model does not exist", "check the job number"),
    "expired": ("DashScope forgot the task (after 24 hours)", "regenerate the job"),
    "canceled": ("the job was canceled", "nothing"),
    "invalid_input": ("DashScope refused the request", "change the input the message names"),
    "provider": (
        "DashScope answered something the bot does not understand",
        "report it with the log line of the job (it names the job id and task id)",
    ),
    "animate.image_or_clip": (
        "`/animate` got neither an image nor a video to continue",
        "attach one of them",
    ),
    "extend.duration_invalid": (
        "Extend was asked for a length the model cannot make",
        "pick one of the lengths the message lists",
    ),
    "extend.longest": ("the video is as long as the model makes them", "nothing; start anew"),
    "extend.model": (
        "the video's model cannot continue videos in this region",
        "use `/animate` with the video as a clip and a model that can",
    ),
    "extend.not_yours": (
        "only the requester or a moderator may extend a video",
        "use `/animate` with the video as a clip",
    ),
    "extend.video_gone": (
        "the video was deleted after `MEDIA_RETENTION_DAYS`",
        "download it from the chat and use `/animate` with it as a clip",
    ),
    "slack.file": (
        "Slack did not hand over the picture",
        "upload it to Slack again; if the message names a missing scope, the operator adds "
        "`files:read` (`animate-bot doctor` checks the scopes)",
    ),
    "slack.modal.no_image": ("the Slack form was sent without a picture", "attach one"),
    "slack.place": (
        "the bot cannot post in that Slack conversation",
        "invite the bot to the channel (`/invite @animate-bot`)",
    ),
    "slack.internal": (
        "a bug in the bot's Slack front-end",
        "report it with the log line of the job",
    ),
    "internal": (
        "a bug in the bot",
        "report it with the log line of the job; the job is retried or failed safely",
    ),
}


def kind_of(key: str) -> str | None:
    """The listed kind ``key`` belongs to (the longest prefix that names one), or None."""
    parts = key.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in KINDS:
            return prefix
    return None


def error_keys() -> dict[str, list[tuple[str, str]]]:
    """kind → [(key, English message)] for every catalog key of a listed kind."""
    found: dict[str, list[tuple[str, str]]] = {kind: [] for kind in KINDS}
    for key, text in sorted(catalog(ENGLISH).items()):
        kind = kind_of(key)
        if kind is not None:
            found[kind].append((key, text))
    return found


def troubleshooting() -> str:
    """The Markdown: per kind, what it means and what to do, then each message."""
    out: list[str] = []
    for kind, messages in error_keys().items():
        meaning, action = KINDS[kind]
        out.append(f"**{kind}** — {meaning}. *What to do:* {action}.")
        out.append("")
        for key, text in messages:
            one_line = " ".join(text.split()).replace("|", "\\|")
            out.append(f"- `{key}`: {one_line}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
