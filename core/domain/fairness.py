"""Fair order of the queue: round-robin across guilds, and across users within a guild.

Used by admission (who gets the next slot) and by the views (a job's queue position), so both
always agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from core.domain.records import JobRecord


def _guild(job: JobRecord) -> str:
    # DMs count as a guild of their own per user
    return f"{job.chat.platform}:{job.chat.guild or 'dm:' + job.chat.user}"


def _user(job: JobRecord) -> str:
    return f"{job.chat.platform}:{job.chat.user}"


def fair_order(jobs: Iterable[JobRecord], served: Iterable[JobRecord] = ()) -> list[JobRecord]:
    """Round-robin across guilds, and across users within a guild; FIFO per user.

    Stateless, so a restart changes nothing: ``served`` (recently submitted jobs) count as turns
    already taken. The next turn goes to the guild with the fewest turns (ties: the oldest
    waiting job), inside it to the user with the fewest turns, and that user's oldest job.
    """
    turns: Counter[str] = Counter()
    for job in served:
        turns[_guild(job)] += 1
        turns[_user(job)] += 1
    waiting: dict[str, dict[str, list[JobRecord]]] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        waiting.setdefault(_guild(job), {}).setdefault(_user(job), []).append(job)
    order: list[JobRecord] = []
    while waiting:
        guild = min(waiting, key=lambda g: (turns[g], min(q[0].id for q in waiting[g].values())))
        users = waiting[guild]
        user = min(users, key=lambda u: (turns[u], users[u][0].id))
        order.append(users[user].pop(0))
        turns[guild] += 1
        turns[user] += 1
        if not users[user]:
            del users[user]
        if not users:
            del waiting[guild]
    return order
