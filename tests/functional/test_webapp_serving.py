"""The phone app served at / on the API's origin (issue 9 section 3): its files with the
right types and caching, the shell for a screen's address, JSON 404s kept for the API, no
way out of the build, and the headers every answer carries."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clinphoto.api.app import create_app
from clinphoto.api.webapp import APP_CSP, NOT_BUILT
from clinphoto.core.config import Settings
from clinphoto.instance import keys
from clinphoto.instance.runtime import Instance, open_instance
from tests.live import serving

INDEX = (
    '<!doctype html><html><head><link rel="manifest" href="/manifest.webmanifest">'
    '<script type="module" src="/assets/index-Ab12Cd34.js"></script></head>'
    '<body><div id="app"></div></body></html>'
)
SCRIPT = b"console.log('clinphoto');\n"
WASM = b"\x00asm\x01\x00\x00\x00"  # the smallest valid WebAssembly module
SECRET = b"outside the build: never served\n"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as Vite writes it, with traps beside it: a secret next to the build, a link
    out of it, a hidden file in it."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-Ab12Cd34.js").write_bytes(SCRIPT)
    (root / "assets" / "argon2-Ef56.wasm").write_bytes(WASM)
    (root / "sw.js").write_text("self.addEventListener('fetch', () => {});\n")
    (root / "manifest.webmanifest").write_text('{"name": "clinphoto"}')
    (root / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / "zxing_reader.wasm").write_bytes(WASM)
    (root / ".env").write_bytes(SECRET)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (root / "assets" / "up").symlink_to(tmp_path)
    return root


@contextmanager
def _instance(settings: Settings) -> Iterator[Instance]:
    """A new instance on SQLite: serving files does not depend on the database."""
    keys.create(settings)
    instance = open_instance(settings)
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def web(settings: Settings, dist: Path) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"web_dir": dist})
    with _instance(settings) as instance, TestClient(create_app(settings, instance)) as c:
        yield c


@pytest.fixture
def unbuilt(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"web_dir": tmp_path / "missing"})
    with _instance(settings) as instance, TestClient(create_app(settings, instance)) as c:
        yield c


# --- the app's files ----------------------------------------------------------------------


def test_root_serves_the_shell_revalidated_each_time(web: TestClient) -> None:
    r = web.get("/")
    assert r.status_code == 200
    assert r.text == INDEX
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["Content-Security-Policy"] == APP_CSP


def test_hashed_assets_are_cached_for_a_year(web: TestClient) -> None:
    r = web.get("/assets/index-Ab12Cd34.js")
    assert r.status_code == 200
    assert r.content == SCRIPT
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    wasm = web.get("/assets/argon2-Ef56.wasm")
    assert wasm.content == WASM
    assert wasm.headers["content-type"] == "application/wasm"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/icon.svg", "image/svg+xml"),
        ("/zxing_reader.wasm", "application/wasm"),
        ("/index.html", "text/html; charset=utf-8"),
    ],
)
def test_files_at_the_root_have_their_type_and_are_revalidated(
    web: TestClient, dist: Path, path: str, content_type: str
) -> None:
    r = web.get(path)
    assert r.status_code == 200
    assert r.content == (dist / path[1:]).read_bytes()
    assert r.headers["content-type"] == content_type
    assert r.headers["Cache-Control"] == "no-cache"


def test_head_answers_like_get_without_a_body(web: TestClient) -> None:
    r = web.head("/assets/index-Ab12Cd34.js")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(len(SCRIPT))


def test_a_screens_address_gets_the_shell(web: TestClient) -> None:
    for path in ("/patients", "/patient/" + "a" * 32, "/capture/x/y"):
        r = web.get(path)
        assert r.status_code == 200, path
        assert r.text == INDEX
        assert r.headers["Cache-Control"] == "no-cache"


def test_a_missing_file_is_not_found_never_the_shell(web: TestClient) -> None:
    for path in ("/assets/index-0000.js", "/assets/nothing", "/favicon.ico", "/assets"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"


def test_only_get_and_head_reach_the_app(web: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/patients", "/sw.js"):
            r = web.request(method, path)
            assert r.status_code in (404, 405), (method, path)
            assert "error" in r.json()
            assert INDEX not in r.text


# --- the API keeps its own answers ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nothing-here",
        "/v1",
        "/v1/",
        "/v1/index.html",
        "/v1/assets/index-Ab12Cd34.js",
        "/docs/nothing",
        "/docs/assets/nothing.js",
        "/openapi.json/x",
        "/healthz/x",
    ],
)
def test_api_paths_never_get_the_app(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 404, path
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == "not_found"


def test_the_api_still_answers_beside_the_app(web: TestClient) -> None:
    assert web.get("/healthz").json()["status"] == "ok"
    assert web.get("/docs").status_code == 200
    assert "/v1/enroll" in web.get("/openapi.json").json()["paths"]
    r = web.get("/v1/me")
    assert r.status_code == 401
    assert r.headers["Cache-Control"] == "no-store"


# --- no way out of the build --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/leak.txt",  # a symbolic link to a file outside the build
        "/assets/up/secret.txt",  # a symbolic link to a directory outside it
        "/.env",  # hidden files
        "/%2eenv",
        "/assets/%2e%2e/%2e%2e/secret.txt",  # encoded dot segments
        "/assets/..%2f..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/%2Fetc%2Fpasswd",  # an absolute path once decoded
        "/assets/..%5c..%5csecret.txt",  # backslashes
    ],
)
def test_nothing_outside_the_build_is_served(web: TestClient, path: str) -> None:
    r = web.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert SECRET not in r.content
    assert b"root:" not in r.content


def _raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """A GET sent byte for byte, as no HTTP client library would (they remove dot
    segments), to the real server."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_dot_segments_sent_as_they_are_reach_nothing_outside(
    settings: Settings, dist: Path
) -> None:
    settings = settings.model_copy(update={"web_dir": dist})
    with _instance(settings) as instance, serving(create_app(settings, instance)) as url:
        assert _raw_get(url, "/assets/index-Ab12Cd34.js") == (200, SCRIPT)
        for target in (
            "/../secret.txt",
            "/assets/../../secret.txt",
            "/assets/./../../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/%2E%2E/%2E%2E/secret.txt",
            "/assets/up/../up/secret.txt",
            "//etc/passwd",
            "/assets//etc/passwd",
        ):
            status, body = _raw_get(url, target)
            assert status == 404, target
            assert SECRET not in body


