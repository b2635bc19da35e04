"""What every ``/trpc`` procedure is made of: its input model's base, the request context
(the services and, on demand, the caller), and the table the procedures register in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from better_skills.protocol import errors
from better_skills.server.dependencies import current_principal, services
from better_skills.server.principal import Principal
from better_skills.server.services.container import Services
from better_skills.server.services.skills import Skill
from better_skills.server.services.vaults import Vault
from better_skills.server.trpc import shapes
from better_skills.server.trpc.envelope import TrpcError


class Input(BaseModel):
    """A procedure's input model: keys it does not know are dropped, not refused."""

    model_config = ConfigDict(extra="ignore")


class Context:
    """One HTTP request: the services and, when a procedure needs it, the caller."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.svc: Services = services(request)
        self._principal: Principal | None = None

    async def principal(self) -> Principal:
        if self._principal is None:
            try:
                self._principal = await current_principal(self.request)
            except errors.Unauthorized:
                raise TrpcError("UNAUTHORIZED", "Authentication required") from None
        return self._principal

    async def skill_names(self, *skills: Skill) -> dict[str, str]:
        """Names of the skills these mention that the caller can read (through the service,
        so its read rule decides), in one read however many there are."""
        user = (await self.principal()).user_id
        wanted = {i for skill in skills for i in shapes.mentioned_skills(skill)}
        if not wanted:
            return {}
        found = await self.svc.skills.get_many(user, sorted(wanted))
        return {i: s.summary.name for i, s in found.items()}

    async def vaults(self) -> dict[str, Vault]:
        user = (await self.principal()).user_id
        return {v.id: v for v in await self.svc.vaults.list_for(user)}


Handler = Callable[[Context, Any], Awaitable[Any]]


@dataclass(frozen=True)
class Procedure:
    """One registered procedure: how it is called, what it takes, what runs."""

    kind: str  # "query" or "mutation"
    model: type[Input] | None
    handler: Handler


PROCEDURES: dict[str, Procedure] = {}


def procedure(name: str, kind: str, model: type[Input] | None = None) -> Callable:
    """Register the decorated handler in ``PROCEDURES`` under ``name``."""

    def register(handler: Handler) -> Handler:
        PROCEDURES[name] = Procedure(kind, model, handler)
        return handler

    return register
