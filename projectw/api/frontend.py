"""The web app: the built SPA served at `/`, with its caching and Content-Security-Policy.

The SPA uses hash routing, so every page is `/` plus a fragment; the fallback to index.html
still covers bookmarked or mistyped paths. API paths never fall back: an unknown API address
answers with the usual JSON 404.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# An installed wheel carries the build inside the package; a checkout has it at the repo root.
CANDIDATE_DIRS = (_PACKAGE_DIR / "_frontend", _PACKAGE_DIR.parent / "frontend_dist")
IMMUTABLE_PREFIX = "_app/immutable/"
NEVER_FALLBACK = ("/api", "/docs", "/docs-static", "/openapi.json", "/healthz", "/readyz")

IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)
# Static style attributes in compiled templates (SvelteKit's route announcer has one).
_TEMPLATE_STYLE = re.compile(rb'style="([^"\\]*)"')
_STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def find_frontend_dir() -> Path | None:
    """The folder holding the built web app, or None when this installation has none."""
    for candidate in CANDIDATE_DIRS:
        if (candidate / "index.html").is_file():
            return candidate
    return None


def _source_hash(content: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode() + "'"


def script_hashes(html: bytes) -> list[str]:
    """CSP source expressions allowing exactly the inline scripts of a page."""
    return [_source_hash(body) for body in _INLINE_SCRIPT.findall(html)]


def template_style_hashes(root: Path) -> list[str]:
    """CSP source expressions for the fixed style attributes the app's scripts create."""
    found: set[bytes] = set()
    for script in sorted((root / "_app").rglob("*.js")):
        found.update(_TEMPLATE_STYLE.findall(script.read_bytes()))
    return sorted(_source_hash(style) for style in found)


def content_security_policy(html: bytes, style_hashes: list[str] | None = None) -> str:
    """The page may load only its own files; inline scripts and styles only by hash.

    Widths of progress bars are set through the CSSOM, which the policy does not restrict;
    fixed style attributes of the app's templates are allowed one by one ('unsafe-hashes'
    with their hashes, never 'unsafe-inline'). Audio and video play from the server or a local
    blob; images may be data: URLs (icons).
    """
    scripts = " ".join(["'self'", *script_hashes(html)])
    attributes = " ".join(["'unsafe-hashes'", *style_hashes]) if style_hashes else "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"style-src-attr {attributes}",
            "img-src 'self' data:",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in NEVER_FALLBACK)


class FrontendApp:
    """Serves files of the build; paths that are not files get index.html (SPA fallback)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.index = (self.root / "index.html").read_bytes()
        self.index_headers = {
            **_STATIC_HEADERS,
            "Cache-Control": "no-cache",
            "Content-Security-Policy": content_security_policy(
                self.index, template_style_hashes(self.root)
            ),
        }

    def _file(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if not relative:
            return None
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = request.url.path
        if _is_reserved(path) or request.method not in ("GET", "HEAD"):
            raise HTTPException(status_code=404)
        response: Response
        file = self._file(path)
        if file is not None and file.name != "index.html":
            immutable = file.relative_to(self.root).as_posix().startswith(IMMUTABLE_PREFIX)
            headers = {
                **_STATIC_HEADERS,
                "Cache-Control": IMMUTABLE_CACHE if immutable else "no-cache",
            }
            response = FileResponse(file, headers=headers)
        elif path.lstrip("/").startswith("_app/"):
            # A missing script must fail as a 404, never as an HTML page the browser cannot run.
            raise HTTPException(status_code=404)
        else:
            response = Response(self.index, media_type="text/html", headers=self.index_headers)
        await response(scope, receive, send)


class HtmlPolicyMiddleware:
    """Gives other HTML pages (Swagger's /docs) a policy allowing their own inline scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def send_with_policy(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                is_html = headers.get("content-type", "").startswith("text/html")
                if not is_html or "content-security-policy" in headers:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = MutableHeaders(raw=list(start.get("headers", [])))
            headers["Content-Security-Policy"] = _page_policy(bytes(body))
            for name, value in _STATIC_HEADERS.items():
                headers.setdefault(name, value)
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, send_with_policy)


def _page_policy(html: bytes) -> str:
    scripts = " ".join(["'self'", *script_hashes(html)])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install_frontend(app: FastAPI, root: Path | None = None) -> None:
    """Serve the web app for every address no route claims; call after all routers."""
    app.add_middleware(HtmlPolicyMiddleware)
    directory = root if root is not None else find_frontend_dir()
    if directory is None:
        log.warning(
            "the web app is not built; only the API is served",
            extra={"searched": [str(path) for path in CANDIDATE_DIRS]},
        )
        return
    # The router's default handler runs only when no route matches at all, so an API route
    # called with the wrong method still answers 405 rather than falling through to the app.
    app.router.default = FrontendApp(directory)
