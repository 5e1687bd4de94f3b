"""Routes of graphsvc.analysis.risks (being built: see issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
