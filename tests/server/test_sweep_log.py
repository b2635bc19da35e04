"""The background sweep's failure log: the type always, the traceback at debug level."""

from __future__ import annotations

import asyncio
import logging

import pytest

from better_skills.server.app import _sweep_forever

pytestmark = pytest.mark.anyio


class Broken(Exception):
    pass


async def failing_sweep() -> dict[str, int]:
    raise Broken("a bug in a sweeper")


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
async def test_a_failed_sweep_is_logged_with_its_traceback_only_at_debug(
    app_client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, level: int
) -> None:
    async with app_client() as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        # The fault: a sweeper that raises (the real sweep runs in test_device_api).
        monkeypatch.setattr(services.device_flow, "sweep", failing_sweep)
        caplog.set_level(level, logger="better_skills.server")
        task = asyncio.create_task(_sweep_forever(services))
        for _ in range(100):
            await asyncio.sleep(0.01)
            if any("sweep failed" in r.getMessage() for r in caplog.records):
                break
        task.cancel()
    [record] = [r for r in caplog.records if "sweep failed" in r.getMessage()]
    assert record.getMessage() == "sweep failed: Broken"
    assert record.levelno == logging.WARNING
    if level == logging.DEBUG:
        assert record.exc_info is not None and record.exc_info[0] is Broken
    else:
        assert not record.exc_info
