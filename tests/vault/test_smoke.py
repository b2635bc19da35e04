from __future__ import annotations

import pytest

from tests.vault.support import add_person, created

pytestmark = pytest.mark.anyio


async def test_create_and_read(client) -> None:
    ada = await add_person(client)
    skill = await created(client, ada)
    got = await client.get(f"/api/v1/skills/{skill['id']}?content=1", headers=ada.auth)
    assert got.status_code == 200, got.text
    print(got.json())
