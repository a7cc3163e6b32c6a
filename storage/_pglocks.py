"""Every PostgreSQL advisory lock the app takes, in one place so no two uses share a key.

Keys use the two-``int4`` form ``(class, object)``: its key space is separate from the single
``bigint`` form other software on a shared server may use, and the class names the purpose.
"""

from __future__ import annotations

#: 'anmt' as an int4: the prefix of every class below, unlikely to clash with other software
_BASE = 0x616E6D00

#: schema migrations: (MIGRATE, 0), held for the migration transaction
MIGRATE = _BASE + 1
#: per-user limits (active cap, daily seconds, cooldown): (USER_CAP, hashtext(platform || ':' ||
#: user)), held for one insert
USER_CAP = _BASE + 2
#: per-server monthly budget: (GUILD_BUDGET, hashtext(platform || ':' || guild)), guild '' for
#: direct messages; always taken after USER_CAP, held for one insert
GUILD_BUDGET = _BASE + 3
#: per-model concurrency slots: (SLOTS, hashtext(model)), held while a create takes a slot
SLOTS = _BASE + 4
#: the account's rate windows: (LIMITER, hashtext(key)), held while one event is counted
LIMITER = _BASE + 5
