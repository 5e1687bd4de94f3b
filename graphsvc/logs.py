"""The server's log (``graphsvc serve``): uvicorn's access lines and graphsvc's own, never
with an API key in them.

A key is sent in a header (``Authorization: Bearer``) or a form body (``/visual/login``),
which no log line prints; the session cookie holds no key. But a client may put one in the
URL by mistake (``?key=gs_…``, ``?api_key=gs_…``), and uvicorn's access line prints the
query string. So every line the server logs has anything that looks like a key
(``gs_`` and at least 8 key characters, also with the ``_`` sent as ``%5F`` or ``%255F``)
replaced by ``gs_[redacted]`` before it is written.

Every line carries the id of the request it was written for (``request_id``, set by
``graphsvc.api.requestid``; ``-`` outside a request). ``GRAPHSVC_LOG_FORMAT=json`` writes one
JSON object per line instead of text: ``time``, ``level``, ``logger``, ``message``,
``request_id``, and for an access line ``client``, ``method``, ``path`` and ``status``.
"""

from __future__ import annotations

import contextvars
import copy
import datetime as dt
import json
import logging
import re
from typing import Any, Literal

KEY = re.compile(r"gs(?:_|%(?:25)*5[Ff])[A-Za-z0-9_-]{8,}")  # '_' also encoded, once or more
REDACTED = "gs_[redacted]"
# the id of the request being handled, for every log line written meanwhile
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
LogFormat = Literal["text", "json"]


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


class RequestIdOnRecord(logging.Filter):
    """Put the id of the request being handled on the record (``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record (the record already cleaned by ``RedactKeys``)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get())}
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
                and len(record.args) == 5:
            client, method, path, _, status = record.args
            out.update(client=client, method=method, path=path, status=status)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["error"] = redact(record.exc_text)
        return json.dumps(out, ensure_ascii=False)


def server_log_config(log_format: LogFormat = "text") -> dict[str, Any]:
    """uvicorn's logging configuration with ``RedactKeys`` on every handler, the request's
    id on every line, and graphsvc's own loggers written by them too (each worker process
    applies it). ``json``: one JSON object per line (``JsonLines``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_keys": {"()": RedactKeys},
                         "request_id": {"()": RequestIdOnRecord}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_keys", "request_id"]
    if log_format == "json":
        config["formatters"] = {name: {"()": JsonLines} for name in config["formatters"]}
    else:
        for f in config["formatters"].values():
            f["fmt"] = f["fmt"] + " [%(request_id)s]"
    config["loggers"]["graphsvc"] = {"handlers": ["default"], "level": "INFO",
                                     "propagate": False}
    return config
