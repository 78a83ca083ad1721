"""Flask configuration objects, selected by name in ``create_app``."""
import os


class Config:
    SECRET_KEY = os.environ.get("HIRING_SECRET_KEY", "dev-only-secret")
    SQLALCHEMY_DATABASE_URI = os.environ.get("HIRING_DATABASE_URL", "sqlite:///hiring.db")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    RESET_TOKEN_MAX_AGE_MINUTES = 30
    IMPORT_CHECKPOINT_EVERY = 100
    PASSWORD_HASH_METHOD = "scrypt"
    # Operations staff call the /auth/admin endpoints with this token in X-Admin-Token.
    ADMIN_API_TOKEN = os.environ.get("HIRING_ADMIN_TOKEN", "")


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    IMPORT_CHECKPOINT_EVERY = 2
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashing keeps the suite quick
    ADMIN_API_TOKEN = "test-admin-token"
