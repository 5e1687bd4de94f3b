"""The body limits (``GRAPHSVC_MAX_BODY_BYTES``, ``GRAPHSVC_MAX_UPLOAD_BYTES``), enforced
before the body is read.

A plain ASGI middleware: a request whose ``Content-Length`` is over its limit is answered
413 at once; one that streams more than that without announcing it (chunked) is cut off and
answered 413 too, so no body fills the disk or memory. Every request body has a limit: a
JSON write's is ``GRAPHSVC_MAX_BODY_BYTES`` (1 MiB: a single change is a few hundred bytes),
a bundle upload's and a repair plan's (a bulk write, like an import) is
``GRAPHSVC_MAX_UPLOAD_BYTES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPART_SLACK = 64 * 1024  # headers and boundaries of the multipart body around the file


MB = 1024 * 1024

UPLOAD_ADVICE = "Split the bundle, for example by file, and upload the parts one by one"


def amount(size: int) -> str:
    """A number of bytes for a sentence: in MB to one decimal, or in bytes where that would
    read 0.0 MB (a limit of 20 KB is not 'at most 0.0 MB').

    >>> amount(50 * MB), amount(100_000), amount(20_000)
    ('50.0 MB', '0.1 MB', '20,000 bytes')
    """
    return f"{size / MB:.1f} MB" if size >= MB // 20 else f"{size:,} bytes"


def too_large_message(size: int | None, limit: int, *, what: str = "the upload",
                      setting: str = "GRAPHSVC_MAX_UPLOAD_BYTES",
                      advice: str = UPLOAD_ADVICE) -> str:
    """The sentence of a 413: how large, the limit and its setting, what to do instead."""
    got = f"{what} is {amount(size)}; " if size is not None else f"{what} is too large; "
    return f"{got}this server accepts at most {amount(limit)} ({setting}). {advice}"


@dataclass(frozen=True, slots=True)
class Bound:
    """The most bytes a request body may have, and the words of a refusal."""

    limit: int
    setting: str  # the environment variable that sets it
    what: str  # what the body is, for the sentence: "the upload"
    advice: str  # what to do instead
    slack: int = 0  # bytes around the content that the limit does not count (multipart)

    def message(self, size: int | None) -> str:
        return too_large_message(size, self.limit, what=self.what, setting=self.setting,
                                 advice=self.advice)


def body_bound(limit: int) -> Bound:
    """The bound of every body but those ``BodyLimit`` is given per path."""
    return Bound(limit, "GRAPHSVC_MAX_BODY_BYTES", "the request body",
                 "A single change is far smaller than that: check what is sent (a bundle is "
                 "uploaded to POST /api/v1/imports)")


def upload_bound(limit: int) -> Bound:
    """The bound of a bundle upload (a multipart form around the file)."""
    return Bound(limit, "GRAPHSVC_MAX_UPLOAD_BYTES", "the upload", UPLOAD_ADVICE,
                 MULTIPART_SLACK)


def plan_bound(limit: int) -> Bound:
    """The bound of a repair plan sent to be applied: a bulk write, as large as an upload."""
    return Bound(limit, "GRAPHSVC_MAX_UPLOAD_BYTES", "the plan",
                 "Apply the plan in parts: send some of its items at a time")


class BodyLimit:
    """Answer 413 for a request body over its bound: ``paths``' own, else ``default``."""

    def __init__(self, app: ASGIApp, *, default: Bound, paths: dict[str, Bound]) -> None:
        self.app, self.default, self.paths = app, default, paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bound = self.paths.get(scope["path"], self.default)
        allowed = bound.limit + bound.slack
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > allowed:
            await self._refuse(send, bound, int(length))
            return
        received = 0
        cut = False

        async def counting_receive() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > allowed:
                    # not the part received so far: a prefix of a body may read as a whole
                    # (a complete JSON object before the padding) and would be written
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not cut:  # once cut, the app's answer (a parse error) is replaced by the 413
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not cut:  # a body cut off is answered 413, whatever reading it raised
                raise
        if cut:
            await self._refuse(send, bound, None)

    async def _refuse(self, send: Send, bound: Bound, size: int | None) -> None:
        body = json.dumps({"detail": bound.message(size)}).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode("ascii")),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
