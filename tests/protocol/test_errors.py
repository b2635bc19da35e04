"""The error tree of protocol/errors.py: every wire code turns back into its class."""

from __future__ import annotations

from better_skills.protocol import errors


def test_every_code_maps_back_to_its_class() -> None:
    classes = [
        cls for cls in errors.OAuthError.__subclasses__() if cls.__module__ == errors.__name__
    ]
    assert errors.MethodNotAllowed in classes
    for cls in classes:
        expected = errors.InvalidRequest if cls.error == "invalid_request" else cls
        assert errors.error_class_for(cls.error) is expected, cls
    assert errors.error_class_for("no_such_code") is errors.OAuthError
