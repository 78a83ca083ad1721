from decimal import Decimal

from sqlalchemy import select

from fastapi_app.models import Item


def stored_items(inventory_db):
    with inventory_db.Session() as session:
        return session.scalars(select(Item).order_by(Item.sku)).all()


def create(api, sku="MUG-001", name="Enamel mug", price="9.50", quantity=12):
    return api.post("/items", json={"sku": sku, "name": name, "price": price, "quantity": quantity})


def test_health(api):
    assert api.get("/health").json() == {"status": "ok", "app": "inventory-api"}


def test_create_item_persists_and_returns_refreshed_row(api, inventory_db):
    response = create(api)

    assert response.status_code == 201
    [item] = stored_items(inventory_db)
    body = response.json()
    assert body["id"] == item.id
    assert (body["sku"], body["name"], Decimal(body["price"]), body["quantity"], body["status"]) == (
        "MUG-001", "Enamel mug", Decimal("9.50"), 12, "active",
    )


def test_create_item_duplicate_sku_is_conflict(api, inventory_db):
    create(api)

    assert create(api, name="Other").status_code == 409
    assert [i.name for i in stored_items(inventory_db)] == ["Enamel mug"]


def test_create_item_rejects_unknown_fields(api, inventory_db):
    response = api.post("/items", json={"sku": "MUG-001", "name": "Mug", "price": "1", "colour": "red"})

    assert response.status_code == 422
    assert stored_items(inventory_db) == []


def test_list_and_get_items_are_read_only(api):
    create(api, sku="ZZZ-1")
    mug_id = create(api, sku="AAA-1").json()["id"]

    assert [i["sku"] for i in api.get("/items").json()] == ["AAA-1", "ZZZ-1"]
    assert api.get(f"/items/{mug_id}").json()["sku"] == "AAA-1"
    assert api.get("/items?status=discontinued").json() == []
    assert api.get("/items/999").status_code == 404


def test_update_item_changes_only_sent_fields(api, inventory_db):
    item_id = create(api).json()["id"]

    response = api.put(f"/items/{item_id}", json={"price": "11.00"})

    assert response.status_code == 200
    [item] = stored_items(inventory_db)
    assert (item.name, item.price, item.quantity) == ("Enamel mug", Decimal("11.00"), 12)
    assert api.put(f"/items/{item_id}", json={"prcie": "1"}).status_code == 422
    assert api.put("/items/999", json={"name": "x"}).status_code == 404


def test_set_item_status_commits_and_reports_previous(api, inventory_db):
    item_id = create(api).json()["id"]

    response = api.patch(f"/items/{item_id}/status", json={"status": "discontinued"})

    assert response.json() == {"id": item_id, "status": "discontinued", "previous": "active"}
    assert stored_items(inventory_db)[0].status == "discontinued"
    assert api.patch(f"/items/{item_id}/status", json={"status": "lost"}).status_code == 422


def test_delete_item(api, inventory_db):
    item_id = create(api).json()["id"]

    response = api.delete(f"/items/{item_id}")

    assert response.status_code == 204
    assert response.content == b""
    assert stored_items(inventory_db) == []
    assert api.delete(f"/items/{item_id}").status_code == 404


def test_restock_route_uses_service_commit(api, inventory_db):
    item_id = create(api, quantity=0).json()["id"]
    api.patch(f"/items/{item_id}/status", json={"status": "backorder"})

    response = api.post(f"/items/{item_id}/restock", params={"quantity": 7})

    assert response.status_code == 200
    assert (response.json()["quantity"], response.json()["status"]) == (7, "active")
    [item] = stored_items(inventory_db)
    assert (item.quantity, item.status) == (7, "active")
    assert api.post("/items/999/restock", params={"quantity": 1}).status_code == 404


def test_low_stock_report(api):
    create(api, sku="LOW-1", price="2.50", quantity=2)
    create(api, sku="LOTS-1", quantity=50)

    assert api.get("/items/reports/low-stock").json() == {"lines": ["LOW-1: 2 units (5.00 EUR)"]}


def test_openapi_schema_builds(api):
    assert api.get("/openapi.json").status_code == 200


def test_search_items_by_name_or_sku(api):
    create(api, sku="MUG-001", name="Enamel mug")
    create(api, sku="CUP-002", name="Paper cup")

    found = api.get("/items/search", params={"q": "mug"})

    assert found.status_code == 200
    assert [item["sku"] for item in found.json()] == ["MUG-001"]
    assert [item["sku"] for item in api.get("/items/search", params={"q": "00"}).json()] == ["CUP-002", "MUG-001"]
