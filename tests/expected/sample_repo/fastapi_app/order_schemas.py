from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schemas import APIModel


class OrderLineIn(BaseModel):
    item_id: int = Field(..., alias="itemId")
    quantity: int = Field(..., gt=0)

    model_config = ConfigDict(populate_by_name=True)


class OrderCreate(BaseModel):
    customer_email: str = Field(..., alias="customerEmail")
    external_ref: str | None = Field(None, alias="externalRef")
    lines: list[OrderLineIn] = Field(..., min_length=1)

    model_config = ConfigDict(
        # The storefront sends camelCase; the back-office tools send field names.
        populate_by_name=True,
        str_strip_whitespace=True,  # pasted e-mail addresses often carry spaces
    )

    @model_validator(mode="after")
    def one_line_per_item(self):
        item_ids = [line.item_id for line in self.lines]
        if len(item_ids) != len(set(item_ids)):
            raise ValueError("each item may appear only once per order")
        return self


class OrderStatusUpdate(BaseModel):
    status: Literal["pending", "paid", "shipped", "cancelled"]


class OrderLineRead(APIModel):
    id: int
    item_id: int
    quantity: int
    unit_price: Decimal


class OrderRead(APIModel):
    id: int
    customer_email: str
    status: str
    external_ref: str | None = None
    created_at: datetime
    lines: list[OrderLineRead] = []

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "example": {
                "id": 1,
                "customer_email": "ana@example.com",
                "status": "pending",
                "external_ref": "SHOP-1001",
                "created_at": "2024-05-01T10:00:00Z",
                "lines": [{"id": 1, "item_id": 1, "quantity": 2, "unit_price": "9.50"}],
            }
        },
    )
