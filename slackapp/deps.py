"""What the Slack listeners share, handed in once by :mod:`slackapp.frontend`."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from core.app.service import AnimateService
from core.domain.catalog import Region
from slackapp.fetch import FileReader
from slackapp.people import People
from slackapp.places import Places


@dataclass(frozen=True, slots=True)
class Deps:
    service: AnimateService
    region: Region
    #: the Web API client for answers to users (modals, status messages)
    client: AsyncWebClient
    people: People
    places: Places
    reader: FileReader
    #: seconds of Slack's 3 s window a modal submission may spend before it must be acked
    ack_budget: float = 2.0
    #: seconds a users.info lookup may take before a modal opens in English
    locale_budget: float = 0.8
