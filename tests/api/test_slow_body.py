"""A client that sends a request's headers and then not its body is answered 408 within the body
timeout, and its connection closed, through a real uvicorn process."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.server import ApiServer, admin_token


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    """The API with a body timeout of 1 s (storage plays no part: an SQLite file)."""
    database_url = f"sqlite:///{tmp_path / 'caseledger.sqlite'}"
    admin_token(database_url)  # the tables
    api = ApiServer(database_url, tmp_path / "server.log", {"CASELEDGER_BODY_TIMEOUT": "1"})
    api.start()
    try:
        yield api
    finally:
        api.stop()


def exchange(port: int, head: bytes, body: bytes = b"", *, wait: float = 10) -> tuple[bytes, float]:
    """Send ``head`` and ``body``, then read until the server closes: the bytes and the seconds
    from the first byte sent to the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        started = time.monotonic()
        connection.sendall(head + body)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received, time.monotonic() - started


def test_a_body_that_never_arrives_is_answered_408_within_the_timeout_and_the_connection_closed(
    server: ApiServer,
) -> None:
    head = (
        b"POST /referrals HTTP/1.1\r\nHost: caseledger\r\nContent-Type: application/json\r\n"
        b"Content-Length: 500\r\n\r\n"
    )

    received, seconds = exchange(server.port, head, b'{"citizen_ref": ')

    status, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout", received
    assert b"content-type: application/problem+json" in headers.lower()
    assert b"connection: close" in headers.lower()
    assert json.loads(body)["type"] == "/problems/body-timeout"
    assert 0.9 <= seconds < 3  # the timeout is 1 s; the close follows the answer


def test_a_body_that_arrives_in_pieces_within_the_timeout_is_read(server: ApiServer) -> None:
    head = b"POST /referrals HTTP/1.1\r\nHost: caseledger\r\nContent-Type: application/json\r\n"
    body = b"{}"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.3)
        connection.sendall(body[:1])
        time.sleep(0.3)
        connection.sendall(body[1:])
        received = b""
        while chunk := connection.recv(65536):
            received += chunk

    assert received.startswith(b"HTTP/1.1 401 "), received  # read whole, then asked for a token
