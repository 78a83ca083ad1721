from fastapi import FastAPI
from slowapi import _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded

from .limits import limiter
from .routers import items, orders
from .settings import settings

app = FastAPI(title=settings.app_name)
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
app.include_router(items.router)
app.include_router(orders.router)


@app.get("/health")
def health():
    return {"status": "ok", "app": settings.app_name}
