"""Configuration from the environment (``CASELEDGER_*``), read once by the composition root."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything caseledger can be configured with."""

    model_config = SettingsConfigDict(env_prefix="CASELEDGER_", extra="ignore")

    database_url: str = ""
    """Empty: an SQLite file under ``./caseledger-data/``; ``sqlite:///path`` or ``postgresql://…``."""

    max_body_bytes: int = 5 * 1024 * 1024
    """Request bodies above this size are refused with 413."""

    max_batch_items: int = 1000
    """The most items one ``POST /events`` may carry."""

    run_projections: bool = True
    """Run the projection runner inside the API process (the embedded default). Set false when
    ``caseledger projections run`` runs as its own process."""

    projection_batch_size: int = 500
    """Events folded into the read models per transaction."""

    min_position_wait: float = 5.0
    """How long a query with ``min_position`` waits for the projections before answering 503."""

    token_cache_seconds: float = 5.0
    """A live token is looked up in the database at most once in this many seconds per process;
    a token revoked by another process (``caseledger tokens revoke``) keeps working for at most
    this long. 0: look the token up on every request."""

    host: str = "127.0.0.1"
    port: int = 8000
