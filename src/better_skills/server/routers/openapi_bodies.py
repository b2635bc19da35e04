"""Request body schemas for the OpenAPI document (the handlers parse bodies themselves, so
that JSON and form bodies share one strict parser)."""

from __future__ import annotations

from typing import Any


def body(properties: dict[str, Any], required: list[str], *, form: bool = True) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    content = {"application/json": {"schema": schema}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"requestBody": {"required": bool(required), "content": content}}


STRING = {"type": "string", "maxLength": 4096}
ERROR = {
    "description": "RFC 6749 error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                },
                "required": ["error"],
            }
        }
    },
}
