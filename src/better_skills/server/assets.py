"""Where the server's packaged files are: the page templates and the static files."""

from __future__ import annotations

from pathlib import Path

SERVER_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = SERVER_DIR / "templates"
STATIC_DIR = SERVER_DIR / "static"
