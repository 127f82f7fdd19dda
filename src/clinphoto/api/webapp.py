"""The phone app at / on the API's own origin, and the security headers of every answer.

The app is the Vite build of web/ (``make web`` writes web/dist; CLINPHOTO_WEB_DIR names
another directory). Paths under :data:`API_PREFIXES` belong to the API and keep its JSON
answers, 404 included. A GET or HEAD of any other path is the app's:

- a file of the build: ``/assets/*`` (names carry a content hash, so cached for a year),
  and the files at its root (index.html, sw.js, manifest.webmanifest, icons, *.wasm),
  revalidated on every use (``no-cache``) so a new release reaches phones at once;
- index.html for any other path with no file extension (a screen's address);
- 404 for anything else, never a directory listing, never a file outside the build
  (``..``, hidden names, and symbolic links that lead out of it are refused).

Other methods on those paths fall through to the API's router (404 or 405 in the one error
shape). The app's files hold no patient data and need no session; every API path still
does unless it is on the allow-list in api/app.py.

When there is no build, / answers a short page saying how to build it (``make run``).
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinphoto.api.errors import error_response

# Every path of the API lies under one of these (a test walks the routes to prove it); the
# web app never answers there, so it can neither shadow a route nor give one a public face.
API_PREFIXES = ("/v1", "/docs", "/openapi.json", "/healthz")

# The phone app's policy: its own scripts only, never inline; WebAssembly compiled from its
# own files (Argon2id in hash-wasm, the barcode reader); photos previewed from blob: URLs;
# no other origin for anything. `require-trusted-types-for 'script'` is left out: under it
# Chromium blocks the app's start-up (a script URL given to a worker or the service worker
# without a Trusted Types policy); add it once the app defines one and runs under it.
APP_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=63072000; includeSubDomains"
# Sent to a device that is told it was revoked: the browser deletes what the app kept on
# it (IndexedDB, storage, service worker, caches). Browsers honour it over HTTPS only.
CLEAR_SITE_DATA = '"cache", "storage"'

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>clinphoto: the app is not built</title></head>
<body>
<h1>The phone app is not built</h1>
<p>This clinphoto server is running, and its API answers under /v1 (documentation at
<a href="/docs">/docs</a>), but it has no build of the phone app to serve here.</p>
<p>In the source checkout, <code>make run</code> builds it and serves it (or <code>make web</code>
builds it into web/dist). A server elsewhere serves the build named by
<code>CLINPHOTO_WEB_DIR</code>.</p>
</body>
</html>
"""


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


class WebApp:
    """Serves the build in ``root`` (or the not-built page) for every non-API GET and HEAD;
    everything else goes on to the API."""

    def __init__(self, app: ASGIApp, *, root: Path | None) -> None:
        self.app = app
        self.root = root.resolve() if root is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or is_api_path(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["route_template"] = "(web app)"
        await self._response(scope)(scope, receive, send)

    def _response(self, scope: Scope) -> Response:
        path: str = scope["path"]
        parts = path[1:].split("/") if path != "/" else []
        if not _safe(parts):
            return error_response(scope, "not_found", "not found", status=404)
        index = self.root / "index.html" if self.root is not None else None
        if index is None or not index.is_file():
            if parts and (parts[0] == "assets" or "." in parts[-1]):
                return error_response(scope, "not_found", "not found", status=404)
            return HTMLResponse(NOT_BUILT, status_code=503, headers={"Cache-Control": "no-store"})
        assert self.root is not None
        if parts:
            found = self._file(parts)
            if found is not None:
                cache = IMMUTABLE if parts[0] == "assets" and len(parts) > 1 else REVALIDATE
                return _file_response(found, cache)
            if parts[0] == "assets" or "." in parts[-1]:
                return error_response(scope, "not_found", "not found", status=404)
        return _file_response(index, REVALIDATE)

    def _file(self, parts: list[str]) -> Path | None:
        """The build's file at ``parts``, if it is a regular file inside the build once every
        symbolic link is followed."""
        assert self.root is not None
        candidate = self.root.joinpath(*parts).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate


def _safe(parts: list[str]) -> bool:
    """No empty, dot or hidden segment (``//``, ``.``, ``..``, ``.git``), no backslash or NUL:
    a path names a file inside the build or nothing."""
    return all(p and not p.startswith(".") and "\\" not in p and "\x00" not in p for p in parts)


def _file_response(path: Path, cache: str) -> FileResponse:
    media_type = _TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache})


class SecurityHeaders:
    """Outermost: the headers every answer carries, whatever produced it.

    The app's Content-Security-Policy unless the answer set its own (/docs does), the
    Referrer-, Permissions-, Cross-Origin-Opener- and -Resource-Policy, ``no-store`` for
    every API answer, HSTS over TLS (directly or through a trusted proxy's
    X-Forwarded-Proto), and Clear-Site-Data on the answer that tells a device it was revoked.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        api = path == "/v1" or path.startswith("/v1/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", APP_CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                if api:
                    headers["Cache-Control"] = "no-store"
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = HSTS
                state = scope.get("state", {})
                if state.get("error_code") == "device_revoked" or state.get("clear_site_data"):
                    headers["Clear-Site-Data"] = CLEAR_SITE_DATA
            await send(message)

        await self.app(scope, receive, send_with_headers)
