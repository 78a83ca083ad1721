from decimal import Decimal

from sqlalchemy import select

from fastapi_app.models import Item, Order, OrderLine


def seed_items(inventory_db, *specs):
    with inventory_db.Session() as session:
        items = [Item(sku=sku, name=sku.title(), price=Decimal(price), quantity=quantity) for sku, price, quantity in specs]
        session.add_all(items)
        session.commit()
        print("seeded", len(items), "items")
        return [item.id for item in items]


def stock(inventory_db):
    with inventory_db.Session() as session:
        return {item.sku: item.quantity for item in session.scalars(select(Item))}


def stored_orders(inventory_db):
    with inventory_db.Session() as session:
        return [(o.id, o.status, o.external_ref) for o in session.scalars(select(Order).order_by(Order.id))]


def place(api, lines, ref=None, email="ana@example.com"):
    payload = {"customerEmail": email, "lines": [{"itemId": i, "quantity": q} for i, q in lines]}
    if ref is not None:
        payload["externalRef"] = ref
    return api.post("/orders", json=payload)


def test_create_order_reserves_stock_and_returns_lines(api, inventory_db):
    mug, pen = seed_items(inventory_db, ("mug", "9.50", 10), ("pen", "1.20", 3))

    response = place(api, [(mug, 2), (pen, 3)], ref="SHOP-1")

    assert response.status_code == 201
    body = response.json()
    assert stored_orders(inventory_db) == [(body["id"], "pending", "SHOP-1")]
    assert body["customer_email"] == "ana@example.com"
    assert [(line["item_id"], line["quantity"], Decimal(line["unit_price"])) for line in body["lines"]] == [
        (mug, 2, Decimal("9.50")), (pen, 3, Decimal("1.20")),
    ]
    assert stock(inventory_db) == {"mug": 8, "pen": 0}


def test_create_order_with_unavailable_item_writes_nothing(api, inventory_db):
    mug, pen = seed_items(inventory_db, ("mug", "9.50", 10), ("pen", "1.20", 1))

    response = place(api, [(mug, 2), (pen, 5)])

    assert response.status_code == 422
    assert stored_orders(inventory_db) == []
    assert stock(inventory_db) == {"mug": 10, "pen": 1}


def test_create_order_duplicate_reference_rolls_back(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    place(api, [(mug, 1)], ref="SHOP-1")

    response = place(api, [(mug, 4)], ref="SHOP-1")

    assert response.status_code == 409
    assert len(stored_orders(inventory_db)) == 1
    assert stock(inventory_db) == {"mug": 9}


def test_create_order_requires_lines(api):
    assert api.post("/orders", json={"customerEmail": "ana@example.com", "lines": []}).status_code == 422


def test_list_and_get_orders_are_read_only(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    first = place(api, [(mug, 1)]).json()["id"]
    second = place(api, [(mug, 1)]).json()["id"]
    api.put(f"/orders/{second}/status", json={"status": "paid"})

    assert [o["id"] for o in api.get("/orders").json()] == [first, second]
    assert [o["id"] for o in api.get("/orders?status=paid").json()] == [second]
    assert api.get(f"/orders/{first}").json()["lines"][0]["item_id"] == mug
    assert api.get("/orders/999").status_code == 404


def test_update_order_status(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    order_id = place(api, [(mug, 1)]).json()["id"]

    response = api.put(f"/orders/{order_id}/status", json={"status": "shipped"})

    assert response.json() == {"id": order_id, "status": "shipped"}
    assert stored_orders(inventory_db)[0][1] == "shipped"
    assert api.put(f"/orders/{order_id}/status", json={"status": "lost"}).status_code == 422
    assert api.put("/orders/999/status", json={"status": "paid"}).status_code == 404


def test_cancel_order_returns_stock_once(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    order_id = place(api, [(mug, 4)]).json()["id"]

    first = api.post(f"/orders/{order_id}/cancel")
    second = api.post(f"/orders/{order_id}/cancel")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert stock(inventory_db) == {"mug": 10}
    assert stored_orders(inventory_db)[0][1] == "cancelled"


def test_cannot_cancel_shipped_order(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    order_id = place(api, [(mug, 4)]).json()["id"]
    api.put(f"/orders/{order_id}/status", json={"status": "shipped"})

    assert api.post(f"/orders/{order_id}/cancel").status_code == 409
    assert api.post("/orders/999/cancel").status_code == 404
    assert stock(inventory_db) == {"mug": 6}


def test_delete_order_removes_order_and_lines(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    order_id = place(api, [(mug, 1)]).json()["id"]

    response = api.delete(f"/orders/{order_id}")

    assert response.status_code == 204
    assert stored_orders(inventory_db) == []
    with inventory_db.Session() as session:
        assert session.scalars(select(OrderLine)).all() == []
    assert api.delete(f"/orders/{order_id}").status_code == 404


def test_import_route_delegates_to_service(api, inventory_db):
    [mug] = seed_items(inventory_db, ("mug", "9.50", 10))
    payloads = [
        {"customerEmail": "a@example.com", "externalRef": "M-1", "lines": [{"itemId": mug, "quantity": 1}]},
        {"customerEmail": "b@example.com", "externalRef": "M-2", "lines": [{"itemId": mug, "quantity": 2}]},
    ]

    response = api.post("/orders/import", json=payloads)

    assert response.status_code == 201
    ids = [order_id for order_id, _, _ in stored_orders(inventory_db)]
    assert response.json() == {"imported": 2, "ids": ids}
    assert stock(inventory_db) == {"mug": 10}
