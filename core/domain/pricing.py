"""Prices: the catalog's published prices, the operator's overrides, and the quote of a job.

DashScope bills per second of successful output (reference §5.1); a continuation is billed for
its whole output, the re-emitted clip included (§5.3: a 3 s clip continued to 15 s bills 15 s),
so a quote is always ``unit price × the requested total duration``. Some prices are not
published (Wan 3.0, Singapore kf2v): the quote then says so (``price_known`` is False) unless the
operator set one in ``PRICE_OVERRIDES`` — a small TOML file read by ``bot.settings``::

    ["wan3.0-video"]          # catalog or regional model id
    720P = 0.6                # price per output second, in the region's currency
    1080P = 1.0

An override wins over the published price (it may correct a stale one) and applies with or
without sound. Budgets use ``Quote.price_known`` / ``Quote.unit_price``: a job whose price is
unknown cannot be counted and is refused when a budget is set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from core.domain.capabilities import Model
from core.domain.catalog import find_model
from core.domain.jobs import JobSpec
from core.domain.regions import CURRENCY, Region


class PriceSource(StrEnum):
    CATALOG = "catalog"  # published by Alibaba (reference §5.1, §5.4)
    OPERATOR = "operator"  # PRICE_OVERRIDES
    UNKNOWN = "unknown"  # neither: the cost cannot be known in advance


@dataclass(frozen=True, slots=True)
class PriceOverrides:
    """Operator prices: catalog model id → resolution → price per output second."""

    table: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def parse(cls, data: Mapping[str, object]) -> PriceOverrides:
        """Check a parsed TOML document; ``ValueError`` with one line naming what is wrong."""
        table: dict[str, Mapping[str, float]] = {}
        for name, rows in data.items():
            model = find_model(name)
            if model is None:
                raise ValueError(f"unknown model {name!r}")
            if not isinstance(rows, Mapping):
                raise ValueError(f"[{name}] must be a table of resolution = price per second")
            per: dict[str, float] = {}
            for res, price in rows.items():
                resolution = str(res).upper()
                if resolution not in model.resolutions:
                    made = ", ".join(model.resolutions)
                    raise ValueError(f"{model.id} makes {made}, not {res!r}")
                if isinstance(price, bool) or not isinstance(price, int | float):
                    raise ValueError(f"{model.id} {resolution}: the price must be a number")
                if not (math.isfinite(price) and price >= 0):
                    raise ValueError(f"{model.id} {resolution}: {price!r} is not a price")
                per[resolution] = float(price)
            table[model.id] = MappingProxyType({**table.get(model.id, {}), **per})
        return cls(MappingProxyType(table))

    def get(self, model_id: str, resolution: str) -> float | None:
        return self.table.get(model_id, {}).get(resolution)


@dataclass(frozen=True, slots=True)
class Quote:
    """What a job will cost: ``seconds`` billed at ``unit_price`` (None: not known)."""

    unit_price: float | None
    seconds: int  # the whole output, a continued clip included
    currency: str
    source: PriceSource

    @property
    def price_known(self) -> bool:
        return self.unit_price is not None

    @property
    def cost(self) -> float | None:
        return None if self.unit_price is None else round(self.unit_price * self.seconds, 6)


class PriceBook:
    """The prices of one region: published, overridden by the operator, or unknown."""

    def __init__(self, region: Region, overrides: PriceOverrides | None = None) -> None:
        self.region = Region(region)
        self.currency = CURRENCY[self.region]
        self.overrides = overrides or PriceOverrides()

    def source(self, model: Model, resolution: str, *, sound: bool = True) -> PriceSource:
        if self.overrides.get(model.id, resolution) is not None:
            return PriceSource.OPERATOR
        if model.unit_price(self.region, resolution, sound=sound) is None:
            return PriceSource.UNKNOWN
        return PriceSource.CATALOG

    def unit_price(self, model: Model, resolution: str, *, sound: bool = True) -> float | None:
        """Price per output second in ``currency``; None when nobody knows it."""
        override = self.overrides.get(model.id, resolution)
        if override is not None:
            return override
        return model.unit_price(self.region, resolution, sound=sound)

    def price_known(self, model: Model, resolution: str, *, sound: bool = True) -> bool:
        return self.unit_price(model, resolution, sound=sound) is not None

    def quote(self, spec: JobSpec) -> Quote:
        """The quote of a validated ``spec`` (catalog id, resolution and duration filled in)."""
        model = spec.catalog_model
        resolution = spec.resolution or model.default_resolution
        seconds = spec.duration or model.default_duration
        return Quote(
            unit_price=self.unit_price(model, resolution, sound=spec.sound),
            seconds=seconds,
            currency=self.currency,
            source=self.source(model, resolution, sound=spec.sound),
        )

    def cost(
        self, model: Model, resolution: str, seconds: float, *, sound: bool = True
    ) -> float | None:
        unit = self.unit_price(model, resolution, sound=sound)
        return None if unit is None else round(unit * seconds, 6)
