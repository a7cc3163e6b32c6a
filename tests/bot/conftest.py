from __future__ import annotations

from tests.e2e.conftest import emulator_overrides, slack_world, world  # noqa: F401 - shared fixtures
