"""``better-skills-server`` with a pause inside the skill update's transaction (test-only).

When the file ``$BS_FAULT_PAUSE_FILE.arm`` holds a skill's id, an update of that skill writes
its files, then, before its links, writes ``$BS_FAULT_PAUSE_FILE`` and blocks, so that a test
can SIGKILL the server at exactly that point. Otherwise it is the plain server.
No production code knows about this; the patch is applied here, in the test's process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from better_skills.server.main import main
from better_skills.server.queries import skill_writes as queries

_real_replace_links = queries.replace_links


async def _paused_replace_links(conn: Any, skill_id: str, rows: list[Any], **kw: Any) -> None:
    # Blocking on purpose: the whole server stops here, inside the transaction, until killed.
    arm = Path(os.environ["BS_FAULT_PAUSE_FILE"] + ".arm")
    if arm.exists() and arm.read_text() == skill_id:  # noqa: ASYNC240
        Path(os.environ["BS_FAULT_PAUSE_FILE"]).write_text(skill_id)  # noqa: ASYNC240
        time.sleep(120)  # noqa: ASYNC251
    await _real_replace_links(conn, skill_id, rows, **kw)


queries.replace_links = _paused_replace_links

if __name__ == "__main__":
    main()
