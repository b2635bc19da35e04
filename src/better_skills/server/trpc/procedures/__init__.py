"""Every ``/trpc`` procedure: input model, then a call into the services ``/api/v1`` uses.

Rules live in the services; these modules only translate shapes (original-system.md §2).
Importing the package registers every procedure in ``PROCEDURES``, one module per area:
``root`` (health, the caller, onboarding), ``vaults``, ``skill_reads``, ``skill_writes``,
``shares`` and ``graph``; what they are made of is in ``trpc.registry``.
"""

from __future__ import annotations

from better_skills.server.trpc.procedures import (
    graph,
    root,
    shares,
    skill_reads,
    skill_writes,
    vaults,
)
from better_skills.server.trpc.registry import PROCEDURES, Context, Procedure

__all__ = [
    "PROCEDURES",
    "Context",
    "Procedure",
    "graph",
    "root",
    "shares",
    "skill_reads",
    "skill_writes",
    "vaults",
]
