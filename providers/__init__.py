"""Video providers: the DashScope Wan image-to-video client (aiohttp; imports only ``core``)."""

from providers.dashscope import DashScopeClient

__all__ = ["DashScopeClient"]
