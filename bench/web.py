"""The phone app's speed (issue 9), measured in Debian's Chromium on a real clinphoto server.

What a clinician waits for on the phone: from the shutter to the photo sealed in the outbox
(a 12 MP photo from the fake camera), the unlock (Argon2id at the app's own parameters in a
Web Worker), the JavaScript the first load fetches, and the outbox sending 50 photos over
loopback. Each figure has an anchor measured in the same run: the same page's SHA-256 of as
many bytes and its canvas JPEG encoder, the same Argon2id in Node (hash-wasm, the app's
library) and in Python (argon2-cffi), and the Python client's uploads of the same photo.

"CPU slowed 4x" is measured two ways. Chromium's DevTools throttling (CDP
``Emulation.setCPUThrottlingRate``), the usual stand-in for a mid-range phone, slows the
page's main thread only: the app's workers (the picture, Argon2id) and the threads where the
browser decodes, encodes, hashes and writes IndexedDB run at full speed, and Chromium refuses
it in workers. So the bench also holds the whole browser to a quarter of one core with a
cgroup CPU quota (``SlowCpu``; root and the cgroup v1 cpu controller, else that row is left
out), which slows every thread, and work spread over threads more than 4x. The shutter is
measured each way the app's camera takes a picture (web/src/app/capture/picture.ts): the
camera's own JPEG scrubbed (ImageCapture, Chrome on Android; from a stand-in, since the fake
camera's takePhoto gives a PNG), the preview's frame encoded (Safari), and the fake camera's
PNG still, apart.

Run alone with ``python -m bench.web`` (prints the rows); ``make bench`` calls ``bench_web``.
The User Timing marks it reads (``clinphoto:capture``, ``clinphoto:unlock``) are the app's.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from contextlib import AbstractContextManager, suppress
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image
from tests.browser.conftest import (
    CHROMIUM,
    PASSWORD,
    Server,
    _photo,
    chromium_args,
    run_server,
    write_y4m,
)
from tests.browser.phone import APP_PASSCODE, PHONE_HEIGHT, PHONE_WIDTH, enroll, unlock
from tests.webtools import WEB, node_bin_dir

Row = tuple[str, str, str, str]

CAMERA = (4000, 3000)  # 12 MP, as a phone's rear camera
SHUTTERS = 10  # timed shutters each way and speed (after one untimed)
FAKE_STILLS = 2  # the fake camera's own still: about 8 s each
UNLOCKS = 10  # timed unlocks each way
SYNCED = 50  # photos queued offline, then sent
SLOW = 4  # CPU throttling rate: the stand-in for a mid-range phone


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{node_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}"}


def build_web() -> Path:
    """``npm run build`` (types, then Vite) into web/dist; the packages installed first if
    they are missing."""
    env = _env()
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=WEB,
            env=env,
            check=True,
            capture_output=True,
        )
    subprocess.run(["npm", "run", "--silent", "build"], cwd=WEB, env=env, check=True)
    return WEB / "dist"


def web_kdf() -> dict[str, int]:
    """The app's Argon2id setting, read from web/src/lib/kdf.ts (WEB_KDF)."""
    source = (WEB / "src" / "lib" / "kdf.ts").read_text()
    found = re.search(r"WEB_KDF: KdfParams = \{ t: (\d+), m: (\d+), p: (\d+) \}", source)
    if found is None:
        raise RuntimeError("WEB_KDF not found in web/src/lib/kdf.ts")
    t, m, p = (int(x) for x in found.groups())
    return {"t": t, "m": m, "p": p}


# --- JavaScript on first load --------------------------------------------------------------


