"""Regions: documented hosts (§1), per-region model availability, durations, resolutions (§1.1)
and rate limits (§10), with the reference's [uncertain] points switched by ``EmulatorConfig``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from emulator._config import EmulatorConfig
from emulator._errors import ApiError
from emulator._rules import BJ, DE, MODELS, SG, US, ModelRule

log = logging.getLogger(__name__)

WORKSPACE = "{WorkspaceId}"


@dataclass(frozen=True)
class RegionHosts:
    """Native base URLs of a region; ``{WorkspaceId}`` stands for the workspace id."""

    region: str
    base_urls: tuple[str, ...]
    uncertain_base_urls: tuple[str, ...] = ()


def _ws(region: str) -> str:
    return f"https://{WORKSPACE}.{region}.maas.aliyuncs.com/api/v1"


REGION_HOSTS: dict[str, RegionHosts] = {
    BJ: RegionHosts(
        BJ,
        (
            "https://dashscope.aliyuncs.com/api/v1",
            _ws(BJ),
            "https://trial.cn-beijing.maas.aliyuncs.com/api/v1",
        ),
    ),
    SG: RegionHosts(
        SG,
        (
            "https://dashscope-intl.aliyuncs.com/api/v1",
            _ws(SG),
            "https://trial.ap-southeast-1.maas.aliyuncs.com/api/v1",
        ),
    ),
    # S-REGION (2026-05+) lists only the workspace host for Virginia; older pages dashscope-us.
    US: RegionHosts(US, (_ws(US),), ("https://dashscope-us.aliyuncs.com/api/v1",)),
    DE: RegionHosts(DE, (_ws(DE),)),
    "ap-northeast-1": RegionHosts("ap-northeast-1", (_ws("ap-northeast-1"),)),
    # The SDK also knows cn-hongkong.dashscope.aliyuncs.com; no Wan page uses it.
    "cn-hongkong": RegionHosts(
        "cn-hongkong",
        (_ws("cn-hongkong"),),
        ("https://cn-hongkong.dashscope.aliyuncs.com/api/v1",),
    ),
}

_SHARED_HOSTS = {
    "dashscope.aliyuncs.com": BJ,
    "dashscope-intl.aliyuncs.com": SG,
    "dashscope-us.aliyuncs.com": US,
    "cn-hongkong.dashscope.aliyuncs.com": "cn-hongkong",
}
_MAAS_HOST = re.compile(r"^(?P<ws>[a-z0-9-]+)\.(?P<region>[a-z0-9-]+)\.maas\.aliyuncs\.com$")

NOT_AUTHORIZED = (
    "Access denied: Either you are not authorized to access this workspace, or the workspace "
    "does not exist. Please check the workspace id and the API key."
)


@dataclass(frozen=True)
class HostInfo:
    region: str
    workspace: str | None  # None for shared and trial hosts


def host_info(host: str) -> HostInfo | None:
    """Region (and workspace) of a documented DashScope host; None for anything else."""
    name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
    if name in _SHARED_HOSTS:
        return HostInfo(_SHARED_HOSTS[name], None)
    match = _MAAS_HOST.match(name)
    if match is None or match.group("region") not in REGION_HOSTS:
        return None
    ws = match.group("ws")
    return HostInfo(match.group("region"), None if ws == "trial" else ws)


def request_region(host: str, config: EmulatorConfig) -> str:
    """The catalog a request is served from: its Host's region, else ``config.region``.

    A key belongs to one region (and a workspace host to one workspace): a pinned emulator
    answers a request for another region's host as the real service answers a wrong-region key.
    """
    info = host_info(host) if config.region_from_host else None
    if info is None:
        return config.region
    if config.region not in ("any", info.region):
        raise ApiError(401, "InvalidApiKey", "Invalid API-key provided.")
    if info.workspace is not None and config.workspace_id not in (None, info.workspace):
        raise ApiError(401, "NOT AUTHORIZED", NOT_AUTHORIZED)
    return info.region


def available(rule: ModelRule, region: str, config: EmulatorConfig) -> bool:
    if region == "any":
        return True
    if rule.model_id == "wan2.2-i2v-flash" and region == SG:
        return config.sg_wan22_flash != "no"
    if rule.family == "wan27" and region == US:
        return config.us_wan27
    return region in rule.regions


def lookup(model_id: str, region: str, config: EmulatorConfig) -> ModelRule | None:
    """The rule for ``model_id`` if it exists in ``region`` ("any" accepts every region's ids)."""
    rule = MODELS.get(model_id)
    if rule is None or not available(rule, region, config):
        return None
    return rule


def durations_for(rule: ModelRule, region: str, config: EmulatorConfig) -> frozenset[int]:
    if region == "any":
        allowed = set(rule.durations)
        for _, extra in rule.region_durations:
            allowed |= extra
        return frozenset(allowed)
    if region == DE and rule.model_id == "wan2.6-i2v" and config.de_wan26_durations == "2-15":
        return rule.durations
    for name, allowed_here in rule.region_durations:
        if name == region:
            return allowed_here
    return rule.durations


def resolutions_for(rule: ModelRule, region: str, config: EmulatorConfig) -> tuple[str, ...]:
    if rule.model_id == "wan2.2-i2v-flash" and region == SG and config.sg_wan22_flash != "yes":
        return tuple(r for r in rule.resolutions if r != "1080P")  # S-PRICE lists 480P/720P
    return rule.resolutions


def limits_for(rule: ModelRule, config: EmulatorConfig) -> tuple[int, int]:
    """(submit RPS, concurrent tasks) of a model (§10), with ``model_limits`` overrides."""
    override = (config.model_limits or {}).get(rule.model_id)
    return override if override is not None else (rule.submit_rps, rule.concurrency)


@dataclass(frozen=True)
class CatalogEntry:
    model: str
    family: str
    path_task: str
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: frozenset[int]
    submit_rps: int
    concurrency: int


def catalog(region: str, config: EmulatorConfig | None = None) -> dict[str, CatalogEntry]:
    """What the emulator serves in ``region``: what a client's catalog is checked against."""
    cfg = config or EmulatorConfig()
    entries: dict[str, CatalogEntry] = {}
    for rule in MODELS.values():
        if not available(rule, region, cfg):
            continue
        rps, concurrency = limits_for(rule, cfg)
        entries[rule.model_id] = CatalogEntry(
            model=rule.model_id,
            family=rule.family,
            path_task=rule.path_task,
            resolutions=resolutions_for(rule, region, cfg),
            default_resolution=rule.default_resolution,
            durations=durations_for(rule, region, cfg),
            submit_rps=rps,
            concurrency=concurrency,
        )
    return entries
