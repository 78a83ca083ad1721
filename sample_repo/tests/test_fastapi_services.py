import asyncio
import json
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from fastapi_app.models import Item, Order, SyncRun
from fastapi_app.order_schemas import OrderCreate
from fastapi_app.services import inventory_service, order_service, pricing, supplier_client, sync_service
from fastapi_app.settings import settings


@pytest.fixture
def session(inventory_db):
    with inventory_db.Session() as session:
        yield session


def seed(inventory_db, **quantities):
    with inventory_db.Session() as s:
        s.add_all(Item(sku=sku, name=sku, price=Decimal("10.00"), quantity=q) for sku, q in quantities.items())
        s.commit()


def committed_items(inventory_db):
    with inventory_db.Session() as s:
        return {i.sku: (i.name, i.price, i.quantity) for i in s.scalars(select(Item))}


class TestSyncService:
    def test_upsert_catalogue_creates_and_updates(self, inventory_db, session):
        seed(inventory_db, A=4)
        records = [
            {"sku": "A", "name": "Renamed", "price": "12,50"},
            {"sku": "B", "name": "New", "price": "3.10"},
        ]

        assert sync_service.upsert_catalogue(session, records) == 2

        assert committed_items(inventory_db) == {
            "A": ("Renamed", Decimal("12.50"), 4),
            "B": ("New", Decimal("3.10"), 0),
        }

    def test_price_feed_stops_at_end_marker(self, inventory_db, session):
        seed(inventory_db, A=1, B=1)
        feed = [{"sku": "A", "price": "5"}, {"sku": "nope", "price": "1"}, {"end_of_feed": True}, {"sku": "B", "price": "7"}]

        assert sync_service.apply_price_feed(session, feed) == 1

        items = committed_items(inventory_db)
        assert (items["A"][1], items["B"][1]) == (Decimal("5.00"), Decimal("10.00"))

    def test_price_feed_without_marker_applies_everything(self, inventory_db, session):
        seed(inventory_db, A=1, B=1)

        assert sync_service.apply_price_feed(session, [{"sku": "A", "price": "5"}, {"sku": "B", "price": "6"}]) == 2

        assert {sku: v[1] for sku, v in committed_items(inventory_db).items()} == {"A": Decimal("5.00"), "B": Decimal("6.00")}

    def test_bundle_discounts_apply_per_bundle(self, inventory_db, session):
        seed(inventory_db, A=1, B=1, C=1)
        bundles = [{"name": "desk", "skus": ["A", "B"], "percent_off": 10}, {"name": "all", "skus": ["B", "C"], "percent_off": 50}]

        sync_service.apply_bundle_discounts(session, bundles)

        assert {sku: v[1] for sku, v in committed_items(inventory_db).items()} == {
            "A": Decimal("9.00"), "B": Decimal("4.50"), "C": Decimal("5.00"),
        }

    def test_snapshot_import_commits_checkpoints_and_tail(self, inventory_db, session, monkeypatch):
        monkeypatch.setattr(settings, "sync_checkpoint_every", 2)
        records = [{"sku": f"S{i}", "name": f"Item {i}", "price": "1"} for i in range(5)]

        assert sync_service.import_catalogue_snapshot(session, records) == 5

        assert sorted(committed_items(inventory_db)) == ["S0", "S1", "S2", "S3", "S4"]

    def test_stock_sync_keeps_good_records_when_one_fails(self, inventory_db, session):
        seed(inventory_db, A=1, B=1)
        levels = [{"sku": "A", "quantity": "8"}, {"sku": "missing", "quantity": "1"}, {"sku": "B", "quantity": "x"},
                  {"sku": "B", "quantity": 3}]

        run = sync_service.sync_stock_levels(session, levels)

        assert {sku: v[2] for sku, v in committed_items(inventory_db).items()} == {"A": 8, "B": 3}
        with inventory_db.Session() as s:
            stored = s.get(SyncRun, run.id)
            assert (stored.source, stored.processed, stored.failed) == ("warehouse", 2, 2)

    def test_reserve_stock_keeps_earlier_reservations_when_it_raises(self, inventory_db, session):
        seed(inventory_db, A=5, B=1, C=5)

        with pytest.raises(sync_service.OutOfStock):
            sync_service.reserve_stock(session, [("A", 2), ("B", 3), ("C", 1)])

        session.rollback()
        assert {sku: v[2] for sku, v in committed_items(inventory_db).items()} == {"A": 3, "B": 1, "C": 5}

    def test_reserve_stock_all_available(self, inventory_db, session):
        seed(inventory_db, A=5, B=1)

        assert sync_service.reserve_stock(session, [("A", 2), ("B", 1)]) == ["A", "B"]
        assert {sku: v[2] for sku, v in committed_items(inventory_db).items()} == {"A": 3, "B": 0}

    def test_adjustments_discard_negative_results_only(self, inventory_db, session):
        seed(inventory_db, A=10, B=1)

        assert sync_service.apply_adjustments(session, [("A", -2), ("B", -5), ("A", 1)]) == 2

        assert {sku: v[2] for sku, v in committed_items(inventory_db).items()} == {"A": 9, "B": 1}


