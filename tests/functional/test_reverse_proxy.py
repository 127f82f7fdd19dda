"""docs/deployment.md as it stands: its local certificate authority recipe is run with
openssl, and its nginx configuration runs in front of the real `clinphoto serve` on loopback
ports with the certificate that recipe made (nginx and openssl from Debian; .ci/run installs
nginx). A change to either block that breaks them fails here."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from clinphoto.api.webapp import APP_CSP
from tests.functional.test_serve_tls import HSTS, _env, _get_when_up, _serve
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
BIG = bytes(range(256)) * 1200  # 300 KiB: larger than nginx's buffers, so it spools to disk


def _tested_block(lang: str) -> str:
    """The first ``lang`` block after a marker that says the suite runs it."""
    text = DOC.read_text()
    pattern = rf"<!-- The suite runs this block[^>]*-->\s*```{lang}\n(.*?)```"
    match = re.search(pattern, text, re.DOTALL)
    assert match, f"no tested {lang} block in {DOC}"
    return match.group(1)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} is no longer in the documented block"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documented recipe, run for 127.0.0.1 instead of the example address."""
    home = tmp_path_factory.mktemp("home")
    script = _replace(_tested_block("sh"), "IP:192.168.1.20", "IP:127.0.0.1")
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={**os.environ, "HOME": str(home)},
        check=True,
        capture_output=True,
    )
    made = home / "clinphoto-dev-ca"
    for name in ("ca.pem", "ca-key.pem", "server.pem", "server-key.pem"):
        assert (made / name).is_file(), name
    assert (made / "server-key.pem").stat().st_mode & 0o077 == 0
    return made


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>clinphoto</title>")
    (dist / "assets" / "big-0123abcd.js").write_bytes(BIG)
    return dist


def _instance(tmp_path: Path) -> Path:
    data_dir = tmp_path / "var"
    subprocess.run(
        [sys.executable, "-m", "clinphoto", "init"],
        env=_env(data_dir),
        check=True,
        capture_output=True,
    )
    return data_dir


@contextmanager
def _nginx(tmp_path: Path, config: str) -> Iterator[None]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        # Like the other oracles: skipped with the reason on a developer's machine, never in
        # CI, where .ci/run installs it.
        if os.environ.get("CI"):
            pytest.fail("nginx is missing in CI: .ci/run installs it")
        pytest.skip("nginx is not installed: apt-get install nginx")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "clinphoto.conf").write_text(config)
    temp = "\n".join(
        f"  {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    (prefix / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\nevents {{}}\n"
        f"http {{\n  access_log off;\n{temp}\n"
        f"  uwsgi_temp_path {prefix / 'uwsgi'};\n  scgi_temp_path {prefix / 'scgi'};\n"
        f"  include {prefix / 'clinphoto.conf'};\n}}\n"
    )
    args = [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c"]
    check = subprocess.run([*args, str(prefix / "nginx.conf"), "-t"], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    server = subprocess.Popen([*args, str(prefix / "nginx.conf"), "-g", "daemon off;"])
    try:
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def _raw_tls(port: int, ca: Path, request: bytes) -> bytes:
    """The first line of nginx's answer to a request sent byte for byte over TLS."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data and (chunk := sock.recv(4096)):
            data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.mark.slow
def test_the_documented_nginx_configuration_serves_clinphoto_over_https(
    certificates: Path, web_dir: Path, tmp_path: Path
) -> None:
    data_dir = _instance(tmp_path)
    log = tmp_path / "serve.log"
    with _serve(data_dir, log, env={"CLINPHOTO_WEB_DIR": str(web_dir)}) as app_port:
        _get_when_up(f"http://127.0.0.1:{app_port}/healthz", False, log)
        _through_nginx(certificates, tmp_path, app_port)


def _through_nginx(certificates: Path, tmp_path: Path, app_port: int) -> None:
    https_port, http_port = free_port(), free_port()
    config = _tested_block("nginx")
    config = _replace(config, "listen 80;", f"listen 127.0.0.1:{http_port};")
    config = _replace(config, "listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    config = _replace(config, "127.0.0.1:8000", f"127.0.0.1:{app_port}")
    config = _replace(config, "/etc/clinphoto/tls/fullchain.pem", str(certificates / "server.pem"))
    config = _replace(
        config, "/etc/clinphoto/tls/privkey.pem", str(certificates / "server-key.pem")
    )
    ca = ssl.create_default_context(cafile=str(certificates / "ca.pem"))
    with _nginx(tmp_path, config):
        base = f"https://127.0.0.1:{https_port}"
        health = _get_when_up(f"{base}/healthz", ca, tmp_path / "nginx" / "error.log")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert health.headers.get_list("Strict-Transport-Security") == [HSTS]
        assert health.headers["Cache-Control"] == "no-store"

        shell = httpx.get(f"{base}/", verify=ca, timeout=30)
        assert shell.status_code == 200
        assert shell.headers["Content-Security-Policy"] == APP_CSP
        assert shell.headers["Permissions-Policy"].startswith("camera=(self)")
        asset = httpx.get(f"{base}/assets/big-0123abcd.js", verify=ca, timeout=30)
        assert asset.content == BIG
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"

        # Plain HTTP is sent to HTTPS.
        plain = httpx.get(f"http://127.0.0.1:{http_port}/patients", timeout=30)
        assert plain.status_code == 301
        assert plain.headers["Location"] == "https://127.0.0.1/patients"

        # A manifest header as large as a photo's may be reaches clinphoto (401, no session)
        # rather than being refused by nginx (400).
        manifest = "A" * (22 * 1024)
        upload = httpx.post(
            f"{base}/v1/media",
            headers={"X-Clinphoto-Manifest": manifest},
            content=b"x",
            verify=ca,
            timeout=30,
        )
        assert upload.status_code == 401
        assert upload.json()["error"]["code"] == "unauthenticated"

        # The largest sealed upload passes nginx's size limit; a larger one does not.
        def declared(size: int) -> bytes:
            return (
                f"POST /v1/media HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
                "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
            ).encode()

        assert _raw_tls(https_port, certificates / "ca.pem", declared(257 * 2**20)).startswith(
            b"HTTP/1.1 401"
        )
        assert _raw_tls(https_port, certificates / "ca.pem", declared(300 * 2**20)).startswith(
            b"HTTP/1.1 413"
        )


@pytest.mark.slow
def test_forwarded_proto_is_believed_from_the_allowed_proxies_only(tmp_path: Path) -> None:
    data_dir = _instance(tmp_path)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    with _serve(data_dir, tmp_path / "trusted.log") as port:
        url = f"http://127.0.0.1:{port}/healthz"
        assert "Strict-Transport-Security" not in _get_when_up(url, False, tmp_path / "t").headers
        trusted = httpx.get(url, headers=forwarded, timeout=30)
        assert trusted.headers["Strict-Transport-Security"] == HSTS
    elsewhere = {"CLINPHOTO_FORWARDED_ALLOW_IPS": "192.0.2.1"}
    with _serve(data_dir, tmp_path / "untrusted.log", env=elsewhere) as port:
        url = f"http://127.0.0.1:{port}/healthz"
        _get_when_up(url, False, tmp_path / "untrusted.log")
        untrusted = httpx.get(url, headers=forwarded, timeout=30)
        assert "Strict-Transport-Security" not in untrusted.headers
