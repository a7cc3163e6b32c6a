"""A click on one of a job's buttons: does it come from one of the job's own messages?

A button carries only its job's id, and the id is not trusted on its own (a database restored
from a backup would give the number to another job): a click acts only when it comes from the
job's status message or its posted outcome, in the job's place. A message is posted before it
is recorded, so a click may arrive in between: it is asked to try again — unless its author may
not act at all, who is told so. One rule for every front-end; each says what "its place" is.
"""

from __future__ import annotations

import logging

from core.domain.errors import AnimateError, Kind
from core.domain.jobs import JobView, being_posted, require_requester

log = logging.getLogger(__name__)


def clicked(
    job: JobView,
    *,
    here: bool,
    message: str | None,
    user: str,
    moderator: bool,
    action: str | None = None,
) -> JobView:
    """``job`` when a click on ``message`` (``here``: in the job's place) may act on it.
    ``action`` names what only the requester may do (``cancel``, ``regenerate``, ``extend``)."""
    own = {m for m in (job.chat.status_message, job.posted_message_id) if m}
    if here and message is not None and message in own:
        return job
    if here and being_posted(job):
        if action is not None:
            require_requester(job.chat, user, moderator=moderator, action=action)
        raise AnimateError(
            f"Job #{job.id} is still being set up; try again in a moment.",
            key="click.setting_up",
            params={"job": job.id},
            kind=Kind.BUSY,
        )
    log.info(
        "click for job %s refused: message %s is not one of its messages here", job.id, message
    )
    raise AnimateError(
        f"This button is not on job #{job.id}'s own status or result message here (it may be "
        "from before the bot's data was reset), so nothing was done.",
        key="click.foreign_message",
        params={"job": job.id},
        kind=Kind.PERMISSION,
    )
