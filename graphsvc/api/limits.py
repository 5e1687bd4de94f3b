"""The upload limit (``GRAPHSVC_MAX_UPLOAD_BYTES``), enforced before the body is read.

A plain ASGI middleware: a request whose ``Content-Length`` is over the limit is
answered 413 at once; one that streams more than that without announcing it is
cut off and answered 413 too, so an upload never fills the disk or memory.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_SLACK = 64 * 1024  # headers and boundaries of the multipart body around the file


MB = 1024 * 1024


def amount(size: int) -> str:
    """A number of bytes for a sentence: in MB to one decimal, or in bytes where that would
    read 0.0 MB (a limit of 20 KB is not 'at most 0.0 MB').

    >>> amount(50 * MB), amount(100_000), amount(20_000)
    ('50.0 MB', '0.1 MB', '20,000 bytes')
    """
    return f"{size / MB:.1f} MB" if size >= MB // 20 else f"{size:,} bytes"


def too_large_message(size: int | None, limit: int) -> str:
    got = f"the upload is {amount(size)}; " if size is not None else "the upload is too large; "
    return (f"{got}this server accepts at most {amount(limit)} (GRAPHSVC_MAX_UPLOAD_BYTES). "
            "Split the bundle, for example by file, and upload the parts one by one")


class UploadLimit:
    """Answer 413 for request bodies over ``limit`` bytes on POSTs to ``paths``."""

    def __init__(self, app: ASGIApp, *, limit: int, paths: tuple[str, ...]) -> None:
        self.app, self.limit, self.paths = app, limit, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        allowed = self.limit + MULTIPART_SLACK
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > allowed:
            await self._refuse(send, int(length))
            return
        received = 0
        cut = False

        async def counting_receive() -> Message:
            nonlocal received, cut
            message = await receive()
            if message["type"] == "http.request" and not cut:
                received += len(message.get("body", b""))
                if received > allowed:
                    cut = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not cut:  # once cut, the app's answer (a parse error) is replaced by the 413
                await send(message)

        await self.app(scope, counting_receive, guarded_send)
        if cut:
            await self._refuse(send, None)

    async def _refuse(self, send: Send, size: int | None) -> None:
        body = json.dumps({"detail": too_large_message(size, self.limit)}).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode("ascii")),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
