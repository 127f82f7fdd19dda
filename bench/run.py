"""`make bench`: measure clinphoto's speed targets and write docs/benchmarks.md.

Run as a whole on one machine; the table records that machine. Timings are medians of
repeated runs. Nothing here is asserted in the test suite: machines are noisy.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import pty
import random
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageCms

from bench.disclosures import bench_disclosures
from bench.policy import bench_policy
from bench.retention import bench_retention
from bench.web import bench_web
from clinphoto import crypto
from clinphoto.audit import chain
from clinphoto.audit import service as audit
from clinphoto.client.capture import seal_capture
from clinphoto.core.config import Settings
from clinphoto.imaging.jpeg import scrub_jpeg
from clinphoto.imaging.scrub import scrub_bytes
from clinphoto.instance import keys as instance_keys
from clinphoto.instance.runtime import open_instance


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def make_12mp_jpeg(noise_share: float = 0.25, quality: int = 92) -> bytes:
    """A 4000x3000 photo-like JPEG (noise over gradients) with EXIF (a description and the
    orientation) and a colour profile, as phones write them (Little CMS's sRGB: 588 bytes,
    whose text the scrubber blanks), quality 92.

    With less noise and a lower quality it is the size a phone's 12 MP photo often has
    (``noise_share=0.06, quality=85``: 1.8 MB rather than 5.5 MB).
    """
    rng = random.Random(12)
    small = Image.new("RGB", (400, 300))
    small.putdata(
        [
            (x * 255 // 400, y * 255 // 300, rng.randrange(256))
            for y in range(300)
            for x in range(400)
        ]
    )
    img = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
    img = Image.blend(img, noise, noise_share)
    exif = Image.Exif()
    exif[0x010E] = "Patient: Jane Doe, MRN 1234567"
    exif[0x0112] = 6
    buf = io.BytesIO()
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img.save(buf, "JPEG", quality=quality, exif=exif.tobytes(), icc_profile=profile)
    return buf.getvalue()


def bench_scrub(jpeg: bytes, repeat: int = 200) -> list[tuple[str, str, str, str]]:
    """The in-process scrub of the 12 MP JPEG, beside a SHA-256 of the same bytes.

    The anchor reads every byte once at the speed of the machine's SHA extensions; the scrub
    must look at every byte after each 0xFF in the scan data too, and copy the whole file.
    The three are interleaved so that a busy moment on the machine falls on all of them.
    """
    runs: dict[str, list[float]] = {"jpeg": [], "bytes": [], "sha": []}
    work: dict[str, Callable[[], object]] = {
        "jpeg": lambda: scrub_jpeg(jpeg),
        "bytes": lambda: scrub_bytes(jpeg),
        "sha": lambda: hashlib.sha256(jpeg).digest(),
    }
    for fn in work.values():
        fn()
    for _ in range(repeat):
        for name, fn in work.items():
            t0 = time.perf_counter()
            fn()
            runs[name].append((time.perf_counter() - t0) * 1000)
    jpeg_ms, bytes_ms, sha_ms = (statistics.median(runs[k]) for k in ("jpeg", "bytes", "sha"))
    anchor = f"anchor: SHA-256 of the same {len(jpeg) / 1e6:.1f} MB, {sha_ms:.2f} ms"
    return [
        (
            "scrub (lossless segment rewrite, `imaging.jpeg.scrub_jpeg`)",
            f"{jpeg_ms:.2f} ms",
            "≤ 1 ms (issue 8)",
            anchor,
        ),
        (
            "scrub through the format dispatcher (`imaging.scrub.scrub_bytes`: sniff, JPEG)",
            f"{bytes_ms:.2f} ms",
            "≤ 1 ms (issue 8)",
            f"what capture calls; {anchor}",
        ),
    ]


def bench_capture(jpeg: bytes) -> list[tuple[str, str, str, str]]:
    records = crypto.AgeIdentity.generate().recipient
    device = crypto.AgeIdentity.generate().recipient
    signing = crypto.SigningKey.generate()

    def pipeline() -> None:
        # The device client's real capture step (clinphoto.client.capture).
        seal_capture(
            jpeg,
            patient_id="p" * 32,
            encounter_id="e" * 32,
            device_id="d" * 32,
            signing=signing,
            recipients=[records, device],
        )

    rows = [
        *bench_scrub(jpeg),
        (
            "capture pipeline: scrub, hash, seal to 2 recipients, sign",
            f"{_median_ms(pipeline, 30):.1f} ms",
            "≤ 20 ms",
            "",
        ),
    ]
    return rows


def bench_audit(tmp: Path) -> list[tuple[str, str, str, str]]:
    settings = Settings(data_dir=tmp / "var")
    instance_keys.create(settings)
    inst = open_instance(settings)
    n_appends = 2000
    t0 = time.perf_counter()
    for i in range(n_appends):
        with inst.unit_of_work() as db:
            audit.append(db, inst.audit_keys, action=audit.Action.AUDIT_EXPORT, object_id=str(i))
    appends = n_appends / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    with inst.unit_of_work() as db:
        for i in range(n_appends):
            audit.append(db, inst.audit_keys, action=audit.Action.AUDIT_EXPORT, object_id=str(i))
    batched = n_appends / (time.perf_counter() - t0)

    # 1,000,000 entries written straight into the table (the chain rows are computed with
    # the same code appends use), then verified by the real `audit.verify`.
    total = 1_000_000
    with inst.unit_of_work() as db:
        head = audit._head(db)
        prev, start = head.hash, head.seq + 1
        rows = []
        checkpoints: list[tuple[int, bytes]] = []
        for seq in range(start, total + 1):
            fields = chain.EntryFields(
                seq,
                "2026-11-24T12:00:00.000000+00:00",
                "u",
                "d",
                "p",
                "media.view",
                "media",
                str(seq),
                "clinical_care",
                "success",
                "{}",
            )
            row = chain.chain_row(prev, fields)
            prev = row[-1]
            rows.append(dict(zip(chain.COLUMNS, row, strict=True)))
            if seq % audit.CHECKPOINT_EVERY == 0:  # as appends do: a signed checkpoint
                checkpoints.append((seq, prev))
            if len(rows) == 50_000:
                db.execute(audit.AuditEntry.__table__.insert(), rows)
                rows = []
        if rows:
            db.execute(audit.AuditEntry.__table__.insert(), rows)
        for seq, digest in checkpoints:
            audit._write_checkpoint(db, inst.audit_keys, seq, digest)
        head.seq, head.hash = total, prev
    t0 = time.perf_counter()
    with inst.unit_of_work() as db:
        problem = audit.verify(db, inst.audit_keys.public_by_id)
    verify_rate = total / (time.perf_counter() - t0)
    assert problem is None, problem
    inst.close()
    # The command itself, as an operator runs it: segments cut at signed checkpoints and
    # verified in 2 spawned processes, start-up included. (Calling audit.verify from here
    # would time the bench instead: each spawned worker re-imports its parent's main
    # module, and this one takes about 2 s to import.)
    command = [sys.executable, "-m", "clinphoto", "--data-dir", str(settings.data_dir)]
    command += ["audit", "verify", "--workers", "2"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    parallel_rate = total / (time.perf_counter() - t0)
    assert done.returncode == 0, done.stderr
    assert "intact" in done.stdout, done.stdout
    return [
        (
            "audit appends, one transaction each (SQLite, fsync per commit)",
            f"{appends:,.0f} /s",
            "—",
            "",
        ),
        ("audit appends, batched in one transaction (SQLite)", f"{batched:,.0f} /s", "—", ""),
        (
            "audit verify, 1,000,000 entries read from SQLite, one process",
            f"{verify_rate:,.0f} entries/s",
            "—",
            "",
        ),
        (
            "audit verify, 1,000,000 entries, 2 processes (`clinphoto audit verify`)",
            f"{parallel_rate:,.0f} entries/s",
            "≥ 300,000 /s",
            "the command end to end, its start-up and the instance's opening included",
        ),
    ]


def bench_uploads(tmp: Path, jpeg: bytes, count: int = 60) -> list[tuple[str, str, str, str]]:
    """Uploads through the HTTP API to one real server process on loopback."""
    import socket
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from clinphoto.client.api import ApiClient

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "CLINPHOTO_DATA_DIR": str(tmp / "up"),
        "CLINPHOTO_PORT": str(port),
        "CLINPHOTO_LOG_LEVEL": "warning",
        "CLINPHOTO_ENV": "development",  # the KEK on disk
    }
    cli = [sys.executable, "-m", "clinphoto"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [
            *cli,
            "admin",
            "create-user",
            "--email",
            "bench@h.example",
            "--name",
            "Bench",
            "--role",
            "clinician",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    code = made.split("(valid 24 hours):")[1].split()[0]
    server = subprocess.Popen(
        [*cli, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        age, signing = crypto.AgeIdentity.generate(), crypto.SigningKey.generate()
        enrolled = ApiClient(url).enroll(
            code=code,
            password="violet harbour lantern seven",
            device_name="bench",
            age=age.recipient,
            signing_public=signing.public,
        )
        api = ApiClient(url, enrolled["token"])
        records = api.me()["records_recipient"]
        pid = api.create_patient(
            {"name": "Bench Patient", "dob": "1970-01-01", "mrn": "B1", "province": "ON"}
        )["id"]
        eid = api.record_consent(
            {
                "patient_id": pid,
                "purposes": ["clinical_care"],
                "method": "written",
                "informed_of_rights": True,
                "text_version": "2026-11-en",  # a text the server keeps (CON-2)
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
        clients = [ApiClient(url, enrolled["token"]) for _ in range(2)]

        def send(i: int) -> None:
            s = sealed[i]
            clients[i % 2].upload_media(s.manifest_bytes, s.signature, s.ciphertext)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(send, range(count)))
        rate = count / (time.perf_counter() - t0)
        for c in [api, *clients]:
            c.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    size = len(sealed[0].ciphertext) / 1e6
    return [
        (
            f"uploads of 12 MP photos ({size:.1f} MB sealed) through the HTTP API, one server "
            "process, 2 client threads on the same 2 cores",
            f"{rate:.1f} /s",
            "≥ 30 /s",
            f"{rate * size:.0f} MB/s; SQLite; fsync per object and per commit",
        )
    ]


def scrub_cli_commands(src: Path, files: list[str]) -> dict[str, Callable[[Path], list[str]]]:
    """The three commands over the same files (those of the folder ``src``, or one file),
    each writing into the folder it is given."""
    clinphoto = str(Path(sys.executable).with_name("clinphoto"))
    return {
        "clinphoto": lambda out: [clinphoto, "scrub", *files, "--out", str(out)],
        "exiftool": lambda out: ["exiftool", "-q", "-all=", "-o", f"{out}/", str(src)],
        "cp": lambda out: ["cp", *files, f"{out}/"],
    }


def installed_env(tmp: Path) -> dict[str, str]:
    """The environment for timing our commands as an installed package runs: with compiled
    bytecode. A pip install compiles it; a source checkout writes it at the first run unless
    PYTHONDONTWRITEBYTECODE is set (as on some development machines, where every start then
    compiles clinphoto's modules again). It goes to a cache under ``tmp``, not the tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # the help kept by `clinphoto --help`
    return env


def time_commands(
    tmp: Path, commands: dict[str, Callable[[Path], list[str]]], rounds: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Seconds per run of each command, on the clock and of CPU (the child's user and system
    time), on one core (taskset), alternating, in fresh folders.

    Each round runs every command once, in an order rotated from round to round. A folder is
    deleted as soon as its run is timed and the disk is synced before the next run, so that
    no command pays for writing back the files of the one before it (on a machine with a few
    GiB of dirty pages Linux slows every writer down to the disk's speed).
    """
    seconds: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in commands}
    names = list(commands)
    env = installed_env(tmp)
    for name in names:  # once, untimed: bytecode compiled, files in the page cache
        out = tmp / f"{name}-warm"
        out.mkdir()
        subprocess.run(commands[name](out), check=True, capture_output=True, env=env)
        shutil.rmtree(out)
    os.sync()
    for k in range(rounds):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            out = tmp / f"{name}{k}"
            out.mkdir()
            command = ["taskset", "-c", "0", *commands[name](out)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=env)
            seconds[name][0].append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds[name][1].append(
                after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            )
            shutil.rmtree(out)
            os.sync()
    return seconds


def bench_scrub_cli(
    tmp: Path, jpeg: bytes, count: int = 100, rounds: int = 7
) -> list[tuple[str, str, str, str]]:
    """`clinphoto scrub` over a folder of 12 MP photos against `exiftool -all=` and `cp`.

    Twice: with ``jpeg`` (the 5.5 MB benchmark photo) and with a 1.8 MB one, the size of the
    photos of the evaluation that opened issue 8. Each file differs (its own EXIF
    description) so nothing is cached between files. The tools run as a user would run them,
    from the shell, start-up included, one core each; `cp` of the same files into a fresh
    folder is what the disk and the file system cost. CPU times are given beside the times
    on the clock: on a shared machine they move less.
    """
    rows = []
    for k, photo in enumerate((jpeg, make_12mp_jpeg(noise_share=0.06, quality=85))):
        rows += _scrub_cli_rows(tmp / f"set{k}", photo, count, rounds)
    return rows


def _scrub_cli_rows(
    tmp: Path, jpeg: bytes, count: int, rounds: int
) -> list[tuple[str, str, str, str]]:
    src = tmp / "in"
    src.mkdir(parents=True)
    exif_at = jpeg.index(b"Patient: Jane Doe")
    for i in range(count):
        # Same length, different bytes: the description's MRN digits change per file.
        data = jpeg[:exif_at] + f"Patient: Jane Doe, MRN {i:07d}".encode() + jpeg[exif_at + 30 :]
        (src / f"IMG_{i:04d}.jpg").write_bytes(data)
    files = sorted(str(p) for p in src.iterdir())
    commands = scrub_cli_commands(src, files)
    one = scrub_cli_commands(Path(files[0]), files[:1])
    if not shutil.which("exiftool"):
        del commands["exiftool"], one["exiftool"]
    runs = time_commands(tmp, commands, rounds)
    single = time_commands(tmp, {k: one[k] for k in one if k != "cp"}, rounds)
    wall = {k: statistics.median(v[0]) for k, v in runs.items()}
    cpu = {k: statistics.median(v[1]) for k, v in runs.items()}
    ours, cp = wall["clinphoto"], wall["cp"]
    what = f"{count} 12 MP JPEGs of {len(jpeg) / 1e6:.1f} MB"
    how = f"one core each (taskset); medians of {rounds} alternating runs, start-up included"
    rows = [
        (
            f"`clinphoto scrub` over {what} vs `cp` of the same files",
            f"{ours:.2f} s vs {cp:.2f} s: {ours / cp:.1f}x",
            "within 2x (issue 8)",
            f"{how}; CPU {cpu['clinphoto']:.2f} s vs {cpu['cp']:.2f} s:"
            f" {cpu['clinphoto'] / cpu['cp']:.1f}x; {count * len(jpeg) / ours / 1e6:.0f} MB/s",
        )
    ]
    if "exiftool" in runs:
        theirs = wall["exiftool"]
        one_ours, one_theirs = (statistics.median(single[k][0]) for k in ("clinphoto", "exiftool"))
        rows += [
            (
                f"`clinphoto scrub` over {what} vs `exiftool -all= -o OUT/ IN/`",
                f"{ours:.2f} s vs {theirs:.2f} s: {theirs / ours:.1f}x faster",
                "≥ 3x faster (issue 8)",
                f"the same runs as the row above; CPU {cpu['clinphoto']:.2f} s vs"
                f" {cpu['exiftool']:.2f} s: {cpu['exiftool'] / cpu['clinphoto']:.1f}x",
            ),
            (
                f"`clinphoto scrub` of one {len(jpeg) / 1e6:.1f} MB JPEG vs `exiftool` of it",
                f"{one_ours * 1000:.0f} ms vs {one_theirs * 1000:.0f} ms",
                "—",
                "mostly start-up: the interpreter and imports against Perl and exiftool's",
            ),
        ]
    return rows


def make_scene(face: bool, label: bool, turn: int = 0) -> Image.Image:
    """A 12 MP skin-toned scene with a wound, optionally with a face and a printed label.

    ``turn`` quarter-turns the head anticlockwise: 2 is a patient seen from the head of the bed.
    """
    from PIL import ImageDraw, ImageFont
    from skimage import data

    image = Image.new("RGB", (4000, 3000), (196, 152, 128))
    draw = ImageDraw.Draw(image)
    draw.ellipse((1600, 1100, 2400, 1700), fill=(120, 40, 40))
    noise = Image.effect_noise((4000, 3000), 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    if face:
        head = Image.fromarray(data.astronaut()).crop((150, 30, 330, 250)).resize((160, 196))
        image.paste(head.rotate(90 * turn, expand=True), (400, 500))
    if label:
        draw = ImageDraw.Draw(image)
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
        draw.rectangle((2800, 2500, 3500, 2580), fill="white")
        draw.text((2820, 2515), "MRN 4417302  1961-07-14", font=font, fill=(20, 20, 20))
    return image


def bench_detectors() -> list[tuple[str, str, str, str]]:
    """Face and text detection on a 12 MP photo, one thread, and the custodian's whole job.

    The face search in four turns with its second looks is measured beside the same model
    searching upright only (the detector before issue 8), in the same run.
    """
    import io

    import cv2

    from clinphoto.imaging.faces import FaceDetector
    from clinphoto.imaging.faces import default_detector as faces
    from clinphoto.imaging.inspect import FACE_THRESHOLD, inspect_content, inspect_image
    from clinphoto.imaging.text import default_detector as text

    cv2.setNumThreads(1)
    scene = make_scene(face=True, label=True, turn=2)
    # The anchor stays what it was in every earlier run: upright only, no second looks, the
    # finer search at 24 px (the detector's own finer search moved to 32 px on 2026-12-01).
    upright_only = FaceDetector(turns=(0,), second_look=False, soft_face_in_input=24.0)
    upright_only.detect(scene)
    face_ms = _median_ms(lambda: faces().detect(scene), 7)
    anchor_ms = _median_ms(lambda: upright_only.detect(scene), 7)
    found = [r.box.as_list() for r in faces().detect(scene) if r.score >= FACE_THRESHOLD]
    missed = [r for r in upright_only.detect(scene) if r.score >= FACE_THRESHOLD] == []
    text_ms = _median_ms(lambda: text().detect(scene), 5)
    both_ms = _median_ms(lambda: inspect_image(scene), 5)
    buffer = io.BytesIO()
    scene.save(buffer, "JPEG", quality=92)
    jpeg = buffer.getvalue()
    whole_ms = _median_ms(lambda: inspect_content(jpeg, None), 5)
    # As the server runs it: each photo in a fresh sandboxed interpreter (instance/custodian),
    # which starts, imports and loads the models before it inspects.
    from clinphoto.instance.custodian import sandboxed

    sandboxed_ms = _median_ms(lambda: sandboxed()(jpeg, None), 3)
    return [
        (
            f"face detection, 12 MP photo, four turns and second looks, one thread"
            f" ({faces().runtime})",
            f"{face_ms:.0f} ms (upright only: {anchor_ms:.0f} ms)",
            "≤ 400 ms (issue 8)",
            f"BlazeFace pyramid from 60 px faces, and MTCNN's soft-face proposals in four"
            f" turns; the upside-down ~84 px face:"
            f" {found or 'NOT FOUND'}{'; upright only misses it' if missed else ''}",
        ),
        (
            "text detection and reading, 12 MP photo, one thread",
            f"{text_ms:.0f} ms",
            "—",
            "PP-OCRv4 on ONNX Runtime at 2,000 px; one 40 px label",
        ),
        (
            "inspection of one decoded 12 MP photo (faces, text, identifiers)",
            f"{both_ms:.0f} ms",
            "—",
            "",
        ),
        (
            "custodian inspection of a 12 MP JPEG (decode, metadata, faces, text, identifiers)",
            f"{whole_ms:.0f} ms",
            "≤ 1.5 s (issue 8)",
            f"{len(jpeg) / 1e6:.1f} MB; decoded as the custodian does (whole: its 4,000 px"
            " side is under twice the 2,048 px it may be reduced to)",
        ),
        (
            "the same as the server runs it: a fresh sandboxed interpreter per photo (start,"
            " imports, models loaded, then the inspection above)",
            f"{sandboxed_ms:.0f} ms",
            "—",
            "imaging/sandbox.py's child with the custodian's limits; the difference from the"
            " row above is the price of isolating each photo's decoders",
        ),
    ]


def _pty_run(argv: list[str], until: bytes | None, env: dict[str, str]) -> tuple[float, float]:
    """Run ``argv`` on a terminal of its own, as a user at a shell would, until it exits or,
    with ``until``, until that text appears on the terminal (then it is killed).

    Seconds on the clock and of CPU (the child's user and system time). The child gets a new
    session whose controlling terminal is the pty, so a passcode prompt (written to /dev/tty)
    is read here, never on the terminal that runs the benchmark.
    """
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    seen = b""
    deadline = t0 + 120
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.perf_counter()))
            if not ready:
                raise TimeoutError(f"{argv[1:]}: no {until!r} in 120 s; it wrote {seen[-400:]!r}")
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal (it exited)
                chunk = b""
            seen += chunk
            if until is not None and until in seen:
                wall = time.perf_counter() - t0
                os.kill(pid, signal.SIGKILL)
                break
            if not chunk:
                if until is not None:
                    raise RuntimeError(f"{argv[1:]} exited before {until!r}: {seen[-400:]!r}")
                wall = time.perf_counter() - t0
                break
    finally:
        os.close(fd)
    _, status, usage = os.wait4(pid, 0)
    if until is None and os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[1:]} failed: {seen[-400:]!r}")
    return wall, usage.ru_utime + usage.ru_stime


def bench_cli_start(rounds: int = 15) -> list[tuple[str, str, str, str]]:
    """How soon the device's commands answer (issue 9): `clinphoto --help`, `clinphoto inbox
    --help`, and `clinphoto inbox` until it asks for the passcode, against the interpreter
    alone and the interpreter with Typer and Rich, measured in the same rounds.

    Each run starts a new process on a terminal of its own (a pty), as a user's shell would;
    the rounds alternate the commands in a rotated order. CLINPHOTO_PASSCODE is unset, so
    `inbox` stops at the prompt; its profile is an empty folder (the prompt comes before the
    profile is read). Bytecode is compiled, as for an installed package (installed_env).
    `--help` shows the help kept from an earlier run (cli.helpcache): each command runs
    once untimed first, and the help as Typer renders it, with nothing kept, is timed too,
    in the same rounds.
    """
    python = sys.executable
    clinphoto = str(Path(python).with_name("clinphoto"))
    anchors: dict[str, tuple[list[str], bytes | None]] = {
        "`python -c pass`": ([python, "-c", "pass"], None),
        "`python -c 'import typer, rich.console'`": (
            [python, "-c", "import typer, rich.console"],
            None,
        ),
    }
    ours: dict[str, tuple[list[str], bytes | None]] = {
        "`clinphoto --help`": ([clinphoto, "--help"], None),
        "`clinphoto inbox --help`": ([clinphoto, "inbox", "--help"], None),
        "`clinphoto inbox` until it asks for the passcode": ([clinphoto, "inbox"], b"passcode"),
    }
    first = "`clinphoto --help` rendered by Typer (nothing kept: the first time)"
    commands = anchors | ours | {first: ([clinphoto, "--help"], None)}
    names = list(commands)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        env = installed_env(Path(tmp))
        del env["XDG_CACHE_HOME"]
        env.pop("CLINPHOTO_PASSCODE", None)
        env["CLINPHOTO_PROFILE"] = str(Path(tmp) / "profile")
        kept = {**env, "XDG_CACHE_HOME": str(Path(tmp) / "kept")}
        for name in names:  # once, untimed: bytecode compiled, help kept
            _pty_run(*commands[name], env=kept)
        for k in range(rounds):
            for name in names[k % len(names) :] + names[: k % len(names)]:
                if name == first:
                    fresh = {**env, "XDG_CACHE_HOME": str(Path(tmp) / f"fresh{k}")}
                    runs[name].append(_pty_run(*commands[name], env=fresh))
                else:
                    runs[name].append(_pty_run(*commands[name], env=kept))
    wall = {n: statistics.median(w for w, _ in r) for n, r in runs.items()}
    cpu = {n: statistics.median(c for _, c in r) for n, r in runs.items()}
    how = f"anchor; medians of {rounds} alternating runs on a pty, start-up included"
    beside = "the same runs; anchors: " + ", ".join(f"{n} {wall[n]:.2f} s" for n in anchors)
    return [
        (
            name,
            f"{wall[name]:.2f} s (CPU {cpu[name]:.2f} s)",
            "—" if name in anchors or name == first else "≤ 0.3 s (issue 9)",
            how if name in anchors else beside,
        )
        for name in names
    ]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    jpeg = make_12mp_jpeg()
    rows = bench_cli_start()
    rows += bench_web()  # issue 9: the phone app in Chromium (its own server and browser)
    rows += bench_capture(jpeg)
    rows += bench_detectors()
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_scrub_cli(Path(tmp), jpeg)
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_audit(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_uploads(Path(tmp), jpeg)
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_policy(Path(tmp))  # issue 7: the policy's cost, MRN lookup at 1M patients
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_retention(Path(tmp), postgres=True)  # issue 10: the retention sweep
    with tempfile.TemporaryDirectory() as tmp:
        # issue 10: who saw my photos, 10,000 entries among 1,000,000 (the query plans are
        # printed by `python -m bench.disclosures`)
        rows += bench_disclosures(Path(tmp), postgres=True)[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    lines = [
        "# Benchmarks",
        "",
        "The table is written by `make bench` (`bench/run.py`): medians, one run. "
        "Notes below it are kept by hand.",
        "",
        f"- Machine: {machine()}",
        f"- Commit: {commit or 'unknown'}; test image: 4000x3000 JPEG, {len(jpeg):,} bytes, "
        "with EXIF (description, orientation) and a colour profile (sRGB, 588 bytes)",
        "",
        "| what | measured | target | note |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
    ]
    # Hand-written notes below the marker survive a re-run.
    marker = "<!-- notes: kept across runs -->"
    old = args.out.read_text() if args.out.exists() else ""
    notes = old[old.index(marker) :] if marker in old else marker + "\n"
    args.out.write_text("\n".join(lines) + "\n" + notes)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
