"""The service's front door, as ASGI middleware: the Host header, the bearer token, the request
size limit and the security headers of every response (SECURITY.md)."""
from __future__ import annotations

import hmac
import json
from typing import Any, Awaitable, Callable

from eligibility.server.problems import PROBLEM_TYPE, ApiError
from eligibility.server.settings import LOOPBACK_NAMES, Settings

PUBLIC = ("/v1/health",)                           # answered without the token
STATIC = ("/", "/workbench.js", "/workbench.css", "/report.css", "/favicon.ico")   # the page: no data, no secrets
STREAMS = ("/v1/evaluate/stream",)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cache-control", b"no-store")]

Scope = dict[str, Any]
ASGI = Callable[[Scope, Callable, Callable], Awaitable[None]]


class Guard:
    def __init__(self, app: ASGI, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        async def send_secure(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        error = self.refuse(path, headers)
        if error is not None:
            await respond(send_secure, error)
            return
        limit = self.settings.max_stream_body if path in STREAMS else self.settings.max_body
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await respond(send_secure, too_large(limit))
            return
        if scope["method"] == "POST" and not headers.get("content-type", "").startswith("application/json"):
            # every POST body is JSON (or JSON Lines): read it as such whatever the client said (`curl -d`)
            scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
                         + [(b"content-type", b"application/json")])
        if path in STREAMS:        # read as it comes; the stream's handler stops at the limit
            await self.app(scope, receive, send_secure)
            return
        body = bytearray()
        while True:                # the whole body first, so that a chunked one is held to the limit too
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await respond(send_secure, too_large(limit))
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def receive_once() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, receive_once, send_secure)

    def refuse(self, path: str, headers: dict[str, str]) -> ApiError | None:
        """Why the request is refused before it is read, if it is."""
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
        if self.settings.loopback and host not in LOOPBACK_NAMES:
            # a page elsewhere must not reach a loopback service through a name it controls (DNS rebinding)
            return ApiError(421, "misdirected request", detail=f"this service answers only to "
                                                               f"{', '.join(LOOPBACK_NAMES)}, not {host!r}")
        token = self.settings.token
        if token is None or path in PUBLIC or path in STATIC:
            return None
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return ApiError(401, "unauthorized", detail="a bearer token is required: send 'Authorization: Bearer TOKEN'",
                            headers={"WWW-Authenticate": 'Bearer realm="eligibility"'})
        return None


def too_large(limit: int) -> ApiError:
    return ApiError(413, "request too large", detail=f"the request body is over the limit of {limit} bytes")


async def respond(send: Callable, error: ApiError) -> None:
    body = json.dumps(error.body(), ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", PROBLEM_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
