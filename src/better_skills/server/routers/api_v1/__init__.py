"""The /api/v1 vault API (shared/reference/api.md): vaults, skills, sync, teams."""

from __future__ import annotations

from fastapi import APIRouter

from better_skills.server.routers.api_v1 import shares, skills, sync, teams, vaults

router = APIRouter(prefix="/api/v1")
router.include_router(vaults.router)
router.include_router(skills.router)
router.include_router(sync.router)
router.include_router(shares.router)
router.include_router(teams.router)
