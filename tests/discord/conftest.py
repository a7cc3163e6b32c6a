from __future__ import annotations

import warnings

# discord.py 2.7.1 imports the stdlib ``audioop`` (voice support), deprecated since 3.11; the
# suite turns warnings into errors, so import it once with that one warning silenced.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from tests.e2e.conftest import emulator_overrides, world  # noqa: F401 - shared fixtures
