"""`python -m shared.adapters.pricing refresh` against a local stand-in of the Azure Retail Prices API on 127.0.0.1
(never the internet): it pages, keeps Consumption hourly meters of catalog sizes, files Windows and Spot meters in
their columns, skips Low Priority, and keeps the seed's figure where the API gives none."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.adapters import pricing
from shared.adapters.pricing_seed import seed_table
from shared.domain.pricing import PriceTable


def _item(sku: str, sku_name: str, price: float, product: str = "Virtual Machines DSv5 Series",
          type_: str = "Consumption", unit: str = "1 Hour", region: str = "westeurope") -> dict:
    return {"currencyCode": "USD", "retailPrice": price, "unitPrice": price, "armRegionName": region,
            "armSkuName": sku, "skuName": sku_name, "productName": product, "serviceName": "Virtual Machines",
            "unitOfMeasure": unit, "type": type_}


PAGES = {
    "vm-westeurope": [
        [_item("Standard_D4s_v5", "D4s v5", 0.23), _item("Standard_D4s_v5", "D4s v5 Spot", 0.031),
         _item("Standard_D4s_v5", "D4s v5 Low Priority", 0.046)],
        [_item("Standard_D4s_v5", "D4s v5", 0.414, product="Virtual Machines DSv5 Series Windows"),
         _item("Standard_D4s_v5", "D4s v5", 0.2, type_="DevTestConsumption"),
         _item("Standard_Unknown_v9", "Unknown", 9.0)],
    ],
    "disk-westeurope": [[{"skuName": "P10 LRS", "retailPrice": 21.68, "unitOfMeasure": "1/Month",
                          "type": "Consumption", "armRegionName": "westeurope"}]],
}


@pytest.fixture(scope="module")
def stand_in() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            flt, page = query["$filter"][0], int(query.get("page", ["0"])[0])
            key = ("vm" if "Virtual Machines" in flt else "disk" if "Premium SSD" in flt else "other") + "-" + \
                flt.split("armRegionName eq '")[1].split("'")[0]
            pages = PAGES.get(key, [[]])
            nxt = None
            if page + 1 < len(pages):
                nxt = f"http://127.0.0.1:{self.server.server_address[1]}/api/retail/prices?" + urllib.parse.urlencode(
                    {"$filter": flt, "page": page + 1})
            body = json.dumps({"Items": pages[page], "NextPageLink": nxt, "Count": len(pages[page])}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/retail/prices"
    server.shutdown()
    server.server_close()


def test_refresh_takes_the_apis_figures_and_keeps_the_seed_where_it_gives_none(stand_in: str, tmp_path: Path):
    out = tmp_path / "prices.json"
    assert pricing.main(["refresh", "--url", stand_in, "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    table = PriceTable.from_json(data)
    d4 = table.vm_price("westeurope", "Standard_D4s_v5")
    assert d4 is not None and (d4.linux, d4.windows, d4.spot) == (0.23, 0.414, 0.031)
    seed = seed_table()
    assert data["vm"]["eastus"] == seed["vm"]["eastus"]  # the stand-in gave nothing for eastus
    assert table.disk_monthly("westeurope", "Premium_LRS", 100) == 21.68
    assert "Standard_Unknown_v9" not in data["vm"]["westeurope"]
    assert data["source"].startswith(f"Azure Retail Prices API ({stand_in})") and "3 VM figures" in data["source"]


def test_the_seed_command_writes_the_shipped_table_again(tmp_path: Path):
    out = tmp_path / "prices.json"
    assert pricing.main(["seed", "--out", str(out)]) == 0
    assert out.read_text() == pricing.TABLE_PATH.read_text()
