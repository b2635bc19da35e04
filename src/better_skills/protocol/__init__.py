"""The wire contract shared by the CLI and the server (no I/O, no heavy imports)."""

from better_skills.protocol.device_flow import (
    API_BASE,
    CLIENT_ID,
    DEFAULT_SCOPE,
    DEVICE_CODE_GRANT_TYPE,
    Paths,
)
from better_skills.protocol.errors import ERROR_CODES, OAuthError, error_class_for

__all__ = [
    "API_BASE",
    "CLIENT_ID",
    "DEFAULT_SCOPE",
    "DEVICE_CODE_GRANT_TYPE",
    "ERROR_CODES",
    "OAuthError",
    "Paths",
    "error_class_for",
]
