"""The pricing catalog: prices kept apart from quantities, each with its source and as-of date.

    shipped_catalog()                -> {id: Price}   opslib/data/pricing.csv
    load_catalog(cost, base_dir, base=None) -> {id: Price}   base (default: shipped), then cost.catalog file, then cost.prices
    build_catalog(src, dst)          one-off: shared pricing-catalog.csv → opslib/data/pricing.csv
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from opslib.catalog.loaders import DATA_DIR
from opslib.errors import CatalogError, ParamsError

__all__ = ["Price", "PRICING_CSV", "COLUMNS", "shipped_catalog", "load_catalog", "read_catalog", "price_id", "build_catalog"]

PRICING_CSV = DATA_DIR / "pricing.csv"
COLUMNS = ("id", "provider", "service", "sku", "region", "unit", "price_usd", "source", "as_of", "as_of_note")


@dataclass(frozen=True)
class Price:
    id: str
    provider: str
    service: str
    sku: str
    region: str
    unit: str
    price_usd: float | None
    source: str
    as_of: date | None
    as_of_note: str = ""

    @property
    def label(self) -> str:
        return f"{self.provider} {self.service} {self.sku} ({self.region})"


def price_id(provider: str, service: str, sku: str, region: str) -> str:
    """A stable, readable id: aws EC2 "t3.medium Linux on-demand" us-east-1 → aws.ec2.t3-medium-linux-on-demand.us-east-1."""

    def slug(text: str) -> str:
        return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", text.lower().replace(".", "-"))).strip("-")

    return ".".join(slug(p) for p in (provider, service, sku, region))


def _iso(note: str) -> date | None:
    """The first date in a free-text as-of note: 2026-03-22 → that day, 2024-09 → the 1st, 2026 → 1 January."""
    for pattern, _precision in ((r"(\d{4})-(\d{2})-(\d{2})", "d"), (r"(\d{4})-(\d{2})(?!\d)", "m"), (r"(?<!\d)(20\d{2})(?!\d)", "y")):
        m = re.search(pattern, note)
        if m:
            parts = [int(x) for x in m.groups()] + [1, 1]
            return date(parts[0], parts[1], parts[2])
    return None


def read_catalog(path: Path) -> dict[str, Price]:
    """Read a catalog CSV (columns of opslib/data/pricing.csv; as_of_note optional)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise CatalogError(f"{path}: pricing catalog not found; fix cost.catalog in the parameters or create the file.") from None
    out: dict[str, Price] = {}
    for n, row in enumerate(rows, start=2):
        missing = [c for c in COLUMNS[:-1] if c not in row or row[c] is None]
        if missing:
            raise CatalogError(f"{path}: line {n} lacks column(s) {', '.join(missing)}; use the columns {', '.join(COLUMNS)}.")
        try:
            price = float(row["price_usd"]) if row["price_usd"].strip() else None
            as_of = date.fromisoformat(row["as_of"]) if row["as_of"].strip() else None
        except ValueError:
            raise CatalogError(f"{path}: line {n} has a bad price_usd or as_of ({row['price_usd']!r}, {row['as_of']!r}); use a number and YYYY-MM-DD.") from None
        out[row["id"]] = Price(row["id"], row["provider"], row["service"], row["sku"], row["region"], row["unit"], price,
                               row["source"], as_of, row.get("as_of_note") or "")
    return out


@cache
def shipped_catalog() -> dict[str, Price]:
    return read_catalog(PRICING_CSV)


def load_catalog(cost: Any, base_dir: Path | None, base: dict[str, Price] | None = None, extra: Any = ()) -> dict[str, Price]:
    """`base` prices (default: the shipped ones; a project's: params.catalog.prices), overridden by
    the project's catalog file (cost.catalog), overridden by cost.prices; then `extra` entries
    (the dependencies' own prices, params.cost_price_entries)."""
    prices = dict(shipped_catalog() if base is None else base)
    if cost.catalog:
        path = Path(cost.catalog)
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        prices.update(read_catalog(path))
    for p in cost.prices:
        prices[p.id] = Price(p.id, p.provider, p.service, p.sku, p.region, p.unit, p.price_usd, p.source, p.as_of, "cost.prices in the parameters")
    for p in extra:
        prices[p.id] = Price(p.id, p.provider, p.service, p.sku, p.region, p.unit, p.price_usd, p.source, p.as_of, "dependencies[].pricing in the parameters")
    return prices


