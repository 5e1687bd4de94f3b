"""Every router, collected in one place: one router per resource."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from graphsvc.api.deps import get_principal
from graphsvc.api.routes import (
    audit,
    auditlog,
    contacts,
    exports,
    health,
    households,
    imports,
    liaisons,
    pairings,
    people,
    repair,
    requests,
    risks,
    summary,
    supports,
    trends,
)

API_PREFIX = "/api/v1"

# every route under /api/v1 needs a valid key; routes that change data also check its role
api_router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(get_principal)])
for module in (households, audit, people, summary, imports, liaisons, pairings, supports, contacts,
               exports, auditlog, risks, repair, requests, trends):
    api_router.include_router(module.router)

health_router = health.router

__all__ = ["API_PREFIX", "api_router", "health_router"]