class _Eager(HTMLParser):
    """The scripts index.html loads at once: module scripts and modulepreload links."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"] or "")
        if tag == "link" and a.get("rel") == "modulepreload" and a.get("href"):
            self.urls.append(a["href"] or "")


def _compressed(data: bytes) -> tuple[int, str]:
    """The smaller of gzip -9 and brotli (when Python's ``brotli`` is installed)."""
    sizes = [(len(gzip.compress(data, 9, mtime=0)), "gzip -9")]
    try:
        import brotli  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        sizes.append((len(brotli.compress(data, quality=11)), "brotli 11"))
    return min(sizes)


def bench_js(dist: Path) -> list[Row]:
    """Compressed size of the JavaScript index.html loads eagerly (its entry and the modules
    it preloads), and, apart, what loads on demand (other chunks, workers, WebAssembly) and
    the service worker, from a fresh build."""
    parser = _Eager()
    parser.feed((dist / "index.html").read_text())
    eager = [dist / u.lstrip("/") for u in parser.urls if u.endswith(".js")]
    assets = sorted(p for p in (dist / "assets").iterdir() if p.suffix in (".js", ".wasm"))
    later = [p for p in assets if p not in eager]

    def size(p: Path) -> tuple[int, int, str]:
        data = p.read_bytes()
        packed, how = _compressed(data)
        return len(data), packed, how

    eager_sizes = [size(p) for p in eager]
    raw = sum(s[0] for s in eager_sizes)
    packed = sum(s[1] for s in eager_sizes)
    how = ", ".join(sorted({s[2] for s in eager_sizes}))
    parts = []
    for p in later:
        r, c, _ = size(p)
        name = re.sub(r"-[A-Za-z0-9_-]{8}(?=\.)", "", p.name)  # without Vite's hash
        parts.append(f"{name} {c / 1000:.1f} KB ({r / 1000:.0f} KB raw)")
    sw = dist / "sw.js"
    _, sw_c, _ = size(sw)
    return [
        (
            "phone app: JavaScript on first load (entry and modulepreloads, compressed)",
            f"{packed / 1000:.1f} KB",
            "≤ 150 KB compressed (issue 9)",
            f"{how}; {raw / 1000:.0f} KB raw in {len(eager)} file(s); on demand, apart: "
            + ("; ".join(parts) or "none")
            + f"; service worker sw.js {sw_c / 1000:.1f} KB",
        )
    ]


# --- the server, the browser and the phone ---------------------------------------------------


def serving(tmp: Path, dist: Path) -> AbstractContextManager[Server]:
    """A clinphoto server on loopback serving the built app, as the browser tests start it,
    with the production password hashing (the phone's own KDF does not depend on it)."""
    return run_server(
        tmp, dist, {"CLINPHOTO_KDF_PROFILE": "production", "CLINPHOTO_LOG_LEVEL": "warning"}
    )


def camera_file(path: Path, size: tuple[int, int] = CAMERA) -> Path:
    """The fake camera's picture: scikit-image's coffee photograph, cut to 4:3 and scaled
    to ``size`` (12 MP unless told)."""
    photo = _photo()
    w, h = photo.size
    cut = photo.crop(((w - h * 4 // 3) // 2, 0, (w + h * 4 // 3) // 2, h))
    write_y4m(cut.resize(size, Image.Resampling.LANCZOS), path)
    return path


def _blobs(server: Server) -> dict[Path, int]:
    root = server.data / "blobs" / "objects"
    return {p: p.stat().st_size for p in root.rglob("*") if p.is_file()}


# In the page: the anchors of the shutter, on the live camera. SHA-256 (crypto.subtle) of
# as many bytes as a 12 MP RGB frame; the canvas JPEG encoder alone (the preview frame drawn
# at full size, encoded at the app's quality, 0.92), as the page's canvas does it.
PAGE_ANCHORS = """async ({ bytes }) => {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 255;
  let t0 = performance.now();
  await crypto.subtle.digest("SHA-256", data);
  const sha = performance.now() - t0;
  const v = document.querySelector("video");
  t0 = performance.now();
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  c.getContext("2d").drawImage(v, 0, 0, c.width, c.height);
  const blob = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.92));
  const jpeg = performance.now() - t0;
  c.width = 0;
  c.height = 0;
  return { sha, jpeg, w: v.videoWidth, h: v.videoHeight, size: blob.size };
}"""

# The three ways the app's shutter gets its picture (web/src/app/capture/picture.ts):
#  "jpeg": the camera's own JPEG still (ImageCapture.takePhoto, Chrome on Android), scrubbed
#    byte for byte. Chromium's fake camera cannot give one (its takePhoto encodes a PNG in
#    software, about 8 s for 12 MP), so a stand-in ImageCapture hands the app a phone-like
#    12 MP JPEG with EXIF (maker, model, GPS, orientation 6) from memory: the camera's own
#    time to take the still, which no app controls, is not in this figure.
#  "frame": the preview's frame encoded as JPEG (no ImageCapture: Safari's way).
#  "fake": the fake camera's own takePhoto (a PNG), decoded and encoded as JPEG.
STAND_IN = """(b64) => {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = bin.charCodeAt(i);
  window.__still = new Blob([bytes], { type: "image/jpeg" });
  window.__ImageCapture = window.__ImageCapture || window.ImageCapture;
  window.__StandIn = class { constructor(track) {} async takePhoto() { return window.__still; } };
}"""
ROUTE = {
    "jpeg": "() => { window.ImageCapture = window.__StandIn; }",
    "frame": "() => { delete window.ImageCapture; }",
    "fake": "() => { window.ImageCapture = window.__ImageCapture; }",
}
# The app's marks of the last shutter: the picture's route, shutter to picture, picture to
# sealed in the outbox.
SPLIT = """() => {
  const last = (n) => performance.getEntriesByName(n, "mark").at(-1);
  const s = last("clinphoto:shutter");
  const p = last("clinphoto:picture");
  const q = last("clinphoto:sealed");
  return [p.detail, p.startTime - s.startTime, q.startTime - p.startTime];
}"""
ARGON2_IN_WORKER = (
    "() => { const e = performance.getEntriesByName('clinphoto:argon2id', 'measure');"
    " return e.length ? e[e.length - 1].duration : null; }"
)


def phone_still(size: tuple[int, int] = CAMERA) -> bytes:
    """What a phone's camera hands over from takePhoto: the bench's photograph as a 12 MP
    JPEG (quality 95, 4:2:0) carrying EXIF as cameras write it (maker, model, date, GPS,
    orientation 6: the phone held upright)."""
    photo = _photo()
    w, h = photo.size
    cut = photo.crop(((w - h * 4 // 3) // 2, 0, (w + h * 4 // 3) // 2, h))
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone Inc."
    exif[0x0110] = "BenchPhone 12"
    exif[0x0132] = "2026:11:30 09:15:00"
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (45.0, 30.0, 12.5), "W", (73.0, 34.0, 1.0)
    out = BytesIO()
    cut.resize(size, Image.Resampling.LANCZOS).save(
        out, "JPEG", quality=95, subsampling=2, exif=exif.tobytes()
    )
    return out.getvalue()


class SlowCpu:
    """The whole browser held to a quarter of one core (a cgroup v1 CPU quota): its page,
    its workers and the threads where it decodes, encodes, hashes and writes IndexedDB,
    unlike DevTools throttling, which slows the page's main thread only. A single thread
    runs at most 4x slower than on a free core; work spread over threads is slowed more,
    as on a phone with one slow core. None when this machine does not let us (no cgroup v1
    cpu controller, or not root)."""

    ROOT = Path("/sys/fs/cgroup/cpu")
    PERIOD_US = 20_000

    def __init__(self) -> None:
        self.dir = self.ROOT / f"clinphoto-bench-{os.getpid()}"
        self.dir.mkdir()
        (self.dir / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
        self.camera_found = False  # the fake camera's process seen, and left out of the quota

    @classmethod
    def make(cls) -> SlowCpu | None:
        try:
            return cls()
        except OSError:
            return None

    def _browser_pids(self) -> list[int]:
        """Chromium's processes: the descendants of this process named chrom*."""
        parent: dict[int, int] = {}
        name: dict[int, str] = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            close = stat.rindex(")")
            parent[int(d.name)] = int(stat[close + 2 :].split()[1])
            name[int(d.name)] = stat[stat.index("(") + 1 : close]
        mine, found = {os.getpid()}, True
        while found:
            found = False
            for pid, ppid in parent.items():
                if ppid in mine and pid not in mine:
                    mine.add(pid)
                    found = True
        return [pid for pid in mine if name.get(pid, "").startswith("chrom")]

    @staticmethod
    def _is_camera(pid: int) -> bool:
        try:
            # Chromium rewrites its command line: the arguments may be one space-separated
            # string rather than NUL-separated.
            args = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            return False
        return b"--utility-sub-type=video_capture" in args

    def set(self, rate: int) -> None:
        """Slow the browser ``rate`` times (1: no limit), but for its video capture service.

        That process is the fake camera: it reads the test's 12 MP Y4M and copies out every
        frame, most of a core here, where a phone's camera hands over frames from its own
        image processor. Held in the quota (as it was until 2026-12-01, and as it is when
        the browser starts it, a child of a process already held), the fake camera took
        most of the quarter core the app was meant to have (decision 016)."""
        for pid in self._browser_pids():
            where = self.dir
            if self._is_camera(pid):
                self.camera_found = True
                where = self.ROOT
            with suppress(OSError):  # a process that has just ended
                (where / "cgroup.procs").write_text(str(pid))
        quota = -1 if rate == 1 else self.PERIOD_US // rate
        (self.dir / "cpu.cfs_quota_us").write_text(str(quota))

    def close(self) -> None:
        (self.dir / "cpu.cfs_quota_us").write_text("-1")
        for pid in (self.dir / "cgroup.procs").read_text().split():
            with suppress(OSError):
                (self.ROOT / "cgroup.procs").write_text(pid)
        self.dir.rmdir()


LAST = (
    "(name) => { const e = performance.getEntriesByName(name, 'measure');"
    " return [e.length, e.length ? e[e.length - 1].duration : null]; }"
)
SHUTTER_READY = (
    "() => { const b = document.querySelector('button.shutter'); return b && !b.disabled; }"
)


def _measures(page: Any, name: str) -> tuple[int, float | None]:
    n, ms = page.evaluate(LAST, name)
    return int(n), ms


def _shutter(page: Any) -> float:
    """Press the shutter; the app's own measure of shutter to sealed, once it is queued."""
    before, _ = _measures(page, "clinphoto:capture")
    page.get_by_role("button", name="Take photo").click()
    page.wait_for_function(
        "(n) => performance.getEntriesByName('clinphoto:capture', 'measure').length > n",
        arg=before,
        timeout=120_000,
    )
    page.wait_for_function(SHUTTER_READY, timeout=120_000)
    _, ms = _measures(page, "clinphoto:capture")
    assert ms is not None
    return float(ms)


def _unlock_once(page: Any) -> float:
    """Lock from the menu, unlock with the passcode: the app's own measure of the unlock."""
    page.get_by_role("navigation").get_by_role("button", name="Lock").click()
    before, _ = _measures(page, "clinphoto:unlock")
    unlock(page, APP_PASSCODE)
    page.wait_for_function(
        "(n) => performance.getEntriesByName('clinphoto:unlock', 'measure').length > n",
        arg=before,
        timeout=120_000,
    )
    page.wait_for_function(SHUTTER_READY, timeout=60_000)  # back on the camera screen
    _, ms = _measures(page, "clinphoto:unlock")
    assert ms is not None
    return float(ms)


NODE_ARGON2 = """
import { argon2id } from "hash-wasm";
const [t, m, p] = process.argv.slice(1).map(Number);
const t0 = performance.now();
await argon2id({ password: "258036", salt: new Uint8Array(16).fill(7), iterations: t,
  memorySize: m, parallelism: p, hashLength: 32, outputType: "binary" });
console.log(performance.now() - t0);
"""


def _argon2_anchors(kdf: dict[str, int]) -> tuple[float, float]:
    """One Argon2id with the app's parameters: hash-wasm in a fresh Node process (the
    WebAssembly compiled and instantiated in the timed part, as in the app's one-off worker),
    and the CLI device's own (argon2-cffi) in this process; milliseconds."""
    from clinphoto import crypto

    out = subprocess.run(
        ["node", "--input-type=module", "-e", NODE_ARGON2, *(str(kdf[k]) for k in "tmp")],
        cwd=WEB,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    node_ms = float(out.strip())
    t0 = time.perf_counter()
    crypto.derive_vault_key("258036", b"\x07" * 16, crypto.KdfParams(kdf["t"], kdf["m"], kdf["p"]))
    return node_ms, (time.perf_counter() - t0) * 1000


def _to_capture(page: Any, server: Server) -> None:
    """Enroll, register a patient, record verbal consent with a witness: the camera screen."""
    code = server.create_user("bench@chu.example", "Dr Bench")
    page.goto("/")
    enroll(page, code, name="Bench phone")
    page.get_by_role("link", name="Register a new patient").click()
    page.get_by_label("Full name").fill("Bench Patient")
    page.get_by_label("Date of birth").fill("1970-01-01")
    page.get_by_label("Medical record number (MRN)").fill("1234567")
    page.get_by_label("Province or territory").select_option("QC")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Consent", exact=True).wait_for()
    page.get_by_label("Witness\N{RIGHT SINGLE QUOTATION MARK}s name").fill("N. Roy, RN")
    page.get_by_label("I told the patient").check()
    page.get_by_role("button", name="Record consent").click()
    page.get_by_role("heading", name="Take photos", exact=True).wait_for(timeout=30_000)
    page.wait_for_function(
        "() => { const b = document.querySelector('button.shutter'); return b && !b.disabled; }",
        timeout=60_000,
    )


def _python_uploads(server: Server, jpeg: bytes, count: int) -> tuple[float, int]:
    """The anchor of the sync: the Python device client sends ``count`` captures of the same
    photo, sealed beforehand, one after the other (as the app's outbox does) to the same
    server; seconds and the sealed size."""
    from clinphoto import crypto
    from clinphoto.client.api import ApiClient
    from clinphoto.client.capture import seal_capture

    code = server.create_user("anchor@chu.example", "Dr Anchor")
    age, signing = crypto.AgeIdentity.generate(), crypto.SigningKey.generate()
    enrolled = ApiClient(server.url).enroll(
        code=code,
        password=PASSWORD,
        device_name="anchor",
        age=age.recipient,
        signing_public=signing.public,
    )
    api = ApiClient(server.url, enrolled["token"])
    records = api.me()["records_recipient"]
    pid = api.create_patient(
        {"name": "Anchor Patient", "dob": "1970-01-01", "mrn": "7654321", "province": "ON"}
    )["id"]
    eid = api.record_consent(
        {
            "patient_id": pid,
            "purposes": ["clinical_care"],
            "method": "written",
            "informed_of_rights": True,
            # The consent text the server shows today, by the id it lists.
            "text_version": api._call("GET", "/v1/consent-texts")["current"]["en"]["id"],
        }
    )["encounter_id"]
    sealed = [
        seal_capture(
            jpeg,
            patient_id=pid,
            encounter_id=eid,
            device_id=enrolled["device"]["id"],
            signing=signing,
            recipients=[records, age.recipient],
        )
        for _ in range(count)
    ]
    t0 = time.perf_counter()
    for s in sealed:
        api.upload_media(s.manifest_bytes, s.signature, s.ciphertext)
    seconds = time.perf_counter() - t0
    api.close()
    return seconds, len(sealed[0].ciphertext)


def _open_blob(server: Server, blob: Path, tmp: Path) -> bytes:
    key = tmp / "records-key.txt"
    if not key.exists():
        server.cli("admin", "records-key", "export", "--out", str(key))
    return subprocess.run(
        ["age", "-d", "-i", str(key), str(blob)], capture_output=True, check=True
    ).stdout


def _ms(values: list[float]) -> str:
    med = statistics.median(values)
    return f"{med:.0f} ms" if med >= 10 else f"{med:.1f} ms"


def launch_chromium(p: Any, y4m: Path) -> Any:
    """Debian's Chromium with the fake camera playing ``y4m``, as the browser tests start it."""
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=chromium_args(y4m),
    )


def bench_phone(tmp: Path, dist: Path) -> list[Row]:
    """Shutter to sealed, unlock and the outbox sync, in Chromium on a real server."""
    from playwright.sync_api import sync_playwright

    kdf = web_kdf()
    y4m = camera_file(tmp / "camera.y4m")
    still = phone_still()
    load_start = os.getloadavg()
    slow = SlowCpu.make()
    # Each shutter way at full speed, with DevTools throttling (the page's thread only) and,
    # where the machine allows it, with the whole browser slowed (SlowCpu).
    rates = [("full", 1), ("devtools", SLOW)] + ([("cgroup", SLOW)] if slow else [])
    shots: dict[tuple[str, str], list[float]] = {}
    split: dict[tuple[str, str], list[tuple[float, float]]] = {}
    routes: dict[str, set[str]] = {}
    sha: dict[str, list[float]] = {}
    enc: dict[str, list[float]] = {}
    unlocks: dict[str, list[float]] = {"full": [], "cgroup": []}
    argon2_inside: list[float] = []
    node_argon2: list[float] = []
    cffi_argon2: list[float] = []
    seen: dict[str, Any] = {}
    try:
        with serving(tmp, dist) as server, sync_playwright() as p:
            browser = launch_chromium(p, y4m)
            # The browser tests' phone, without their instrumentation: only the app runs.
            context = browser.new_context(
                viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
                base_url=server.url,
                locale="en-CA",
                permissions=["camera"],
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)

            def throttle(how: str, rate: int) -> None:
                cdp.send(
                    "Emulation.setCPUThrottlingRate", {"rate": rate if how == "devtools" else 1}
                )
                if slow:
                    slow.set(rate if how == "cgroup" else 1)

            _to_capture(page, server)
            page.evaluate(STAND_IN, base64.b64encode(still).decode())
            # One photo online (it fetches the recipients, as the first photo of a day does),
            # then offline: the photos stay in the outbox for the sync below.
            page.evaluate(ROUTE["jpeg"])
            _shutter(page)
            page.get_by_role("status").filter(has_text="Photo sent.").wait_for(timeout=60_000)
            context.set_offline(True)
            bytes_12mp = CAMERA[0] * CAMERA[1] * 3
            taken = 0
            for _ in range(SHUTTERS):  # alternated, so that the machine's drift hits all alike
                for mode in ("jpeg", "frame"):
                    page.evaluate(ROUTE[mode])
                    for how, rate in rates:
                        throttle(how, rate)
                        shots.setdefault((mode, how), []).append(_shutter(page))
                        taken += 1
                        route, to_picture, to_sealed = page.evaluate(SPLIT)
                        routes.setdefault(mode, set()).add(route)
                        split.setdefault((mode, how), []).append((to_picture, to_sealed))
                        if mode == "frame":
                            got = page.evaluate(PAGE_ANCHORS, {"bytes": bytes_12mp})
                            sha.setdefault(how, []).append(got["sha"])
                            enc.setdefault(how, []).append(got["jpeg"])
                            seen = got
            throttle("full", 1)
            # The fake camera's own still (a PNG it encodes in software), a few times.
            page.evaluate(ROUTE["fake"])
            for _ in range(FAKE_STILLS):
                shots.setdefault(("fake", "full"), []).append(_shutter(page))
                taken += 1
                route, to_picture, to_sealed = page.evaluate(SPLIT)
                routes.setdefault("fake", set()).add(route)
                split.setdefault(("fake", "full"), []).append((to_picture, to_sealed))
            page.evaluate(ROUTE["jpeg"])

            for _ in range(UNLOCKS):
                for how in unlocks:
                    if how == "cgroup" and not slow:
                        continue
                    throttle(how, SLOW if how == "cgroup" else 1)
                    unlocks[how].append(_unlock_once(page))
                    if how == "full":
                        inside = page.evaluate(ARGON2_IN_WORKER)
                        assert inside is not None
                        argon2_inside.append(float(inside))
                throttle("full", 1)
                a, b = _argon2_anchors(kdf)
                node_argon2.append(a)
                cffi_argon2.append(b)

            # The outbox: at least SYNCED photos queued offline, then online on its screen.
            for _ in range(SYNCED - taken):
                _shutter(page)
            synced = max(SYNCED, taken)
            page.get_by_role("navigation").get_by_role("link", name="Outbox").click()
            page.get_by_test_id("outbox-count").filter(has_text=f"{synced} waiting").wait_for()
            before = _blobs(server)
            t0 = time.perf_counter()
            context.set_offline(False)
            page.get_by_test_id("outbox-empty").wait_for(timeout=600_000)
            sync_s = time.perf_counter() - t0
            sent = {k: v for k, v in _blobs(server).items() if k not in before}
            assert len(sent) == synced, (len(sent), synced)
            sent_mb = sum(sent.values()) / 1e6
            # The largest is a scrubbed still; check what it carries, and a frame's.
            scrubbed = _open_blob(server, max(sent, key=lambda k: sent[k]), tmp)
            photo = _open_blob(server, min(sent, key=lambda k: sent[k]), tmp)
            context.close()
            browser.close()
            anchor_s, anchor_size = _python_uploads(server, photo, synced)
    finally:
        if slow:
            slow.close()
    load_end = os.getloadavg()
    kept = _check_scrubbed(scrubbed, still, tmp)

    with Image.open(BytesIO(photo)) as im:
        width, height = im.size
    load = f"load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end"
    how_many = f"median of {SHUTTERS}, the ways and speeds alternated"

    def parts(mode: str, how: str) -> str:
        pic = _ms([a for a, _ in split[mode, how]])
        seal = _ms([b for _, b in split[mode, how]])
        return f"shutter to picture {pic}, picture to sealed in IndexedDB {seal}"

    def slowed(mode: str) -> list[Row]:
        rows: list[Row] = [
            (
                f"the same with DevTools CPU throttling {SLOW}x (the page's thread only)",
                _ms(shots[mode, "devtools"]),
                "—",
                f"{how_many}; {parts(mode, 'devtools')}; the app's workers and the browser's"
                " own threads run at full speed, so this understates a slow phone",
            )
        ]
        if slow:
            rows.append(
                (
                    f"the same with the whole browser slowed {SLOW}x (a quarter of one core)",
                    _ms(shots[mode, "cgroup"]),
                    "≤ 1.2 s (issue 9)",
                    f"{how_many}; {parts(mode, 'cgroup')}; a cgroup CPU quota on every"
                    " Chromium process (page, workers, encoder, IndexedDB), so work spread"
                    " over threads is slowed more than 4x; "
                    + (
                        "the fake camera's process (video capture service) left out, as a"
                        " phone's camera is its own hardware"
                        if slow.camera_found
                        else "the fake camera's process not found: held in the quota too"
                    ),
                )
            )
        return rows

    kdf_text = f"Argon2id t={kdf['t']}, m={kdf['m'] // 1024} MiB, p={kdf['p']}"
    fake = shots["fake", "full"]
    rows: list[Row] = [
        (
            f"phone app: shutter to sealed in the outbox, the camera's own 12 MP JPEG"
            f" ({len(still) / 1e6:.1f} MB) scrubbed, not re-encoded (ImageCapture, as Chrome"
            " on Android), Chromium",
            _ms(shots["jpeg", "full"]),
            "≤ 300 ms (issue 9)",
            f"{how_many} (User Timing `clinphoto:capture`); {parts('jpeg', 'full')};"
            f" route {'/'.join(sorted(routes['jpeg']))}; the still comes from a stand-in"
            " ImageCapture, from memory: a phone camera's own takePhoto time is not in it;"
            f" the sealed photo {kept}; {load}",
        ),
        *slowed("jpeg"),
        (
            f"phone app: shutter to sealed in the outbox, the preview frame encoded,"
            f" {width}x{height} ({len(photo) / 1e6:.1f} MB JPEG; no ImageCapture, as"
            " Safari), Chromium",
            _ms(shots["frame", "full"]),
            "≤ 300 ms (issue 9)",
            f"{how_many}; {parts('frame', 'full')}; route"
            f" {'/'.join(sorted(routes['frame']))}; anchors, same page and rounds:"
            f" SHA-256 (crypto.subtle) of {bytes_12mp / 1e6:.0f} MB {_ms(sha['full'])},"
            f" the page's canvas JPEG encode alone of the {seen['w']}x{seen['h']} frame"
            f" {_ms(enc['full'])}",
        ),
        *slowed("frame"),
        (
            "phone app: shutter to sealed, Chromium's fake camera's own still (a PNG it"
            " encodes in software), decoded and encoded as JPEG",
            _ms(fake),
            "—",
            f"median of {len(fake)}; {parts('fake', 'full')}; no phone camera hands over a"
            " PNG: this is the fake device's cost, not the app's",
        ),
        (
            f"phone app: unlock ({kdf_text}, in the app's Web Worker), Chromium",
            _ms(unlocks["full"]),
            "≤ 1 s (issue 9)",
            f"median of {UNLOCKS} (User Timing `clinphoto:unlock`), of which Argon2id inside"
            f" the worker {_ms(argon2_inside)}; anchors, same rounds: hash-wasm in Node"
            f" {_ms(node_argon2)}, the CLI device's `crypto.derive_vault_key` (argon2-cffi)"
            f" {_ms(cffi_argon2)}",
        ),
    ]
    if slow:
        rows.append(
            (
                f"the same with the whole browser slowed {SLOW}x (a quarter of one core)",
                _ms(unlocks["cgroup"]),
                "—",
                f"median of {UNLOCKS}; Argon2id in the worker, slowed with everything else",
            )
        )
    rows.append(
        (
            f"phone app: outbox sync of {synced} photos queued offline, over loopback",
            f"{synced / sync_s:.1f} photos/s, {sent_mb / sync_s:.0f} MB/s",
            "—",
            f"{sync_s:.1f} s from going online to an empty outbox, one upload at a time;"
            f" anchor: the Python client sending {synced} of the same photo"
            f" ({anchor_size / 1e6:.1f} MB sealed) one at a time to the same server:"
            f" {synced / anchor_s:.1f} /s, {synced * anchor_size / anchor_s / 1e6:.0f} MB/s;"
            f" {load}",
        )
    )
    return rows


def _check_scrubbed(sealed: bytes, still: bytes, tmp: Path) -> str:
    """The scrubbed still as the server received it: its pixels the camera's (same decoded
    bytes: no re-encode), its only metadata the orientation (exiftool); says so, or fails."""
    with Image.open(BytesIO(sealed)) as a, Image.open(BytesIO(still)) as b:
        assert a.size == b.size
        assert a.tobytes() == b.tobytes(), "the still was re-encoded"
    path = tmp / "scrubbed.jpg"
    path.write_bytes(sealed)
    tags = json.loads(
        subprocess.run(
            ["exiftool", "-j", "-a", "-u", "-G1", "-s", str(path)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )[0]
    groups = ("IFD0", "IFD1", "ExifIFD", "GPS", "XMP", "XMP-x", "Photoshop", "IPTC")
    meta = {k: v for k, v in tags.items() if k.split(":")[0] in groups}
    assert meta == {"IFD0:Orientation": "Rotate 90 CW"}, meta
    return (
        "has the camera's pixels (decoded bytes equal) and no metadata but its orientation"
        " (exiftool)"
    )


def bench_web() -> list[Row]:
    """Every phone-app row of docs/benchmarks.md, from a fresh build."""
    dist = build_web()
    rows = bench_js(dist)
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_phone(Path(tmp), dist)
    return rows


if __name__ == "__main__":
    for row in bench_web():
        print(json.dumps(row, ensure_ascii=False))
