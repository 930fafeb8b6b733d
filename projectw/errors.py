"""The errors Project-W raises on purpose, each mapped to one HTTP answer in `api.errors`.

A user sees ``detail`` (one sentence) and ``code`` (stable, for programs); never a traceback.
"""

from __future__ import annotations


class ProjectWError(Exception):
    """Base of every error a user may see."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class ConfigError(ProjectWError):
    """The configuration is invalid."""

    code = "config_error"


class StartupError(ProjectWError):
    """The server cannot start (database unreachable, data dir unwritable, …)."""

    code = "startup_error"


class BadRequest(ProjectWError):
    """The request is well-formed but cannot be carried out as asked."""


class InvalidInput(ProjectWError):
    """A value in the request is invalid."""

    status_code = 422
    code = "validation_error"


class Unauthorized(ProjectWError):
    """No valid credentials were presented."""

    status_code = 401
    code = "not_authenticated"


class Forbidden(ProjectWError):
    """The credentials are valid but do not allow this."""

    status_code = 403
    code = "forbidden"


class NotFound(ProjectWError):
    """The resource does not exist or is not yours."""

    status_code = 404
    code = "not_found"


class Conflict(ProjectWError):
    """The resource is in a state that does not allow this."""

    status_code = 409
    code = "conflict"


class PayloadTooLarge(ProjectWError):
    """The upload is bigger or longer than allowed."""

    status_code = 413
    code = "too_large"


class UnsupportedMedia(ProjectWError):
    """The upload is not a kind of file Project-W can use."""

    status_code = 415
    code = "unsupported_media"


class RateLimited(ProjectWError):
    """Too many attempts in too short a time."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class ServiceUnavailable(ProjectWError):
    """A feature is not configured or a dependency is down."""

    status_code = 503
    code = "unavailable"
