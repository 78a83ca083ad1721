from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    app_name: str = "inventory-api"
    database_url: str = "sqlite:///./inventory.db"
    async_database_url: str = "sqlite+aiosqlite:///./inventory.db"
    low_stock_threshold: int = 5
    sync_checkpoint_every: int = 100

    model_config = SettingsConfigDict(
        env_file=".env",
        env_prefix="APP_",
    )


settings = Settings()
