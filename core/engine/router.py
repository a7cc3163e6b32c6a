"""Which front-end delivers a job: ``ChatRef.platform`` → the ``DeliveryPort`` registered for it.

Each front-end registers its port when it starts (with a readiness check: Discord can post only
once its client is connected) and unregisters when it stops. A job whose platform has no ready
port is never failed for it: it stays due until one is (see ``core.engine.delivery``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.ports import DeliveryPort

log = logging.getLogger(__name__)


def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class _Route:
    port: DeliveryPort
    ready: Callable[[], bool]
    #: the port as registered (``port`` may be its wrapper)
    given: DeliveryPort


#: wraps each registered port (the bot's metrics time and count every post through it)
PortWrapper = Callable[[str, DeliveryPort], DeliveryPort]


class DeliveryRouter:
    def __init__(self, *, wrap: PortWrapper | None = None) -> None:
        self._routes: dict[str, _Route] = {}
        self._wrap = wrap

    def register(
        self, platform: str, port: DeliveryPort, *, ready: Callable[[], bool] = _always
    ) -> None:
        """Deliver ``platform``'s jobs through ``port`` whenever ``ready()`` says it can."""
        old = self._routes.get(platform)
        if old is not None and old.given is not port:
            raise ValueError(f"a delivery port for {platform!r} is already registered")
        if old is not None:
            wrapped = old.port  # the same port again (a new readiness check): one wrapper
        else:
            wrapped = self._wrap(platform, port) if self._wrap is not None else port
        self._routes[platform] = _Route(wrapped, ready, port)
        log.info("delivery port registered for %s", platform)

    def unregister(self, platform: str) -> None:
        if self._routes.pop(platform, None) is not None:
            log.info("delivery port for %s unregistered", platform)

    def registered(self, platform: str) -> bool:
        return platform in self._routes

    def port(self, platform: str) -> DeliveryPort | None:
        """The ready port for ``platform``, or None (none registered, or not ready yet)."""
        route = self._routes.get(platform)
        if route is None or not route.ready():
            return None
        return route.port

    def readiness(self) -> dict[str, bool]:
        """Each registered platform and whether its port can post now (the ready probe)."""
        return {platform: route.ready() for platform, route in self._routes.items()}

    def any_ready(self) -> bool:
        return any(route.ready() for route in self._routes.values())
