"""DashScope regions as data: their hosts, currency and temporary storage.

Facts from ``shared/reference/dashscope-api.md`` §1 (hosts), §5.1 (currencies) and §11 (the
temporary ``oss://`` upload, Beijing only). Which models each region serves, with what durations
and prices, is part of each model's row in ``core.domain.catalog``. Adding a region is one
``RegionInfo`` row here plus its entries in the model rows.

Every region has a workspace host (``https://{WorkspaceId}.{region}.maas.aliyuncs.com/api/v1``,
recommended by the 2026 docs); Beijing, Singapore and Virginia also keep a shared "DashScope
domain" that works without a workspace id. Frankfurt, Tokyo and Hong Kong have the workspace
host only, so a deployment there must name its workspace (``DASHSCOPE_WORKSPACE_ID``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Region(StrEnum):
    """DashScope regions. Keys, endpoints and model ids all belong to one region."""

    BEIJING = "cn-beijing"
    SINGAPORE = "ap-southeast-1"
    VIRGINIA = "us-east-1"
    FRANKFURT = "eu-central-1"
    TOKYO = "ap-northeast-1"
    HONG_KONG = "cn-hongkong"


#: a workspace id is one DNS label of the workspace host (the console's "API Host" column)
_WORKSPACE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RegionInfo:
    region: Region
    name: str  # for people: "China (Beijing)"
    #: the shared DashScope domain, where the region has one (no workspace id needed)
    shared_url: str | None
    #: the currency the region's prices are quoted in (reference §5.1)
    currency: str
    #: DashScope's free temporary storage (``oss://``, reference §11) exists here: the only way
    #: to hand it a file that has no public URL and may not travel as Base64 (audio, clips)
    temporary_storage: bool = False

    def workspace_url(self, workspace_id: str) -> str:
        """The workspace host of ``workspace_id`` in this region (reference §1)."""
        if not valid_workspace_id(workspace_id):
            raise ValueError(f"{workspace_id!r} is not a workspace id")
        return f"https://{workspace_id.lower()}.{self.region.value}.maas.aliyuncs.com/api/v1"

    def base_url(self, workspace_id: str | None = None) -> str | None:
        """The workspace host when a workspace is named, else the shared domain (None when
        the region has none)."""
        return self.workspace_url(workspace_id) if workspace_id else self.shared_url


def valid_workspace_id(text: str) -> bool:
    return bool(_WORKSPACE_ID.match(text))


REGIONS: Mapping[Region, RegionInfo] = MappingProxyType(
    {
        info.region: info
        for info in (
            RegionInfo(
                Region.BEIJING,
                "China (Beijing)",
                "https://dashscope.aliyuncs.com/api/v1",
                "CNY",
                temporary_storage=True,
            ),
            # the shared domain "still works" (no shut-down date found), reference §1
            RegionInfo(
                Region.SINGAPORE,
                "Singapore",
                "https://dashscope-intl.aliyuncs.com/api/v1",
                "USD",
            ),
            # [uncertain] the 2026 regions page lists only the workspace host for Virginia;
            # older pages use dashscope-us: kept as the fallback without a workspace id
            RegionInfo(
                Region.VIRGINIA, "US (Virginia)", "https://dashscope-us.aliyuncs.com/api/v1", "CNY"
            ),
            RegionInfo(Region.FRANKFURT, "Germany (Frankfurt)", None, "CNY"),
            # Tokyo and Hong Kong serve only Wan 3.0, whose prices are not published; the
            # currency is the one the price page quotes every non-Singapore region in
            RegionInfo(Region.TOKYO, "Japan (Tokyo)", None, "CNY"),
            RegionInfo(Region.HONG_KONG, "China (Hong Kong)", None, "CNY"),
        )
    }
)

#: The shared DashScope domain of each region that has one (reference §1).
BASE_URLS: Mapping[Region, str] = MappingProxyType(
    {r: info.shared_url for r, info in REGIONS.items() if info.shared_url is not None}
)

#: Currency prices are quoted in, per region (reference §5.1).
CURRENCY: Mapping[Region, str] = MappingProxyType({r: info.currency for r, info in REGIONS.items()})
