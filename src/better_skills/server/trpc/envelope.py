"""tRPC v11 wire shapes (no transformer): success and error envelopes, error codes, and the
translation of the services' errors into them."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from better_skills.protocol import errors

#: tRPC error code -> (JSON-RPC number, HTTP status), as tRPC v11 defines them.
CODES: dict[str, tuple[int, int]] = {
    "PARSE_ERROR": (-32700, 400),
    "BAD_REQUEST": (-32600, 400),
    "INTERNAL_SERVER_ERROR": (-32603, 500),
    "UNAUTHORIZED": (-32001, 401),
    "FORBIDDEN": (-32003, 403),
    "NOT_FOUND": (-32004, 404),
    "METHOD_NOT_SUPPORTED": (-32005, 405),
    "CONFLICT": (-32009, 409),
    "PRECONDITION_FAILED": (-32012, 412),
    "PAYLOAD_TOO_LARGE": (-32013, 413),
    "UNSUPPORTED_MEDIA_TYPE": (-32015, 415),
    "TOO_MANY_REQUESTS": (-32029, 429),
}
_BY_STATUS = {status: code for code, (_, status) in CODES.items() if code != "PARSE_ERROR"}


class TrpcError(Exception):
    """An error a procedure answers with: a tRPC code and the message the CLI prints."""

    def __init__(self, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: Seconds to wait (TOO_MANY_REQUESTS): sent as the answer's ``Retry-After``.
        self.retry_after = retry_after

    @property
    def http_status(self) -> int:
        return CODES[self.code][1]


def from_service_error(exc: errors.OAuthError) -> TrpcError:
    """A service error in tRPC terms; its problem list (if any) joined into the message."""
    code = _BY_STATUS.get(exc.status_code, "BAD_REQUEST")
    message = exc.description.rstrip(".") if exc.details is None else exc.description
    if exc.details:
        lines = [
            f"{d.get('path') or ''}{':' + str(d['line']) if d.get('line') else ''}: {d['message']}"
            if d.get("path")
            else str(d["message"])
            for d in exc.details
        ]
        message = "\n".join([exc.description, *lines])
    return TrpcError(code, message, exc.retry_after)


def from_validation_error(exc: ValidationError) -> TrpcError:
    """Input validation failures as one readable sentence per problem."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "input"
        parts.append(f"{where}: {err['msg']}")
    return TrpcError("BAD_REQUEST", "Invalid input: " + "; ".join(parts))


def success(data: Any) -> dict[str, Any]:
    return {"result": {"data": data}}


def failure(error: TrpcError, path: str) -> dict[str, Any]:
    number, status = CODES[error.code]
    return {
        "error": {
            "message": error.message,
            "code": number,
            "data": {"code": error.code, "httpStatus": status, "path": path},
        }
    }
