"""/docs: Swagger UI served from the server itself, with no CDN, so the API documentation
works on a closed hospital network. The files come from the fastapi-offline package (Swagger
UI 5's bundle and stylesheet); the pages are FastAPI's own, except that the script each
page carries inline is served as a file of its own (/docs/assets/init.js and
oauth2-redirect.js), so the pages run under a policy that allows no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException

ASSETS = "/docs/assets"
_FILES = Path(fastapi_offline.__file__).parent / "static"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
# The pages may load and call nothing but this server, and run no inline script. Swagger
# UI's stylesheet uses inline styles and data: images.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _external(page: HTMLResponse, name: str) -> tuple[str, bytes]:
    """The HTML of ``page`` with its one inline script replaced by a reference to
    ``ASSETS/name``, and that script's text."""
    html = bytes(page.body).decode()
    scripts = _INLINE_SCRIPT.findall(html)
    if len(scripts) != 1:  # FastAPI changed its page: look before serving it
        raise RuntimeError(f"expected one inline script in FastAPI's page, found {len(scripts)}")
    html = _INLINE_SCRIPT.sub(f'<script src="{ASSETS}/{name}"></script>', html)
    return html, scripts[0].encode()


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """Add /docs, its OAuth2 redirect page and its assets (created with ``docs_url=None``)."""
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    docs_page, init_js = _external(
        get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            oauth2_redirect_url=redirect,
            # Swagger UI would otherwise send the schema to an online validator.
            swagger_ui_parameters={"validatorUrl": None},
        ),
        "init.js",
    )
    redirect_page, redirect_js = _external(
        get_swagger_ui_oauth2_redirect_html(), "oauth2-redirect.js"
    )
    scripts = {"init.js": init_js, "oauth2-redirect.js": redirect_js}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return _page(docs_page)

    @app.get(redirect, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return _page(redirect_page)

    @app.get(f"{ASSETS}/{{name}}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name in scripts:
            return Response(
                scripts[name],
                media_type="text/javascript",
                headers={"Cache-Control": "no-cache"},
            )
        if name not in _TYPES:
            raise HTTPException(404)
        return FileResponse(
            _FILES / name,
            media_type=_TYPES[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )
