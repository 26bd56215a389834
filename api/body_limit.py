"""Refuse request bodies above a size limit with 413, before any of it is parsed, and bodies that do
not arrive in time with 408.

A request's body is read here whole before the app sees it. Without a bound on the time that takes,
a client that sends the headers and then nothing (or a byte now and then) held its connection for as
long as it liked: the whole body must now have arrived within ``timeout`` seconds of the request's
start, else the answer is 408 and the connection is closed. No thread waits meanwhile (the
endpoints' threads only see a complete body), so a slow client holds only its own connection.
"""

from __future__ import annotations

import json

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import PROBLEM_JSON, problem


class BodyLimit:
    """Pure ASGI middleware: reads the body up to ``max_bytes`` and within ``timeout`` seconds, and
    replays it to the app."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(
                send, 413, "body-too-large", f"the request body exceeds {self.max_bytes} bytes"
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        with anyio.move_on_after(self.timeout):
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    detail = f"the request body exceeds {self.max_bytes} bytes"
                    await self._refuse(send, 413, "body-too-large", detail)
                    return
                chunks.append(chunk)
                more = message.get("more_body", False)
        if more:
            detail = f"the request body did not arrive within {self.timeout:g} s"
            await self._refuse(send, 408, "body-timeout", detail)
            return
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int, slug: str, detail: str) -> None:
        title = {408: "Body timeout", 413: "Body too large"}[status]
        payload = json.dumps(problem(status, slug, title, detail)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    # The rest of the body, if any, would be read as the next request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
