"""Routes of graphsvc.analysis.repair (being built: see issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
