"""Rebuild the shipped price table (`shared/domain/pricing/prices.json`) from the Azure Retail Prices API.

    python -m shared.adapters.pricing refresh [--url URL] [--out PATH]   # from the API, where the network allows
    python -m shared.adapters.pricing seed [--out PATH]                  # from the anchors (pricing_seed.py)

The API (https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices) is public and
unauthenticated: `GET .../api/retail/prices?$filter=...` answers `{"Items": [...], "NextPageLink": ...}`, each item
with `armSkuName`, `armRegionName`, `retailPrice`, `unitOfMeasure`, `type` ("Consumption" for pay-as-you-go),
`skuName` ("D4s v5", "D4s v5 Spot", "D4s v5 Low Priority"), `productName` (a Windows meter's ends in "Windows")
and `currencyCode`. One query per region of the catalog for virtual machines, one per region for managed disks;
every page is followed. A figure the API does not give (a size not sold in a region, the AKS tiers, private
endpoints, the load balancer) keeps the seed's, and the table's `sources` says so.

The plan and the tests never call this: they read the shipped table only, offline.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.adapters.pricing_seed import seed_table
from shared.domain.pricing import TABLE_PATH
from shared.domain.regions import REGIONS
from shared.domain.vmsizes import CATALOG

RETAIL_PRICES_URL = "https://prices.azure.com/api/retail/prices"
MAX_PAGES = 200  # per query: a region's virtual machines are about 50 pages of 100 items
Fetch = Callable[[str], Mapping[str, Any]]


def http_fetch(url: str, timeout: float = 30.0) -> Mapping[str, Any]:
    """GET a page of the API as JSON."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: Mapping[str, Any] = json.loads(response.read().decode("utf-8"))
        return body


def items(fetch: Fetch, base_url: str, odata_filter: str) -> Iterator[Mapping[str, Any]]:
    """Every item the filter selects, following NextPageLink."""
    url: str | None = f"{base_url}?{urllib.parse.urlencode({'$filter': odata_filter})}"
    for _ in range(MAX_PAGES):
        if not url:
            return
        page = fetch(url)
        yield from page.get("Items") or []
        url = page.get("NextPageLink")
    raise RuntimeError(f"more than {MAX_PAGES} pages for {odata_filter!r}")


def vm_prices(rows: Iterator[Mapping[str, Any]]) -> dict[str, list[float | None]]:
    """[linux, windows, spot] per catalog size from a region's Consumption rows, hourly, USD."""
    out: dict[str, list[float | None]] = {}
    for row in rows:
        sku, sku_name = str(row.get("armSkuName")), str(row.get("skuName", ""))
        if (sku not in CATALOG or row.get("type") != "Consumption" or row.get("unitOfMeasure") != "1 Hour"
                or "Low Priority" in sku_name or row.get("currencyCode", "USD") != "USD"):
            continue
        price = float(row["retailPrice"])
        windows = str(row.get("productName", "")).endswith("Windows")
        column = 2 if "Spot" in sku_name else (1 if windows else 0)
        if "Spot" in sku_name and windows:
            continue  # the table's spot price is Linux's
        out.setdefault(sku, [None, None, None])[column] = price
    return out


def disk_prices(rows: Iterator[Mapping[str, Any]], sizes: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """Monthly LRS prices per disk type and size from the region's managed disk rows ("P10 LRS", "E10 LRS")."""
    out: dict[str, dict[str, float]] = {}
    for row in rows:
        tier = str(row.get("skuName", "")).removesuffix(" LRS")
        if tier not in sizes or row.get("type") != "Consumption" or row.get("unitOfMeasure") != "1/Month":
            continue
        kind = "Premium_LRS" if tier.startswith("P") else "StandardSSD_LRS"
        out.setdefault(kind, {})[sizes[tier]] = float(row["retailPrice"])
    return out


_DISK_TIERS = {f"{p}{n}": size for p in ("P", "E") for n, size in
               (("4", "32"), ("6", "64"), ("10", "128"), ("15", "256"), ("20", "512"), ("30", "1024"),
                ("40", "2048"))}


def refresh(fetch: Fetch, base_url: str = RETAIL_PRICES_URL, today: str | None = None) -> dict[str, Any]:
    """The seed table with every figure the API gives replaced by the API's."""
    table = seed_table()
    from_api = 0
    for region in sorted(REGIONS):
        flt = f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' and priceType eq 'Consumption'"
        for sku, row in vm_prices(items(fetch, base_url, flt)).items():
            seeded = table["vm"][region][sku]
            table["vm"][region][sku] = [seeded[i] if v is None else round(v, 4) for i, v in enumerate(row)]
            from_api += sum(v is not None for v in row)
        for product in ("Premium SSD Managed Disks", "Standard SSD Managed Disks"):
            query = f"serviceName eq 'Storage' and armRegionName eq '{region}' and productName eq '{product}'"
            for kind, prices in disk_prices(items(fetch, base_url, query), _DISK_TIERS).items():
                table["disks"][region][kind].update(prices)
    day = today or datetime.now(UTC).date().isoformat()
    table["asOf"] = day
    table["source"] = (f"Azure Retail Prices API ({base_url}), fetched {day}: {from_api} VM figures; figures it did "
                       "not give keep the seed's (see sources and derivations)")
    return table


def dumps(table: Mapping[str, Any]) -> str:
    """JSON with one line per region in `vm` and `disks` (a refresh's diff reads region by region)."""
    lines = []
    for key, value in table.items():
        if key in ("vm", "disks"):
            rows = [f"  {json.dumps(region)}: {json.dumps(per_region, separators=(',', ':'))}"
                    for region, per_region in value.items()]
            lines.append(f" {json.dumps(key)}: {{\n" + ",\n".join(rows) + "\n }")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, indent=1).replace(chr(10), chr(10) + ' ')}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write(table: Mapping[str, Any], out: Path) -> None:
    out.write_text(dumps(table), encoding="utf-8")


def main(argv: list[str] | None = None, fetch: Fetch = http_fetch) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.adapters.pricing")
    parser.add_argument("command", choices=["refresh", "seed"])
    parser.add_argument("--url", default=RETAIL_PRICES_URL)
    parser.add_argument("--out", type=Path, default=TABLE_PATH)
    args = parser.parse_args(argv)
    table = refresh(fetch, args.url) if args.command == "refresh" else seed_table()
    write(table, args.out)
    print(f"wrote {args.out}: {len(table['vm'])} regions x {len(CATALOG)} sizes, as of {table['asOf']}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
