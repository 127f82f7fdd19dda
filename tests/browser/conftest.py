"""The phone app in Debian's Chromium (Playwright), against a real clinphoto server.

One server, one browser and one built app for the whole session. Chromium runs headless
with a fake camera fed from a real photograph (turned into a .y4m file here), on a
phone-sized, touch, high-density viewport. Playwright never downloads a browser: it drives
/usr/bin/chromium.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.live import free_port
from tests.webtools import WEB, build_lock, newest_mtime, node_bin_dir, npm_ci_if_needed

PASSWORD = "a long clinical passphrase"  # accounts' passwords, and the server's own
PASSCODE = "864213"  # the server CLI's profile passcode (unused by the browser)
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """web/dist, built again when any of its sources is newer than it."""
    dist = WEB / "dist"
    sources = [
        WEB / "src",
        WEB / "public",
        WEB / "index.html",
        WEB / "vite.config.ts",
        WEB / "package-lock.json",
    ]
    built = dist / "index.html"
    with build_lock("dist"):
        if built.exists() and built.stat().st_mtime >= newest_mtime(sources):
            return dist
        env = {**os.environ, "PATH": f"{node_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}"}
        npm_ci_if_needed(env)
        done = subprocess.run(
            ["npm", "run", "--silent", "build"], cwd=WEB, env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        raise AssertionError(f"npm run build failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return dist


def _photo() -> Image.Image:
    """A real photograph: the coffee-cup picture that ships inside scikit-image."""
    spec = find_spec("skimage")
    assert spec is not None, "scikit-image is a dev dependency"
    assert spec.origin is not None
    path = Path(spec.origin).parent / "data" / "coffee.png"
    return Image.open(path).convert("RGB")


def write_y4m(image: Image.Image, path: Path, frames: int = 2) -> None:
    """A YUV4MPEG2 file (4:2:0, full-range JPEG YCbCr) showing ``image``: what Chromium's
    --use-file-for-fake-video-capture plays as the camera."""
    w, h = image.size
    assert w % 2 == 0
    assert h % 2 == 0
    y, cb, cr = image.convert("YCbCr").split()
    u = cb.resize((w // 2, h // 2), Image.Resampling.BOX)
    v = cr.resize((w // 2, h // 2), Image.Resampling.BOX)
    frame = b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes()
    header = f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)


@dataclass(frozen=True)
class Camera:
    y4m: Path
    width: int
    height: int


@pytest.fixture(scope="session")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Camera:
    image = _photo().resize((640, 480), Image.Resampling.LANCZOS)
    path = tmp_path_factory.mktemp("camera") / "coffee.y4m"
    write_y4m(image, path)
    return Camera(path, 640, 480)


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]
    data: Path
    log: Path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "clinphoto", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"clinphoto {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def create_user(self, email: str, name: str) -> str:
        """A new clinician; their one-time enrollment code."""
        out = self.cli(
            "admin",
            "create-user",
            "--email",
            email,
            "--name",
            name,
            "--role",
            "clinician",
            "--institution",
            "CHU Example",
        ).stdout
        return out.split("code (valid 24 hours):")[1].split()[0]


@contextmanager
def run_server(
    tmp: Path, web_dist: Path, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """A clinphoto server of its own, on a free port, with its data under ``tmp``; the test
    KDF unless ``settings`` (more CLINPHOTO_ variables) say otherwise."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINPHOTO_")},
        "CLINPHOTO_DATA_DIR": str(tmp / "var"),
        "CLINPHOTO_PORT": str(port),
        "CLINPHOTO_ENV": "development",  # the test KDF and the KEK on disk
        "CLINPHOTO_KDF_PROFILE": "test",
        "CLINPHOTO_PASSWORD": PASSWORD,
        "CLINPHOTO_PASSCODE": PASSCODE,
        "CLINPHOTO_WEB_DIR": str(web_dist),
        **(settings or {}),
    }
    log_path = tmp / "server.log"
    srv = Server(f"http://127.0.0.1:{port}", env, tmp / "var", log_path)
    srv.cli("init")
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinphoto", "serve"], env=env, stdout=log, stderr=log
    )
    try:
        for _ in range(400):
            try:
                if httpx.get(f"{srv.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError(log_path.read_text())
        yield srv
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[Server]:
    with run_server(tmp_path_factory.mktemp("server"), web_dist) as srv:
        yield srv


def chromium_args(y4m: Path) -> list[str]:
    """Debian's Chromium, headless and quiet (no updates, sync or background requests), with
    a fake camera playing ``y4m`` and camera permission granted without a prompt."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    ]


@pytest.fixture(scope="session")
def browser(camera: Camera) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=chromium_args(camera.y4m),
        )
        try:
            yield b
        finally:
            b.close()
