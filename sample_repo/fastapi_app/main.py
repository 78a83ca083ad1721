from fastapi import FastAPI

from .routers import items, orders
from .settings import settings

app = FastAPI(title=settings.app_name)
app.include_router(items.router)
app.include_router(orders.router)


@app.get("/health")
def health():
    return {"status": "ok", "app": settings.app_name}
