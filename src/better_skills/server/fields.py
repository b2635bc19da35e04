"""Field lengths: the one home of each limit that a column's width, a service's validation
and a request schema share.

``models.py`` declares its columns with these, the services validate against them, and the
pydantic schemas and page forms take their ``max_length`` from here, so a column cannot be
widened (or narrowed) without the checks in front of it following. A change of a column's
width still needs a migration; tests/server/test_migrations.py fails until it has one.
"""

from __future__ import annotations

#: ``users.name``: a display name, after its white space is collapsed.
USER_NAME = 200
#: ``users.email``: RFC 5321's 64-character local part, ``@`` and a 255-character domain.
EMAIL_COLUMN = 320
#: The longest address sign-up accepts: RFC 5321's 256-octet path less its angle brackets.
#: Shorter than the column, which therefore holds any address sign-in is asked about.
EMAIL = 254
#: Passwords, in characters (argon2id hashes any length, but sign-in must not hash megabytes).
PASSWORD_MIN = 8
PASSWORD_MAX = 128
#: ``access_tokens.name``.
ACCESS_TOKEN_NAME = 100
#: ``vaults.name`` (a team's name).
VAULT_NAME = 200
#: ``sessions.user_agent``, ``device_codes.user_agent``: longer agents are cut, not refused.
USER_AGENT = 512
