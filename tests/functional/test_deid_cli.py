"""`clinphoto scrub`, `inspect` and `redact` run as a user runs them (DEI-1..DEI-3, TRN-3).

The installed ``clinphoto`` command is started in a subprocess; exiftool checks the scrubbed
files. Pictures are generated here; the face is skimage's astronaut.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, PngImagePlugin
from skimage import data

from tests.corpus.oracle import exiftool_json

CLINPHOTO = str(Path(sys.executable).with_name("clinphoto"))


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLINPHOTO, *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )


def _wound(size: tuple[int, int] = (1200, 900)) -> Image.Image:
    image = Image.new("RGB", size, (196, 152, 128))
    ImageDraw.Draw(image).ellipse((500, 350, 800, 600), fill=(120, 40, 40))
    return image


def _jpeg_with_gps(path: Path) -> None:
    exif = Image.Exif()
    exif[0x010E] = "Marguerite Tremblay MRN 4417302"
    exif[0x013B] = "Dr Artist"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (45.0, 30.0, 12.0)
    gps[3], gps[4] = "W", (73.0, 34.0, 5.0)
    _wound().save(path, "JPEG", quality=90, exif=exif.tobytes())


def _png_with_text(path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Marguerite Tremblay")
    info.add_itxt("Comment", "MRN 4417302")
    _wound().save(path, "PNG", pnginfo=info)


pytestmark = pytest.mark.skipif(not Path(CLINPHOTO).exists(), reason="clinphoto not installed")


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_dei1_scrub_cleans_what_it_can_refuses_the_rest_and_names_files_at_random(
    tmp_path: Path,
) -> None:
    jpeg, png, junk = tmp_path / "Tremblay_wound.jpg", tmp_path / "IMG_2231.png", tmp_path / "x.jpg"
    _jpeg_with_gps(jpeg)
    _png_with_text(png)
    junk.write_bytes(b"\xff\xd8\xff\xe1\x00\x10not really a jpeg")
    out = tmp_path / "clean"

    done = _run("scrub", str(jpeg), str(png), str(junk), "--out", str(out), "--json")
    assert done.returncode == 2, done.stderr  # one refusal
    records = [json.loads(line) for line in done.stdout.splitlines()]
    by_file = {Path(r["file"]).name: r for r in records}
    assert by_file["x.jpg"]["ok"] is False
    assert by_file["x.jpg"]["reason"] in ("malformed", "truncated")
    for name in ("Tremblay_wound.jpg", "IMG_2231.png"):
        record = by_file[name]
        assert record["ok"] is True, record
        cleaned = Path(record["out"])
        assert cleaned.parent == out
        assert "Tremblay" not in cleaned.name
        assert "IMG" not in cleaned.name
        tags = exiftool_json([cleaned])[str(cleaned)]
        text = json.dumps(tags)
        assert "Tremblay" not in text
        assert "4417302" not in text
        assert not any(k.startswith(("GPS:", "IFD0:", "ExifIFD:", "PNG:Author")) for k in tags)
        # Pixels untouched (lossless rewrite for both formats).
        with Image.open(cleaned) as after, Image.open(tmp_path / name) as before:
            diff = ImageChops.difference(after.convert("RGB"), before.convert("RGB"))
            assert diff.getbbox() is None
    # Only the two scrubbed files were written; nothing is left half-written.
    assert sorted(p.suffix for p in out.iterdir()) == [".jpg", ".png"]


def test_scrub_starts_without_the_server_stack(tmp_path: Path) -> None:
    """The file tools are dispatched before SQLAlchemy and the HTTP client are imported."""
    _png_with_text(tmp_path / "a.png")
    probe = (
        "import sys\n"
        f"sys.argv = ['clinphoto', 'scrub', {str(tmp_path / 'a.png')!r}, '--out', "
        f"{str(tmp_path / 'o')!r}]\n"
        "from clinphoto.cli.entry import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'httpx', 'fastapi')"
        " if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert run.stdout.strip().endswith("[]"), run.stdout + run.stderr
    assert len(list((tmp_path / "o").iterdir())) == 1


def test_dei2_inspect_exit_status_says_identifiable(tmp_path: Path) -> None:
    plain = tmp_path / "wound.jpg"
    _wound().save(plain, "JPEG")
    face = tmp_path / "consult.jpg"
    photo = _wound()
    photo.paste(Image.fromarray(data.astronaut()).crop((150, 30, 330, 250)), (80, 80))
    photo.save(face, "JPEG")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff")

    clean = _run("inspect", str(plain), "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)[0]["identifiable"] is False

    flagged = _run("inspect", str(face), "--json")
    assert flagged.returncode == 1, flagged.stdout + flagged.stderr
    [result] = json.loads(flagged.stdout)
    assert result["identifiable"] is True
    assert result["faces"]

    captioned = _run("inspect", str(plain), "--caption", "Marguerite Tremblay, MRN 4417302")
    assert captioned.returncode == 1
    assert "4417302" not in captioned.stdout  # reasons name the kind, never the value

    assert _run("inspect", str(broken)).returncode == 2


def test_dei3_redact_faces_makes_a_photo_that_passes_inspection(tmp_path: Path) -> None:
    face = tmp_path / "consult.jpg"
    photo = _wound()
    photo.paste(Image.fromarray(data.astronaut()).crop((150, 30, 330, 250)), (80, 80))
    photo.save(face, "JPEG")
    redacted = tmp_path / "redacted.jpg"

    done = _run("redact", str(face), "--faces", "--method", "box", "--out", str(redacted))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _run("inspect", str(redacted)).returncode == 0
    with Image.open(redacted) as img:
        assert not img.info.get("exif")
        assert img.size == (1200, 900)
    # The input is untouched and an existing output is never overwritten.
    assert _run("redact", str(face), "--faces", "--out", str(redacted)).returncode == 2
    with Image.open(face) as original:
        assert original.size == (1200, 900)


def test_redact_without_regions_is_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "wound.jpg"
    buf = io.BytesIO()
    _wound().save(buf, "JPEG")
    plain.write_bytes(buf.getvalue())
    done = _run("redact", str(plain), "--faces", "--out", str(tmp_path / "r.jpg"))
    assert done.returncode == 1
    assert "nothing to redact" in done.stdout + done.stderr
    assert not (tmp_path / "r.jpg").exists()
