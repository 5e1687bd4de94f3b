"""``GET /health`` and ``GET /ready``: is the service up, can it reach its store, which
version answers (no key needed).

Both answer 503 with the reason until the store can be reached and, at opening, its schema
and statements were checked; a worker serves no request before its start-up (the store
opened and its kept results loaded) is over. ``/ready`` is the name load balancers and
orchestrators look for; ``/health`` is the one of ``spec/API.md``. Neither waits behind the
reads held back by ``GRAPHSVC_READ_CONCURRENCY``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import graphsvc
from graphsvc.api.holder import StoreHolder
from graphsvc.api.schemas import Health, HealthDown
from graphsvc.errors import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Is the service up",
            response_description="the service and its store answer",
            responses={503: {"model": HealthDown, "description": "the store cannot be reached"}})
def health(request: Request) -> Health | JSONResponse:
    """The service answers and its store can be reached; 503 with the reason when it cannot."""
    return _check(request, "ok")


@router.get("/ready", response_model=Health, summary="Is the service ready for requests",
            response_description="the service and its store answer",
            responses={503: {"model": HealthDown, "description": "the store cannot be reached"}})
def ready(request: Request) -> Health | JSONResponse:
    """Ready for requests: the store can be reached; 503 with the reason until it can."""
    return _check(request, "ready")


def _check(request: Request, ok: Literal["ok", "ready"]) -> Health | JSONResponse:
    holder: StoreHolder = request.app.state.store
    try:
        store = holder.get()
        try:
            store.ping()
        except StoreUnavailable as exc:
            holder.mark_down(str(exc))
            raise
    except StoreUnavailable as exc:
        body = HealthDown(status="unavailable", store=holder.kind,  # type: ignore[arg-type]
                          detail=str(exc), version=graphsvc.__version__)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status=ok, store=store.kind,  # type: ignore[arg-type]
                  version=graphsvc.__version__)
