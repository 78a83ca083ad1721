"""Schema behaviour that holds both with v1-style ``class Config`` and after conversion to ``model_config``."""
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from fastapi_app.order_schemas import OrderCreate, OrderRead
from fastapi_app.schemas import ItemCreate, ItemRead, ItemUpdate, ReportFormatter, StockLevel
from fastapi_app.settings import Settings


def test_item_create_forbids_extra_fields():
    with pytest.raises(ValidationError):
        ItemCreate(sku="MUG-001", name="Mug", price="1.00", colour="red")


def test_item_create_validates_inherited_fields():
    item = ItemCreate(sku="MUG-001", name="Mug", price="9.50")

    assert (item.sku, item.price, item.quantity) == ("MUG-001", Decimal("9.50"), 0)
    with pytest.raises(ValidationError):
        ItemCreate(sku="M", name="Mug", price="9.50")
    with pytest.raises(ValidationError):
        ItemCreate(sku="MUG-001", name="Mug", price="-1")


def test_item_sku_is_normalised_before_its_length_is_checked():
    assert ItemCreate(sku=" mug-002 ", name="Mug", price="1").sku == "MUG-002"
    with pytest.raises(ValidationError):
        ItemCreate(sku=" m ", name="Mug", price="1")


def test_order_create_rejects_the_same_item_twice():
    with pytest.raises(ValidationError, match="only once per order"):
        OrderCreate(customerEmail="ana@example.com", lines=[{"itemId": 3, "quantity": 1}, {"itemId": 3, "quantity": 2}])


def test_item_update_forbids_extra_fields():
    assert (
        ItemUpdate(price="2").model_dump(exclude_unset=True) == {"price": Decimal("2")}
    )
    with pytest.raises(ValidationError):
        ItemUpdate(prcie="2")


def test_item_read_from_orm_like_object():
    row = SimpleNamespace(id=1, sku="MUG-001", name="Mug", price=Decimal("9.50"), quantity=3, status="active")

    assert ItemRead.model_validate(row, from_attributes=True).model_dump() == vars(row)


def test_order_create_accepts_camel_case_aliases():
    order = OrderCreate(customerEmail="ana@example.com", externalRef="SHOP-1", lines=[{"itemId": 3, "quantity": 2}])

    assert (order.customer_email, order.external_ref) == ("ana@example.com", "SHOP-1")
    assert [(line.item_id, line.quantity) for line in order.lines] == [(3, 2)]


def test_order_read_inherits_base_from_other_module():
    line = SimpleNamespace(id=1, item_id=3, quantity=2, unit_price=Decimal("9.50"))
    row = SimpleNamespace(id=7, customer_email="a@x.io", status="paid", external_ref=None,
                          created_at="2024-05-01T10:00:00Z", lines=[line])

    order = OrderRead.model_validate(row, from_attributes=True)

    assert (order.id, order.lines[0].unit_price) == (7, Decimal("9.50"))


def test_stock_level_defaults():
    assert StockLevel(sku="A", quantity=1).low is False


def test_report_formatter_reads_its_plain_config():
    line = ReportFormatter().format_line(StockLevel(sku="A", quantity=3, low=True), Decimal("2.50"))

    assert line == "A: 3 units (7.50 EUR)"
    assert ReportFormatter.Config.currency == "EUR"


def test_settings_defaults():
    settings = Settings()

    assert settings.app_name == "inventory-api"
    assert settings.database_url.startswith("sqlite:///")


def test_settings_read_prefixed_environment(monkeypatch):
    monkeypatch.setenv("APP_APP_NAME", "inventory-staging")
    monkeypatch.setenv("APP_LOW_STOCK_THRESHOLD", "2")

    settings = Settings()

    assert (settings.app_name, settings.low_stock_threshold) == ("inventory-staging", 2)