def resolve(prices: dict[str, Price], pid: str, where: str) -> Price:
    if pid not in prices:
        raise ParamsError(where, [f"cost.components: unknown price id {pid!r}; pick one from opslib/data/pricing.csv or add it under cost.prices"])
    return prices[pid]


# Prices the shared catalog lacks, read by the opslib authors from the vendors' public
# price pages (the as-of date is when they were read; verify before budgeting).
EXTRA_ROWS = [
    ("heroku", "Dynos", "Basic", "us", "dyno-month", "7", "https://www.heroku.com/pricing (public price page; monthly cap of an always-on dyno)", "2025-06-01"),
    ("heroku", "Dynos", "Standard-1X", "us", "dyno-month", "25", "https://www.heroku.com/pricing (public price page; monthly cap of an always-on dyno)", "2025-06-01"),
    ("heroku", "Dynos", "Standard-2X", "us", "dyno-month", "50", "https://www.heroku.com/pricing (public price page; monthly cap of an always-on dyno)", "2025-06-01"),
    ("heroku", "Dynos", "Performance-M", "us", "dyno-month", "250", "https://www.heroku.com/pricing (public price page; monthly cap of an always-on dyno)", "2025-06-01"),
    ("heroku", "Heroku Key-Value Store", "Mini", "us", "month", "3", "https://elements.heroku.com/addons/heroku-redis (public plan list)", "2025-06-01"),
    ("heroku", "Heroku Key-Value Store", "Premium-0", "us", "month", "15", "https://elements.heroku.com/addons/heroku-redis (public plan list)", "2025-06-01"),
    # AWS Fargate (ECS): the Fargate price page renders per-region rates in the browser only; the
    # ECS price page's worked example states the US East vCPU rate. No vendor text for eu-west-1
    # was found, so it is left out (add it under cost.prices after reading the console).
    ("aws", "Fargate", "vCPU", "us-east-1", "vCPU-hour", "0.04048", "https://aws.amazon.com/ecs/pricing/ (Fargate example, Linux/x86, US East (N. Virginia): $0.000011244 per vCPU-second = $0.04048 per hour)", "read 2026-12-01"),
    ("aws", "Fargate", "memory", "us-east-1", "GB-hour", "0.004445", "THIRD-PARTY: https://www.vantage.sh/blog/fargate-pricing (us-east-1 Linux/x86 table; the vendor page https://aws.amazon.com/fargate/pricing/ renders the rate only in the browser)", "read 2026-12-01"),
    # Google Cloud Run, Tier 1 regions (us-central1 and europe-west1 are both Tier 1). The stored
    # vendor page shows the CPU rates; its memory and request cells were cut off, so those two
    # are confirmed by a third-party calculator quoting the same table.
    ("gcp", "Cloud Run", "CPU (tier 1, request-based)", "us-central1", "vCPU-second", "0.000024", "https://cloud.google.com/run/pricing (Tier 1, CPU only allocated during request processing)", "read 2026-12-01"),
    ("gcp", "Cloud Run", "CPU (tier 1, request-based)", "europe-west1", "vCPU-second", "0.000024", "https://cloud.google.com/run/pricing (Tier 1, CPU only allocated during request processing)", "read 2026-12-01"),
    ("gcp", "Cloud Run", "CPU (tier 1, instance-based)", "us-central1", "vCPU-second", "0.000018", "https://cloud.google.com/run/pricing (Tier 1, services with CPU always allocated, and jobs)", "read 2026-12-01"),
    ("gcp", "Cloud Run", "CPU (tier 1, instance-based)", "europe-west1", "vCPU-second", "0.000018", "https://cloud.google.com/run/pricing (Tier 1, services with CPU always allocated, and jobs)", "read 2026-12-01"),
    ("gcp", "Cloud Run", "memory (tier 1, request-based)", "us-central1", "GiB-second", "0.0000025", "https://cloud.google.com/run/pricing (Tier 1, request-based); THIRD-PARTY confirmation of the cell: https://cloudwebschool.com/tools/cloud-run-cost-calculator/", "read 2026-12-01"),
    ("gcp", "Cloud Run", "memory (tier 1, request-based)", "europe-west1", "GiB-second", "0.0000025", "https://cloud.google.com/run/pricing (Tier 1, request-based); THIRD-PARTY confirmation of the cell: https://cloudwebschool.com/tools/cloud-run-cost-calculator/", "read 2026-12-01"),
    ("gcp", "Cloud Run", "requests (tier 1, beyond 2M free)", "us-central1", "1M requests", "0.40", "https://cloud.google.com/run/pricing (Tier 1, request-based; 2 million requests a month free per billing account); THIRD-PARTY confirmation of the cell: https://cloudwebschool.com/tools/cloud-run-cost-calculator/", "read 2026-12-01"),
    ("gcp", "Cloud Run", "requests (tier 1, beyond 2M free)", "europe-west1", "1M requests", "0.40", "https://cloud.google.com/run/pricing (Tier 1, request-based; 2 million requests a month free per billing account); THIRD-PARTY confirmation of the cell: https://cloudwebschool.com/tools/cloud-run-cost-calculator/", "read 2026-12-01"),
    # Azure Container Apps, consumption plan. Rates differ by region; no vendor text for eastus or
    # westeurope was found, so those are left out (Azure Retail Prices API: serviceName 'Azure
    # Container Apps', meters 'Standard vCPU Active Usage' and 'Standard Memory Active Usage').
    ("azure", "Container Apps", "vCPU active usage (consumption)", "centralus", "vCPU-second", "0.000024", "https://techcommunity.microsoft.com/blog/appsonazureblog/understanding-idle-usage-in-azure-container-apps/4419197 (Microsoft: central US, pay-as-you-go)", "read 2026-12-01"),
    ("azure", "Container Apps", "memory active usage (consumption)", "centralus", "GiB-second", "0.000003", "https://techcommunity.microsoft.com/blog/appsonazureblog/understanding-idle-usage-in-azure-container-apps/4419197 (Microsoft: central US, pay-as-you-go; the post writes 'per MB', the meter is per GiB-second)", "read 2026-12-01"),
    ("azure", "Container Apps", "vCPU active usage (consumption)", "westus2", "vCPU-second", "0.000034", "THIRD-PARTY transcription of https://prices.azure.com/api/retail/prices (serviceName 'Azure Container Apps', armRegionName westus2, meter 'Standard vCPU Active Usage', effective 2022-06-01)", "read 2026-12-01"),
    ("azure", "Container Apps", "memory active usage (consumption)", "westus2", "GiB-second", "0.000004", "THIRD-PARTY transcription of https://prices.azure.com/api/retail/prices (serviceName 'Azure Container Apps', armRegionName westus2, meter 'Standard Memory Active Usage', effective 2022-06-01)", "read 2026-12-01"),
    ("azure", "Container Apps", "requests (beyond 2M free)", "westus2", "1M requests", "0.40", "THIRD-PARTY transcription of https://prices.azure.com/api/retail/prices (serviceName 'Azure Container Apps', armRegionName westus2, meter 'Standard Requests', effective 2022-06-01; 2 million requests a month free per subscription)", "read 2026-12-01"),
    ("openweathermap", "One Call API 3.0", "call beyond 1,000 free calls per day", "global", "call", "0.0015", "https://openweathermap.org/api/one-call-3 (pay-as-you-call; 1,000 calls/day free)", "2025-06-01"),
]


def build_catalog(src: Path, dst: Path = PRICING_CSV) -> int:
    """Rebuild opslib/data/pricing.csv from the shared catalog plus EXTRA_ROWS; returns the row count."""
    with open(src, newline="", encoding="utf-8") as fh:
        rows = [(r["provider"], r["service"], r["sku"], r["region"], r["unit"], r["price_usd"], r["source"], r["as_of"]) for r in csv.DictReader(fh)]
    out = []
    seen: set[str] = set()
    for provider, service, sku, region, unit, price, source, note in rows + EXTRA_ROWS:
        pid = price_id(provider, service, sku, region)
        if pid in seen:
            continue
        seen.add(pid)
        as_of = _iso(note)
        out.append([pid, provider, service, sku, region, unit, price, source, as_of.isoformat() if as_of else "", note])
    out.sort(key=lambda r: r[0])
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(out)
    return len(out)
