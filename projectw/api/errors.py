"""The one place where errors become HTTP answers: JSON ``{detail, code}``, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from projectw.errors import ProjectWError, RateLimited

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, **extra}


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "request")


def describe_validation_error(errors: list[dict[str, Any]]) -> str:
    """One sentence naming the first offending field."""
    first = errors[0]
    field = _field_name(tuple(first.get("loc", ())))
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        return f"Field '{field}' is required."
    return f"Field '{field}': {message[0].lower() + message[1:] if message else 'is invalid'}."


async def _projectw_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProjectWError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse(
        error_body(exc.detail, exc.code), status_code=exc.status_code, headers=headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse(
        error_body(
            describe_validation_error(list(exc.errors())), "validation_error", errors=errors
        ),
        status_code=422,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    if exc.status_code == 404 and detail == "Not Found":
        detail = "There is nothing at this address."
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = "This method is not allowed here."
    return JSONResponse(
        error_body(detail, _HTTP_CODES.get(exc.status_code, "error")),
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return JSONResponse(
        error_body("Something went wrong on the server; it has been logged.", "internal_error"),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProjectWError, _projectw_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
