"""Kept so that ``from tests.server.flow import ...`` goes on working: the helpers moved to
tests/support/flow.py, which every test directory shares."""

from tests.support.flow import (  # noqa: F401
    ORIGIN,
    PASSWORD,
    approved_token,
    claim,
    decide,
    error_of,
    issue,
    poll,
    sign_up,
)
