"""httpx, imported without its optional command line tool. The CLI talks HTTP through
``_http11``; httpx carries the requests of an ``ApiClient`` only when a test injects an httpx
transport (``httpx.MockTransport``) into it.

``import httpx`` also imports ``httpx._main`` (its own CLI) whenever click, rich and pygments
happen to be installed, which they are here: about 70 ms for code we never run. A ``None`` entry
in ``sys.modules`` makes that one import raise ``ImportError``, and httpx falls back to the stub
it uses when its ``cli`` extra is absent; nothing else changes.
"""

from __future__ import annotations

import sys

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx

__all__ = ["httpx"]
