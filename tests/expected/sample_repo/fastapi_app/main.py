import hmac
import logging

from fastapi import Depends, FastAPI, Header, HTTPException
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .database import get_db
from .limits import limiter
from .models import Item, Order
from .routers import items, orders
from .settings import settings

# Uvicorn configures only its own loggers; the app's modules log through the root logger.
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = FastAPI(title=settings.app_name)
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
app.include_router(items.router)
app.include_router(orders.router)


def _constant_time_equal(left, right):
    """``left == right``, in constant time when both are text or both are bytes.

    Text is compared as UTF-8 bytes, so non-ASCII text compares as ``==`` does; a
    missing value (``None``) or any other type falls back to ``==``.
    """
    if isinstance(left, str) and isinstance(right, str):
        left = left.encode("utf-8", "surrogatepass")
        right = right.encode("utf-8", "surrogatepass")
    if isinstance(left, bytes) and isinstance(right, bytes):
        return hmac.compare_digest(left, right)
    return left == right


def require_admin_key(x_api_key: str | None = Header(default=None)):
    if not _constant_time_equal(x_api_key, settings.admin_api_key):
        raise HTTPException(status_code=401, detail="invalid API key")


@app.get("/admin/stats", dependencies=[Depends(require_admin_key)])
def admin_stats(db: Session = Depends(get_db)):
    return {"items": db.scalar(select(func.count(Item.id))), "orders": db.scalar(select(func.count(Order.id)))}


@app.get("/health")
def health():
    return {"status": "ok", "app": settings.app_name}
