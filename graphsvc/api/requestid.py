"""A request id on every answer and in every log line of the request.

The id is the client's ``X-Request-ID`` when it sends a usable one (1–128 letters, digits,
``.``, ``_``, ``-``; a proxy or a phone app can then find its request in the server's log),
else a new random one. It is sent back in ``X-Request-ID`` on every answer, errors
included, and kept in a context variable that ``graphsvc.logs`` adds to each log line
written while the request is handled, uvicorn's access line included (the variable follows
the request into the thread that runs a sync endpoint).

A plain ASGI middleware, added last so that it runs first: every answer has the header (the
500 of an unexpected error gets it from ``errors``).
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphsvc.logs import request_id

HEADER = b"x-request-id"
_USABLE = re.compile(rb"[A-Za-z0-9._-]{1,128}")


class RequestId:
    """Take or make the request's id; answer with it; log with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == HEADER), b"")
        rid = sent.decode("ascii") if _USABLE.fullmatch(sent) else uuid.uuid4().hex
        # not reset afterwards: uvicorn runs each request in a task of its own, whose context
        # ends with it, and the 500 answer of an unexpected error, made outside every
        # middleware (``errors.bug``), still logs and sends this id
        request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != HEADER]
                message["headers"] = [*headers, (HEADER, rid.encode("ascii"))]
            await send(message)

        await self.app(scope, receive, send_with_id)
