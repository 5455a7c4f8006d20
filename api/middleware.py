"""Pure ASGI pieces: security headers on every response and a bounded, UTF-8 checked request body."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import invalid_utf8, too_large

# The page needs nothing but its own files: no inline script, no inline handlers, no CDN.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# /docs runs the self-hosted Swagger UI (files from the fastapi-offline package) with an external init
# script (api/static/docs.js), so it works under the same CSP: no page gets a relaxed policy.

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def with_security_headers(scope: Scope, send: Send) -> Send:
    """Wrap ``send`` so the response start carries the security headers (errors and 500s included)."""
    api = scope.get("path", "").startswith("/api/")

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["Content-Security-Policy"] = CSP
            for name, value in SECURITY_HEADERS.items():
                headers[name] = value
            if api:
                # Answers echo the user's question: never keep them in a shared or browser cache.
                headers["Cache-Control"] = "no-store"
        await send(message)

    return send_with_headers


class BodyLimitMiddleware:
    """Read the whole request body up front (at most ``max_bytes``), reject it early, then replay it.

    * a declared ``Content-Length`` above the limit → 413 without reading anything;
    * a streamed (chunked) body that grows past the limit → 413;
    * a body that is not valid UTF-8 → 422 (JSON must be UTF-8; this also keeps undecodable bytes
      away from the validation error handler).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_paths: tuple[str, ...] = (),
                 max_upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # File uploads (multipart POST/PUT under these paths) get their own, larger limit and are binary.
        self.upload_paths = upload_paths
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = (scope.get("method") in ("POST", "PUT") and self.max_upload_bytes > 0
                  and scope.get("path", "").startswith(self.upload_paths))
        limit = self.max_upload_bytes + 64 * 1024 if upload else self.max_bytes  # room for the form's own parts
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await too_large(limit)(scope, receive, send)
                    return

        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and not upload:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                await invalid_utf8()(scope, receive, send)
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
