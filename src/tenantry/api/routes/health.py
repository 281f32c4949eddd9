"""``/healthz``: liveness, without authentication and without revealing anything."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The server answers."""
    return {"status": "ok"}
