"""Price quotes with volume discounts."""
import logging
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)

VOLUME_DISCOUNTS = [(100, Decimal("0.15")), (20, Decimal("0.10")), (10, Decimal("0.05"))]


class Money:
    """Amount plus currency; deliberately not a pydantic type."""

    def __init__(self, amount, currency="EUR"):
        self.amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        self.currency = currency

    def __eq__(self, other):
        return isinstance(other, Money) and (self.amount, self.currency) == (other.amount, other.currency)

    def __repr__(self):
        return f"Money({self.amount}, {self.currency!r})"


class PriceQuote(BaseModel):
    sku: str
    quantity: int
    unit_price: Money
    total: Money
    discount_rate: Decimal = Decimal("0")

    model_config = ConfigDict(arbitrary_types_allowed=True)


def discount_rate_for(quantity):
    for threshold, rate in VOLUME_DISCOUNTS:
        if quantity >= threshold:
            return rate
    return Decimal("0")


def quote(sku, unit_price, quantity):
    rate = discount_rate_for(quantity)
    total = Decimal(unit_price) * quantity * (1 - rate)
    if rate:
        print("Volume discount: %s%% for %d units" % (rate * 100, quantity))
    print(f"Quote for {sku!r}: {quantity} x {Decimal(unit_price):.2f} = {total:.2f}")
    return PriceQuote(sku=sku, quantity=quantity, unit_price=Money(unit_price), total=Money(total), discount_rate=rate)


def parse_price(raw):
    """Parse a supplier price like '12,50' or '12.50'; log and return None when unreadable."""
    try:
        return Decimal(str(raw).replace(",", "."))
    except Exception:
        logger.warning("unreadable price %r", raw)
        return None


if __name__ == "__main__":
    # Quick manual check used when tuning the discount table.
    for qty in (1, 10, 20, 100):
        print(qty, quote("MUG-001", "9.50", qty).total)
