import pytest

from fastapi_app.settings import settings


@pytest.mark.parametrize("header", [None, "", "dev-admin-ke", "dev-admin-key ", "DEV-ADMIN-KEY", "dév-admin-key"])
def test_admin_stats_refuse_a_missing_or_wrong_key(api, header):
    headers = {} if header is None else {"X-Api-Key": header.encode("latin-1")}

    assert api.get("/admin/stats", headers=headers).status_code == 401


def test_admin_stats_with_the_key(api):
    response = api.get("/admin/stats", headers={"X-Api-Key": settings.admin_api_key})

    assert response.status_code == 200
    assert response.json() == {"items": 0, "orders": 0}
