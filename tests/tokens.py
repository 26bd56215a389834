"""Bearer tokens for test clients, created through the application's token store (not over HTTP)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from application.storage.tokens import TokenStore


def token_store(client: TestClient) -> TokenStore:
    """The token store of the app a (started) test client serves."""
    store: TokenStore = client.app.state.tokens  # type: ignore[attr-defined]
    return store


def new_token(
    client: TestClient, role: str = "admin", municipality: str = "*", name: str | None = None
) -> str:
    """A new token's secret."""
    return token_store(client).create(role=role, municipality=municipality, name=name).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def authorize(
    client: TestClient, role: str = "admin", municipality: str = "*", name: str | None = "test-admin"
) -> TestClient:
    """Give the client a token (by default admin for every municipality, named ``test-admin``)."""
    client.headers["Authorization"] = f"Bearer {new_token(client, role, municipality, name)}"
    return client
