"""``GET /health``: is the service up, and can it reach its store (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from graphsvc.api.holder import StoreHolder
from graphsvc.api.schemas import Health, HealthDown
from graphsvc.errors import StoreUnavailable

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Is the service up",
            response_description="the service and its store answer",
            responses={503: {"model": HealthDown, "description": "the store cannot be reached"}})
def health(request: Request) -> Health | JSONResponse:
    """The service answers and its store can be reached; 503 with the reason when it cannot."""
    holder: StoreHolder = request.app.state.store
    try:
        store = holder.get()
        try:
            store.ping()
        except StoreUnavailable as exc:
            holder.mark_down(str(exc))
            raise
    except StoreUnavailable as exc:
        body = HealthDown(status="unavailable", store=holder.kind, detail=str(exc))  # type: ignore[arg-type]
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", store=store.kind)  # type: ignore[arg-type]
