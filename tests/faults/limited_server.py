"""``better-skills-server`` under a file-size limit (test-only): ``BS_FAULT_FSIZE`` bytes.

A write that would make any file larger fails with EFBIG, which SQLite reports as a full
disk (SQLITE_FULL): the server meets a full disk without the test filling a real one.
"""

from __future__ import annotations

import os
import resource
import signal

from better_skills.server.main import main

if __name__ == "__main__":
    limit = int(os.environ["BS_FAULT_FSIZE"])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    main()
