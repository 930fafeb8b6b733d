"""The runner's side of the runner protocol: one method per route, errors by kind."""

from __future__ import annotations

import logging
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from projectw.protocol import (
    RUNNER_ROUTES,
    SESSION_PARAM,
    HeartbeatRequest,
    HeartbeatResponse,
    JobInfoResponse,
    RegisterRequest,
    RegisterResponse,
    SubmitResultRequest,
    SubmitResultResponse,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 60.0
# Extra time a long poll may take beyond its wait before the request counts as lost.
LONG_POLL_SLACK = 15.0
_DOWNLOAD_CHUNK = 1024 * 1024

ModelT = TypeVar("ModelT", bound=BaseModel)


class ServerUnavailable(Exception):
    """The server cannot be reached or answered with a server error; try again later."""


class ServerRefused(Exception):
    """The server answered with a client error."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{detail} (HTTP {status}, {code})")
        self.status = status
        self.code = code
        self.detail = detail


class TokenRejected(ServerRefused):
    """The runner token is unknown or was revoked."""


class SessionClosed(ServerRefused):
    """The server closed this runner's session; register again."""


class AlreadyOnline(ServerRefused):
    """Another session of this runner is open."""


class NoJob(ServerRefused):
    """The server has no job for this runner (any more)."""


def _refusal(response: httpx.Response) -> ServerRefused:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or "error")
    detail = str(body.get("detail") or response.reason_phrase)
    kind: type[ServerRefused] = ServerRefused
    if response.status_code == 401:
        kind = SessionClosed if code == "runner_session_invalid" else TokenRejected
    elif response.status_code == 403 and code == "runner_already_online":
        kind = AlreadyOnline
    elif response.status_code == 409 and code == "no_job_assigned":
        kind = NoJob
    return kind(response.status_code, code, detail)


class ServerClient:
    """Talks to one Project-W server with one runner token."""

    def __init__(
        self,
        server_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.session_token: str | None = None
        self._http = httpx.AsyncClient(
            base_url=server_url.rstrip("/") + RUNNER_ROUTES,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT),
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    def _params(self, **extra: Any) -> dict[str, Any]:
        params = {key: value for key, value in extra.items() if value is not None}
        if self.session_token is not None:
            params[SESSION_PARAM] = self.session_token
        return params

    async def _request(
        self,
        method: str,
        route: str,
        *,
        body: BaseModel | None = None,
        timeout: float | None = None,
        **params: Any,
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method,
                route,
                params=self._params(**params),
                content=body.model_dump_json(exclude_none=True) if body is not None else None,
                headers={"Content-Type": "application/json"} if body is not None else None,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from None
        _check(response)
        return response

    async def register(self, request: RegisterRequest) -> RegisterResponse:
        self.session_token = None
        answer = _parse(RegisterResponse, await self._request("POST", "/register", body=request))
        self.session_token = answer.session_token
        return answer

    async def unregister(self, *, orderly: bool = True, timeout: float | None = None) -> None:
        """Close the session; ``orderly`` sends the session token (an orderly hand-back)."""
        if not orderly:
            self.session_token = None
        try:
            await self._request("POST", "/unregister", timeout=timeout)
        finally:
            self.session_token = None

    async def heartbeat(self, request: HeartbeatRequest, wait: float = 0) -> HeartbeatResponse:
        response = await self._request(
            "POST",
            "/heartbeat",
            body=request,
            timeout=REQUEST_TIMEOUT + wait + LONG_POLL_SLACK if wait else None,
            wait=wait or None,
        )
        return _parse(HeartbeatResponse, response)

    async def job_info(self) -> JobInfoResponse:
        return _parse(JobInfoResponse, await self._request("GET", "/retrieve_job_info"))

    async def download_audio(self, destination: Path) -> int:
        """Stream the job's recording into ``destination``; returns its size in bytes."""
        size = 0
        try:
            async with self._http.stream(
                "POST", "/retrieve_job_audio", params=self._params()
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _check(response)
                with destination.open("wb") as handle:
                    async for chunk in response.aiter_bytes(_DOWNLOAD_CHUNK):
                        handle.write(chunk)
                        size += len(chunk)
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from None
        return size

    async def submit(self, request: SubmitResultRequest) -> SubmitResultResponse:
        return _parse(
            SubmitResultResponse, await self._request("POST", "/submit_job_result", body=request)
        )


def _check(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise ServerUnavailable(f"the server answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise _refusal(response)


def _parse(model: type[ModelT], response: httpx.Response) -> ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise ServerUnavailable(f"the server's answer was not understood: {exc}") from None