class TestOrderService:
    def test_import_orders_commits_each_and_returns_ids(self, inventory_db):
        payloads = [
            OrderCreate.model_validate({"customerEmail": f"c{i}@example.com", "externalRef": f"R{i}",
                                   "lines": [{"itemId": 1, "quantity": 1}]})
            for i in range(3)
        ]

        async def run():
            async with inventory_db.AsyncSession() as session:
                return await order_service.import_orders(session, payloads)

        ids = asyncio.run(run())

        with inventory_db.Session() as s:
            orders = s.scalars(select(Order).order_by(Order.id)).all()
            assert ids == [o.id for o in orders]
            assert [(o.external_ref, len(o.lines)) for o in orders] == [("R0", 1), ("R1", 1), ("R2", 1)]

    def test_ingest_marketplace_stream(self, inventory_db):
        async def stream():
            for i in range(4):
                await asyncio.sleep(0)
                yield {"email": f"m{i}@example.com", "ref": f"MKT-{i}"}

        async def run():
            async with inventory_db.AsyncSession() as session:
                return await order_service.ingest_marketplace_stream(session, stream())

        assert asyncio.run(run()) == 4
        with inventory_db.Session() as s:
            assert [(o.external_ref, o.status) for o in s.scalars(select(Order).order_by(Order.id))] == [
                (f"MKT-{i}", "paid") for i in range(4)
            ]

    def test_ingest_marketplace_stream_keeps_the_marketplace_timestamp(self, inventory_db):
        async def stream():
            yield {"email": "m@example.com", "ref": "MKT-T", "placed_at": 1_700_000_000.25}

        async def run():
            async with inventory_db.AsyncSession() as session:
                return await order_service.ingest_marketplace_stream(session, stream())

        assert asyncio.run(run()) == 1
        with inventory_db.Session() as s:
            [order] = s.scalars(select(Order))
            assert order.created_at == datetime(2023, 11, 14, 22, 13, 20, 250000)

    def test_mark_shipped_skips_unknown_refs(self, inventory_db):
        with inventory_db.Session() as s:
            s.add_all([Order(customer_email="a@x.io", external_ref="A"), Order(customer_email="b@x.io", external_ref="B")])
            s.commit()

        async def run():
            async with inventory_db.AsyncSession() as session:
                return await order_service.mark_shipped(session, ["A", "UNKNOWN", "B"])

        assert asyncio.run(run()) == ["A", "B"]
        with inventory_db.Session() as s:
            assert {o.external_ref: o.status for o in s.scalars(select(Order))} == {"A": "shipped", "B": "shipped"}


class TestInventoryService:
    def test_restock_missing_item_returns_none(self, session):
        assert inventory_service.restock(session, 42, 1) is None

    def test_stock_levels_flag_low_stock(self, inventory_db, session):
        seed(inventory_db, A=5, B=6)

        levels = inventory_service.stock_levels(session)

        assert [(lvl.sku, lvl.quantity, lvl.low) for lvl in levels] == [("A", 5, True), ("B", 6, False)]


class TestPricing:
    @pytest.mark.parametrize("quantity, rate", [(1, "0"), (10, "0.05"), (20, "0.10"), (250, "0.15")])
    def test_discount_rate(self, quantity, rate):
        assert pricing.discount_rate_for(quantity) == Decimal(rate)

    def test_quote_uses_money_values(self):
        quote = pricing.quote("MUG-001", "9.50", 20)

        assert quote.total == pricing.Money("171.00")
        assert quote.unit_price == pricing.Money("9.50")
        assert quote.discount_rate == Decimal("0.10")

    def test_quote_rejects_non_money_amounts(self):
        with pytest.raises(ValueError):
            pricing.PriceQuote(sku="x", quantity=1, unit_price="9.50", total="9.50")

    @pytest.mark.parametrize("raw, expected", [("12,50", Decimal("12.50")), (3, Decimal("3")), ("n/a", None)])
    def test_parse_price(self, raw, expected):
        assert pricing.parse_price(raw) == expected


class TestSupplierClient:
    def test_sync_from_supplier_upserts_the_catalogue(self, inventory_db, session, http):
        http.routes[f"{settings.supplier_api_url}/catalogue"] = {"records": [{"sku": "S-1", "name": "Bolt", "price": "1.50"}]}

        assert sync_service.sync_from_supplier(session, supplier_client.SupplierClient(api_token="t0k")) == 1
        assert committed_items(inventory_db) == {"S-1": ("Bolt", Decimal("1.50"), 0)}
        [sent] = http.sent
        assert sent.headers["Authorization"] == "Bearer t0k"

    def test_stock_levels(self, http):
        http.routes[f"{settings.supplier_api_url}/stock"] = [{"sku": "S-1", "available": 7}]

        assert supplier_client.SupplierClient().stock_levels(["S-1"]) == {"S-1": 7}
        assert json.loads(http.sent[0].body) == {"skus": ["S-1"]}

    def test_errors_from_the_supplier_raise(self, http):
        http.routes[f"{settings.supplier_api_url}/catalogue"] = 502

        with pytest.raises(supplier_client.requests.HTTPError):
            supplier_client.SupplierClient().catalogue()

    def test_exchange_rate(self, http):
        http.routes[settings.exchange_rates_url] = {"rates": {"USD": 1.08}}

        assert supplier_client.exchange_rate("USD") == 1.08
        assert http.sent[0].url.endswith("?base=EUR&symbols=USD")

    def test_price_list_from_a_local_export(self, tmp_path):
        export = tmp_path / "prices.json"
        export.write_text(json.dumps([{"sku": "S-1", "price": "1.50"}]))

        assert supplier_client.load_price_list(export.as_uri()) == [{"sku": "S-1", "price": "1.50"}]
