"""HTTP access to the supplier's catalogue API and the exchange-rate service (nightly sync)."""
import json
import urllib.request

import requests

from ..settings import settings


class SupplierClient:
    def __init__(self, base_url=None, api_token=None):
        self.base_url = (base_url or settings.supplier_api_url).rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_token or settings.supplier_api_token}"

    def catalogue(self):
        response = self.session.get(f"{self.base_url}/catalogue", params={"page_size": 500})
        response.raise_for_status()
        return response.json()["records"]

    def stock_levels(self, skus):
        response = self.session.post(f"{self.base_url}/stock", json={"skus": list(skus)})
        response.raise_for_status()
        return {row["sku"]: row["available"] for row in response.json()}


def exchange_rate(currency):
    response = requests.get(settings.exchange_rates_url, params={"base": "EUR", "symbols": currency})
    response.raise_for_status()
    return response.json()["rates"][currency]


def load_price_list(url):
    """A supplier price list in JSON; file:// URLs load a local export."""
    with urllib.request.urlopen(url) as handle:
        return json.load(handle)
