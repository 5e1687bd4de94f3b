"""What every answer of the app carries, whoever made it: headers that keep personal data
out of caches and browsers' guesses, and redirects that stay on this server.

- ``Cache-Control: no-store`` and ``X-Content-Type-Options: nosniff`` on every answer
  (data, errors, ``/health``, the docs), unless the route set its own (the diagram pages
  set these and more in ``routes/visual.py``): answers carry names, phone numbers and
  addresses, which no browser or proxy cache should keep.
- A redirect points at a path of this server, never at a host taken from the request:
  Starlette's trailing-slash redirect (``/api/v1/households/`` → ``/api/v1/households``)
  builds an absolute URL from the ``Host`` header, so ``Host: evil.example`` would send the
  client to ``http://evil.example/…``. Its ``Location`` is cut to the path and query, and
  a path that a browser would read as another host (``//evil.example``, ``/\\evil.example``)
  to one slash.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def relative(location: str) -> str:
    """A redirect's target as a path of this server: an absolute URL, or one a browser
    reads as another host, cut to its path and query; a plain path kept as it is."""
    parts = urlsplit(location)
    if not (parts.scheme or parts.netloc or location.startswith(("//", "/\\", "\\"))):
        return location
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return "/" + target.lstrip("/\\")


class SafeAnswers:
    """Add ``PRIVATE`` to every HTTP answer that lacks them; make every redirect relative."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_safe(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PRIVATE.items():
                    if name not in headers:
                        headers[name] = value
                location = headers.get("location")
                if location is not None and 300 <= message["status"] < 400:
                    headers["location"] = relative(location)
            await send(message)

        await self.app(scope, receive, send_safe)
