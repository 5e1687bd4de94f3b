"""The server's log (``graphsvc serve``): uvicorn's access lines and graphsvc's own, never
with an API key in them.

A key is sent in a header (``Authorization: Bearer``) or a form body (``/visual/login``),
which no log line prints; the session cookie holds no key. But a client may put one in the
URL by mistake (``?key=gs_…``, ``?api_key=gs_…``), and uvicorn's access line prints the
query string. So every line the server logs has anything that looks like a key
(``gs_`` and at least 8 key characters, also with the ``_`` sent as ``%5F`` or ``%255F``)
replaced by ``gs_[redacted]`` before it is written.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

KEY = re.compile(r"gs(?:_|%(?:25)*5[Ff])[A-Za-z0-9_-]{8,}")  # '_' also encoded, once or more
REDACTED = "gs_[redacted]"


def redact(text: str) -> str:
    """The text with anything that looks like an API key replaced."""
    return KEY.sub(REDACTED, text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactKeys(logging.Filter):
    """Replace what looks like an API key in a record's message and arguments (uvicorn's
    access formatter reads the arguments one by one, so they are cleaned in place)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def server_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``RedactKeys`` on every handler, and graphsvc's
    own loggers written by them too (each worker process applies it)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_keys": {"()": RedactKeys}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_keys"]
    config["loggers"]["graphsvc"] = {"handlers": ["default"], "level": "INFO",
                                     "propagate": False}
    return config
