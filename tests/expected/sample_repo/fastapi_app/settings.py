from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    app_name: str = "inventory-api"
    database_url: str = "sqlite:///./inventory.db"
    async_database_url: str = "sqlite+aiosqlite:///./inventory.db"
    low_stock_threshold: int = 5
    sync_checkpoint_every: int = 100
    # Key the operations dashboard sends in X-Api-Key for the /admin endpoints.
    admin_api_key: str = "dev-admin-key"
    supplier_api_url: str = "https://supplier.example.invalid/api/v2"
    supplier_api_token: str = ""
    exchange_rates_url: str = "https://rates.example.invalid/latest"

    model_config = SettingsConfigDict(
        env_file=".env",
        env_prefix="APP_",
    )


settings = Settings()
