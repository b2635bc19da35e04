"""Wire error codes of RFC 6749 §5.2 and RFC 8628 §3.5, one class per code, except that
``invalid_request`` has three: the RFC 8628 endpoints answer a body too large (413) or of the
wrong media type (415) with it, as better-auth does, while ``/api/v1`` has codes of its own
for both (``ContentTooLarge``, ``UnsupportedContentType``).

Exception tree::

    OAuthError                  status 400 unless noted
    ├── InvalidRequest          invalid_request
    ├── InvalidClient           invalid_client (401 on the token endpoint per RFC 6749; we use 400
    │                           like better-auth, because clients read the body, not the status)
    ├── InvalidGrant            invalid_grant
    ├── UnsupportedGrantType    unsupported_grant_type
    ├── AuthorizationPending    authorization_pending (RFC 8628 §3.5)
    ├── SlowDown                slow_down
    ├── AccessDenied            access_denied
    ├── ExpiredToken            expired_token
    ├── Unauthorized            unauthorized (401)
    ├── Forbidden               forbidden (403)
    ├── NotFound                not_found (404)
    ├── MethodNotAllowed        method_not_allowed (405)
    ├── PayloadTooLarge         invalid_request (413)
    ├── UnsupportedMediaType    invalid_request (415)
    ├── TooManyRequests         too_many_requests (429, with Retry-After)
    ├── ServiceUnavailable      temporarily_unavailable (503)
    │   (the /api/v1 codes of api.md; ``details`` lists problems as {"path", "message"})
    ├── ValidationFailed        validation_failed (400, with details)
    ├── Conflict                conflict (409; details name the candidates)
    ├── PreconditionFailed      precondition_failed (412, stale If-Match)
    ├── ContentTooLarge         payload_too_large (413)
    └── UnsupportedContentType  unsupported_media_type (415)
"""

from __future__ import annotations

from typing import Any, ClassVar


class OAuthError(Exception):
    """An error that renders itself as an RFC 6749 §5.2 body: ``{"error", "error_description"}``."""

    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 400
    default_description: ClassVar[str] = ""

    def __init__(
        self,
        description: str | None = None,
        *,
        status_code: int | None = None,
        retry_after: int | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.description = description or self.default_description
        if status_code is not None:
            self.status_code = status_code  # type: ignore[misc]
        self.retry_after = retry_after
        self.details = details
        super().__init__(f"{self.error}: {self.description}")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "error_description": self.description}
        if self.details is not None:
            body["details"] = self.details
        return body

    def headers(self) -> dict[str, str]:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, int(self.retry_after)))
        return headers


class InvalidRequest(OAuthError):
    error = "invalid_request"
    default_description = "The request is missing a parameter or is malformed."


class InvalidClient(OAuthError):
    error = "invalid_client"
    default_description = "Unknown client."


class InvalidGrant(OAuthError):
    error = "invalid_grant"
    default_description = "The device code is invalid, already used, or for another client."


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"
    default_description = "The grant type is not supported."


class AuthorizationPending(OAuthError):
    error = "authorization_pending"
    default_description = "The user has not yet approved the request."


class SlowDown(OAuthError):
    error = "slow_down"
    default_description = "Polling too fast; add 5 seconds to the interval."


class AccessDenied(OAuthError):
    error = "access_denied"
    default_description = "The request was denied."


class ExpiredToken(OAuthError):
    error = "expired_token"
    default_description = "The device code has expired."


class Unauthorized(OAuthError):
    error = "unauthorized"
    status_code = 401
    default_description = "Sign in first."


class Forbidden(OAuthError):
    error = "forbidden"
    status_code = 403
    default_description = "This request is not allowed."


class NotFound(OAuthError):
    error = "not_found"
    status_code = 404
    default_description = "Not found."


class MethodNotAllowed(OAuthError):
    error = "method_not_allowed"
    status_code = 405
    default_description = "Method not allowed."


class PayloadTooLarge(OAuthError):
    error = "invalid_request"
    status_code = 413
    default_description = "The request body is too large."


class UnsupportedMediaType(OAuthError):
    error = "invalid_request"
    status_code = 415
    default_description = "Send application/json or application/x-www-form-urlencoded."


class TooManyRequests(OAuthError):
    error = "too_many_requests"
    status_code = 429
    default_description = "Too many attempts. Try again later."


class ServiceUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status_code = 503
    default_description = "The service is temporarily unavailable. Try again shortly."


class ValidationFailed(OAuthError):
    error = "validation_failed"
    default_description = "The skill was refused; details lists every problem."


class Conflict(OAuthError):
    error = "conflict"
    status_code = 409
    default_description = "The request conflicts with what is stored."


class PreconditionFailed(OAuthError):
    error = "precondition_failed"
    status_code = 412
    default_description = "The skill has changed since you read it (If-Match is stale)."


class ContentTooLarge(OAuthError):
    error = "payload_too_large"
    status_code = 413
    default_description = "The request body is too large."


class UnsupportedContentType(OAuthError):
    error = "unsupported_media_type"
    status_code = 415
    default_description = "Send application/json."


#: Error classes by wire code, for clients that turn a response body back into an exception.
ERROR_CODES: dict[str, type[OAuthError]] = {
    cls.error: cls
    for cls in (
        InvalidRequest,
        InvalidClient,
        InvalidGrant,
        UnsupportedGrantType,
        AuthorizationPending,
        SlowDown,
        AccessDenied,
        ExpiredToken,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        TooManyRequests,
        ServiceUnavailable,
        ValidationFailed,
        Conflict,
        PreconditionFailed,
        ContentTooLarge,
        UnsupportedContentType,
    )
}


def error_class_for(code: str) -> type[OAuthError]:
    """The class for a wire error code; unknown codes map to the base class."""
    return ERROR_CODES.get(code, OAuthError)
