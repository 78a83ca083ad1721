from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class APIModel(BaseModel):
    """Base for response models that are read straight from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class ItemBase(BaseModel):
    sku: str = Field(..., min_length=3, max_length=32)
    name: str = Field(..., min_length=1)
    price: Decimal = Field(..., ge=0)

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("sku", mode="before")
    @classmethod
    def normalise_sku(cls, v):
        # Warehouse scanners send lower-case codes; SKUs are stored upper-case.
        return v.strip().upper() if isinstance(v, str) else v


class ItemCreate(ItemBase):
    quantity: int = Field(0, ge=0)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"sku": "MUG-001", "name": "Enamel mug", "price": "9.50", "quantity": 12},
        },
    )


class ItemUpdate(BaseModel):
    name: str | None = None
    price: Decimal | None = Field(None, ge=0)
    quantity: int | None = Field(None, ge=0)

    model_config = ConfigDict(
        # Reject typos such as "prcie" instead of silently ignoring them.
        extra="forbid",
    )


class ItemStatusUpdate(BaseModel):
    status: Literal["active", "backorder", "discontinued"]


class ItemRead(APIModel):
    id: int
    sku: str
    name: str
    price: Decimal
    quantity: int
    status: str


class StockLevel(BaseModel):
    """A snapshot handed to the warehouse client; never edited after creation."""

    sku: str
    quantity: int
    low: bool = False

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={"example": {"sku": "MUG-001", "quantity": 3, "low": True}},
    )


class ReportFormatter:
    """Formats stock reports for e-mail. Not a pydantic model: its Config is read by ``format_line``."""

    class Config:
        currency = "EUR"
        decimal_places = 2

    def format_line(self, level: StockLevel, price: Decimal) -> str:
        amount = round(price * level.quantity, self.Config.decimal_places)
        return f"{level.sku}: {level.quantity} units ({amount} {self.Config.currency})"