# --- without a build ----------------------------------------------------------------------


def test_without_a_build_the_root_says_how_to_build_it(unbuilt: TestClient) -> None:
    r = unbuilt.get("/")
    assert r.status_code == 503
    assert r.text == NOT_BUILT
    assert "make run" in r.text
    assert r.headers["Cache-Control"] == "no-store"
    assert "<script" not in r.text
    assert unbuilt.get("/patients").text == NOT_BUILT
    assert unbuilt.get("/assets/index-Ab12Cd34.js").status_code == 404
    assert unbuilt.get("/healthz").status_code == 200


def test_the_checkout_build_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINPHOTO_WEB_DIR", raising=False)
    checkout = Path(__file__).resolve().parents[2]
    assert Settings().resolved_web_dir == checkout / "web" / "dist"
    monkeypatch.setenv("CLINPHOTO_WEB_DIR", "/srv/clinphoto/web")
    assert Settings().resolved_web_dir == Path("/srv/clinphoto/web")


# --- headers on every answer --------------------------------------------------------------


def test_every_answer_carries_the_security_headers(web: TestClient) -> None:
    answers = {
        "/": web.get("/"),
        "/assets": web.get("/assets/index-Ab12Cd34.js"),
        "/healthz": web.get("/healthz"),
        "/v1/me": web.get("/v1/me"),
        "/missing": web.get("/assets/missing.js"),
        "/docs": web.get("/docs"),
        "POST /": web.post("/"),
    }
    for name, r in answers.items():
        h = r.headers
        assert h["X-Content-Type-Options"] == "nosniff", name
        assert h["Referrer-Policy"] == "no-referrer", name
        assert h["Permissions-Policy"] == (
            "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
        ), name
        assert h["Cross-Origin-Opener-Policy"] == "same-origin", name
        assert h["Cross-Origin-Resource-Policy"] == "same-origin", name
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], name
        assert "Strict-Transport-Security" not in h, name  # plain HTTP
        assert "Clear-Site-Data" not in h, name


def test_the_apps_policy_allows_no_inline_script_and_no_other_origin() -> None:
    policy = dict(d.strip().split(" ", 1) for d in APP_CSP.split(";"))
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    for sources in policy.values():
        assert "unsafe-inline" not in sources
        assert "'unsafe-eval'" not in sources
        assert not re.search(r"https?:|\*|data:", sources)


def test_hsts_is_sent_when_the_request_came_over_tls(web: TestClient) -> None:
    secure = TestClient(web.app, base_url="https://testserver")
    for path in ("/", "/healthz", "/v1/me"):
        r = secure.get(path)
        assert r.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
