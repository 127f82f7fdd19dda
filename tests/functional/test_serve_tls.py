"""`clinphoto serve --tls-cert --tls-key` (issue 9 section 3): a phone uses its camera only
over HTTPS, so the server speaks it itself with the institution's certificate. The real
command is started on a loopback port with a certificate made here; HSTS is sent over TLS
only. A half or unusable TLS configuration stops it before it starts, saying why."""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

# A test certificate only: the server's own code never makes keys this way (STYLE 5).
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization  # noqa: TID251
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: TID251
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from clinphoto.cli.main import app
from tests.live import free_port

HSTS = "max-age=63072000; includeSubDomains"


def _self_signed(directory: Path, name: str = "server") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clinphoto test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _env(data_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_DATA_DIR": str(data_dir),
        "CLINPHOTO_ENV": "development",
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_CUSTODIAN_INTERVAL": "0",
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance created by the real command."""
    data = tmp_path_factory.mktemp("tls") / "var"
    subprocess.run(
        [sys.executable, "-m", "clinphoto", "init"],
        env=_env(data),
        check=True,
        capture_output=True,
    )
    return data


@contextmanager
def _serve(
    data_dir: Path, log: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[int]:
    """`clinphoto serve` on a free loopback port for the length of the block."""
    port = free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "clinphoto", "serve", "--port", str(port), *args],
            env={**_env(data_dir), **(env or {})},
            stdout=out,
            stderr=out,
        )
        try:
            yield port
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)


def _get_when_up(url: str, verify: ssl.SSLContext | bool, log: Path) -> httpx.Response:
    deadline = time.monotonic() + 120
    while True:
        try:
            return httpx.get(url, verify=verify, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise AssertionError(log.read_text()) from None
            time.sleep(0.1)


@pytest.mark.slow
def test_serve_speaks_https_with_the_given_certificate_and_sends_hsts(
    data_dir: Path, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    log = tmp_path / "tls.log"
    with _serve(data_dir, log, "--tls-cert", str(cert), "--tls-key", str(key)) as port:
        health = _get_when_up(f"https://127.0.0.1:{port}/healthz", trusted, log)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert health.headers["Strict-Transport-Security"] == HSTS
        app_page = httpx.get(f"https://127.0.0.1:{port}/", verify=trusted, timeout=5)
        assert app_page.headers["Strict-Transport-Security"] == HSTS
        assert "camera=(self)" in app_page.headers["Permissions-Policy"]
        # The certificate is really the one given: a client that trusts another refuses it.
        other, _ = _self_signed(tmp_path, "other")
        with pytest.raises(httpx.ConnectError):
            httpx.get(
                f"https://127.0.0.1:{port}/healthz",
                verify=ssl.create_default_context(cafile=str(other)),
                timeout=5,
            )
        # And plain HTTP is not spoken on the TLS port.
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


@pytest.mark.slow
def test_plain_http_sends_no_hsts(data_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "plain.log"
    with _serve(data_dir, log) as port:
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz", False, log)
        assert health.status_code == 200
        assert "Strict-Transport-Security" not in health.headers
        assert health.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.slow
def test_tls_settings_come_from_the_environment_too(data_dir: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    log = tmp_path / "env.log"
    env = {"CLINPHOTO_TLS_CERT": str(cert), "CLINPHOTO_TLS_KEY": str(key)}
    with _serve(data_dir, log, env=env) as port:
        trusted = ssl.create_default_context(cafile=str(cert))
        health = _get_when_up(f"https://127.0.0.1:{port}/healthz", trusted, log)
        assert health.headers["Strict-Transport-Security"] == HSTS


# --- refused before the server starts -------------------------------------------------------


def _serve_in_process(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--data-dir", str(data_dir), "serve", *args], env=_env(data_dir)
    )
    return result.exit_code, " ".join(result.output.split())


def test_a_certificate_without_its_key_is_refused(data_dir: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    code, output = _serve_in_process(data_dir, "--tls-cert", str(cert))
    assert code == 2
    assert "--tls-cert was given without --tls-key" in output
    code, output = _serve_in_process(data_dir, "--tls-key", str(key))
    assert code == 2
    assert "--tls-key was given without --tls-cert" in output


def test_an_unreadable_file_is_refused_naming_it(data_dir: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    missing = tmp_path / "nowhere.pem"
    code, output = _serve_in_process(data_dir, "--tls-cert", str(missing), "--tls-key", str(key))
    assert code == 2
    assert f"cannot read the TLS certificate {missing}" in output
    code, output = _serve_in_process(data_dir, "--tls-cert", str(cert), "--tls-key", str(tmp_path))
    assert code == 2
    assert "cannot read the TLS private key" in output


def test_a_key_that_is_not_the_certificates_is_refused(data_dir: Path, tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    _, other_key = _self_signed(tmp_path, "other")
    code, output = _serve_in_process(data_dir, "--tls-cert", str(cert), "--tls-key", str(other_key))
    assert code == 2
    assert "cannot be used together" in output
    code, output = _serve_in_process(data_dir, "--tls-cert", str(other_key), "--tls-key", str(cert))
    assert code == 2
    assert "cannot be used together" in output


def test_a_web_directory_without_a_build_is_refused(data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(data_dir), "serve"],
        env={**_env(data_dir), "CLINPHOTO_WEB_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "holds no index.html" in " ".join(result.output.split())
