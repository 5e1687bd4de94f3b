"""Routes of graphsvc.analysis.requests (being built: see issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
