"""The errors only the HTTP API raises, and the one place where errors become HTTP statuses.

They extend the hierarchy of ``graphsvc.errors``::

    GraphsvcError
     ├── BundleError          422  an uploaded bundle is invalid (body: the report)
     ├── StoreError           500  the store failed (a bug or a broken database)
     │    └── StoreUnavailable   503  the store cannot be reached
     ├── NotFound             404  an id names nothing (or nothing this key may see)
     ├── ConfigError          503  a setting is wrong, so the store cannot be used
     └── ApiError             (this module)
          ├── Unauthorized       401  no key, or not a valid one
          ├── Forbidden          403  the key's role or townships do not allow it
          ├── InvalidParameter   422  a query parameter is wrong (names it and what is allowed)
          ├── WriteRefused       422  a write breaks a rule of the bundle format
          ├── Conflict           409  a record exists already, or a link has already ended
          ├── PayloadTooLarge    413  an upload over GRAPHSVC_MAX_UPLOAD_BYTES
          └── TooManyAttempts    429  too many wrong keys from this address (Retry-After)

Every body is JSON with ``detail``; a client mistake is never answered with a 500, and
only with statuses the OpenAPI document lists (a body the framework cannot parse, which
it would answer 400, is a 422 like any other bad field).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graphsvc.api.headers import PRIVATE
from graphsvc.api.paths import route_path
from graphsvc.api.schemas import NOT_BLANK
from graphsvc.bundle.report import Problem, Report
from graphsvc.errors import (
    BundleError,
    ConfigError,
    GraphsvcError,
    NotFound,
    StoreError,
    StoreUnavailable,
)
from graphsvc.logs import request_id

log = logging.getLogger("graphsvc.api")


class ApiError(GraphsvcError):
    """An error of an HTTP request."""


class Unauthorized(ApiError):
    """No ``Authorization: Bearer`` key, or a key that is unknown or revoked."""


class Forbidden(ApiError):
    """The key is valid but its role or townships do not allow this."""


class InvalidParameter(ApiError):
    """A query parameter has a value that is not allowed."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class WriteRefused(ApiError):
    """A write was checked like a one-row import and broke a rule; nothing was written."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__("; ".join(_sentence(p) for p in report.errors))


class Conflict(ApiError):
    """The request clashes with what is stored."""


class PayloadTooLarge(ApiError):
    """An upload is bigger than the server accepts."""


class TooManyAttempts(ApiError):
    """Too many wrong API keys came from this address: it must wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many wrong API keys were sent from your address; every attempt "
                         f"from it is refused for {retry_after} more seconds, even with a valid "
                         "key. Check the key you were given and try again then")


STATUS: dict[type[GraphsvcError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    TooManyAttempts: 429,
    InvalidParameter: 422,
    WriteRefused: 422,
    BundleError: 422,
    StoreUnavailable: 503,
    ConfigError: 503,
    StoreError: 500,
}


def status_of(exc: GraphsvcError) -> int:
    """The HTTP status of an error: that of its nearest class in ``STATUS``."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _sentence(p: Problem) -> str:
    return f"{p.column}: {p.message}" if p.column else p.message


def body_of(exc: GraphsvcError) -> dict[str, Any]:
    """The JSON body that answers an error."""
    if isinstance(exc, BundleError):
        return {"detail": str(exc), **exc.report.as_dict()}
    if isinstance(exc, WriteRefused):
        return {"detail": str(exc),
                "errors": [{"field": p.column, "message": p.message} for p in exc.report.errors]}
    return {"detail": str(exc)}


def _where(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "the request"
    place, *rest = loc
    name = ".".join(str(x) for x in rest)
    if place == "body":
        return f"body field '{name}'" if name else "the request body"
    if place in ("query", "path", "header", "cookie"):
        return f"{place} parameter '{name}'"
    return ".".join(str(x) for x in loc)


# what a value of the wrong JSON type should have been (write bodies are read strictly)
_TYPE_WORDS = {"int_type": "a whole number, written without quotes (for example 3)",
               "bool_type": "true or false, written without quotes",
               "string_type": "text, written in quotes"}
_ECHO_MAX = 80  # characters of a refused value an answer repeats


def _validation_body(exc: RequestValidationError) -> dict[str, Any]:
    problems: list[dict[str, str | None]] = []
    for e in exc.errors():
        where = _where(tuple(e.get("loc", ())))
        msg = e.get("msg", "is not valid")
        kind = e.get("type")
        ctx = e.get("ctx") or {}
        given = e.get("input")
        if kind == "string_pattern_mismatch" and ctx.get("pattern") == NOT_BLANK:
            msg = "must not be empty or only spaces: give an id"
        elif kind == "value_error":  # the model's own sentence, without pydantic's label
            msg = msg.removeprefix("Value error, ")
        elif kind == "string_too_long" and isinstance(given, str):
            msg = (f"is {len(given):,} characters long; it may have at most "
                   f"{ctx.get('max_length', 0):,} characters")
            given = None  # not repeated: it may be megabytes
        elif kind in _TYPE_WORDS:
            msg = f"must be {_TYPE_WORDS[kind]}"
        elif kind == "string_unicode":  # (a bounded field's length cannot be counted)
            msg = "holds a broken character (half of a UTF-16 pair); retype it"
        if kind == "missing":
            msg = "is required"
        elif kind != "json_invalid" and isinstance(given, (str, int, float, bool)):
            shown = repr(given)
            if len(shown) > _ECHO_MAX:
                shown = shown[:_ECHO_MAX] + "…"
            msg = f"{msg} (got {shown})"
        sep = " " if e.get("type") == "missing" else ": "
        problems.append({"field": ".".join(str(x) for x in e.get("loc", ())[1:]) or None,
                         "message": f"{where}{sep}{msg}"})
    return {"detail": "; ".join(str(p["message"]) for p in problems), "errors": problems}


def unreadable_body(content_type: str | None, reason: object) -> dict[str, Any]:
    """The 422 body for a request body that cannot be parsed at all (not UTF-8 JSON, a broken
    multipart form): the framework says 400, the API answers it like any other bad field."""
    kind = (content_type or "none given").split(";")[0].strip()
    message = (f"the request body cannot be read ({reason}; content type {kind}): send JSON in "
               "UTF-8, or for an upload a multipart/form-data form with its 'file'")
    return {"detail": message, "errors": [{"field": None, "message": message}]}


def install(app: FastAPI) -> None:
    """Map every error to its status and body."""

    async def graphsvc_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GraphsvcError)
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after)}
        if status == 500:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        elif status > 500:
            log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(body_of(exc), status_code=status, headers=headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(_validation_body(exc), status_code=422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail
        if exc.status_code == 400:  # a body the framework cannot parse: bad input, 422
            return JSONResponse(unreadable_body(request.headers.get("content-type"), detail),
                                status_code=422)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is no endpoint {route_path(request.url.path)}; see /docs for the list"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {route_path(request.url.path)}; see /docs"
        return JSONResponse({"detail": detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        rid = request_id.get()
        return JSONResponse({"detail": "an unexpected error happened in graphsvc; it has been "
                                       f"logged. Please report it, with the request id {rid}."},
                            status_code=500,  # answered outside SafeAnswers and RequestId
                            headers={**PRIVATE, "X-Request-ID": rid})

    app.add_exception_handler(GraphsvcError, graphsvc_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, bug)
