"""Ids in paths: an id may hold '/'.

An id may hold '/' (DATA_FORMAT.md allows any text but a NUL). A client sends it encoded,
/households/H%2F1, but the server decodes the path before routing, and H/1 would read as
two segments. ``EncodedSlashes`` keeps such a slash inside its segment (as a NUL, which no
id can hold) for the paths under the API, and ``PATH_ID`` on an id path parameter turns it
back into '/'. So the segments are those the client wrote: /people/X%2Fimpact is the
person 'X/impact', /people/X%2Fimpact/impact their impact, and /households/H%2F1/deactivate
deactivates 'H/1'.
"""

from __future__ import annotations

from urllib.parse import unquote

from pydantic import AfterValidator
from starlette.types import ASGIApp, Receive, Scope, Send

SLASH = "\x00"  # an encoded '/' inside one segment of the path, while it is routed
PATH_ID = AfterValidator(lambda value: value.replace(SLASH, "/"))  # Annotated[str, Path(), PATH_ID]


class EncodedSlashes:
    """Route the API's paths on their segments as sent: a '%2F' stays inside its segment."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw and b"%" in raw and scope["path"].startswith(self.prefix):
            # decoded once, segment by segment, from the bytes sent (a test client that
            # decodes twice would read an id 'H%2F3', sent as H%252F3, as 'H/3')
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                text = None
            if text is not None:
                # an encoded NUL stays '%00' text (no id holds one), so it cannot pose as a '/'
                path = "/".join(unquote(seg.replace("%00", "%2500")).replace("/", SLASH)
                                for seg in text.split("/"))
                scope = {**scope, "path": path}
        await self.app(scope, receive, send)


def route_path(path: str) -> str:
    """A path as the client wrote it (for sentences about it): '/' kept in a segment is %2F."""
    return path.replace(SLASH, "%2F")
