"""De-identification on local files: `scrub`, `inspect` and `redact` (DEI-1..DEI-3, TRN-3).

These run the same library the device client and the custodian use, on files the user names,
with no server and no account. Output files are named by random ids: a file name is text
that travels with an image and may itself identify the patient.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clinphoto.cli.tree import prepare
from clinphoto.cli.ui import parse_box, progress
from clinphoto.imaging.errors import ScrubError
from clinphoto.imaging.regions import Box, Region

out = Console(highlight=False)
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", markup=True, highlight=False)
    return typer.Exit(code)


def scrub(
    inputs: Annotated[list[Path], typer.Argument(help="Pictures or videos, any format.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the scrubbed files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Remove identifying metadata from pictures and videos, losslessly where possible.

    The format is decided by the file's bytes, never its name. JPEG, PNG, WebP and GIF are
    rewritten without metadata and keep their pixels exactly; TIFF becomes PNG; HEIC, HEIF
    and AVIF become JPEG (q95, 4:4:4); MP4, MOV and WebM are remuxed without re-encoding.
    Anything else, and anything malformed or too large, is refused with a reason. Output
    files get random names (a file name can identify a patient); the report maps them.

    Exit status: 0 when every input was scrubbed, 2 when any was refused.

    Example: clinphoto scrub ~/Downloads/IMG_2231.HEIC wound.jpg --out /secure/clean --json
    """
    from clinphoto.cli.scrubtool import scrub_one

    out_dir.mkdir(parents=True, exist_ok=True)
    refused = 0
    with progress(len(inputs)) as bar:
        task = bar.add_task("scrubbing", total=len(inputs))
        for src in inputs:
            record = scrub_one(src, out_dir)
            refused += not record["ok"]
            if as_json:
                print(json.dumps(record), flush=True)
            elif record["ok"]:
                # Plain lines, as the fast path prints them: a file name is not markup.
                out.print(
                    f"{src} -> {record['out']} ({record['note']})", markup=False, soft_wrap=True
                )
            else:
                err.print(
                    f"{src}: refused ({record['reason']}): {record['message']}",
                    markup=False,
                    soft_wrap=True,
                )
            bar.advance(task)
    if refused:
        raise typer.Exit(2)


def inspect(
    files: Annotated[list[Path], typer.Argument(help="Pictures or videos to inspect.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per file).")] = (
        False
    ),
    caption: Annotated[
        list[str] | None, typer.Option(help="Text that travels with the image; repeatable.")
    ] = None,
) -> None:
    """Find faces, burned-in text, identifiers and identifying metadata; say whether each
    file is identifiable.

    Boxes are in pixels of the displayed image. The file's own name and any --caption are
    checked for identifier patterns (names, MRN, health-card numbers, dates of birth, phone,
    e-mail, postal codes). For a video, sampled frames are inspected. The file's metadata is
    listed with each value masked (first character and length, the year of a date, "present"
    for a GPS position): a GPS position, a name, a serial number, a date, free text, an
    embedded picture or metadata that cannot be classified makes the file identifiable;
    make, model and software alone do not. `clinphoto scrub` removes all of it.

    Exit status: 0 when no file is identifiable, 1 when any is, 2 when any cannot be read.

    Example: clinphoto inspect wound.jpg --json
    """
    from clinphoto.imaging.inspect import (
        InspectionJson,
        frames_to_inspect,
        inspect_frames,
        with_metadata,
    )
    from clinphoto.imaging.metadata import metadata_of_file

    results: list[InspectionJson] = []
    identifiable = unreadable = False
    with progress(len(files)) as bar:
        task = bar.add_task("inspecting", total=len(files))
        for path in files:
            try:
                frames = frames_to_inspect(path)
                metadata = metadata_of_file(path)
            except (OSError, ValueError) as exc:  # ScrubError and VideoScrubError are ValueErrors
                unreadable = True
                err.print(f"{path}: cannot be read: {exc}")
                bar.advance(task)
                continue
            captions = [path.name, *(caption or [])]
            inspected = with_metadata(inspect_frames(frames, captions=captions), metadata)
            merged = inspected.to_json(str(path))
            identifiable = identifiable or merged["identifiable"]
            results.append(merged)
            bar.advance(task)
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for r in results:
            verdict = "identifiable" if r["identifiable"] else "not identifiable"
            out.print(f"{r['file']}: {verdict}")
            for reason in r["reasons"]:
                out.print(f"  - {reason}")
            for m in r["metadata"]:  # file content: printed without markup
                alone = "" if m["identifying"] else ", not identifying on its own"
                line = (
                    f"  metadata: {m['where']} {m['tag']}: {m['preview']} ({m['category']}{alone})"
                )
                out.print(line, markup=False)
    if unreadable:
        raise typer.Exit(2)
    if identifiable:
        raise typer.Exit(1)


def redact(
    file: Annotated[Path, typer.Argument(help="The picture to redact.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the redacted JPEG.")],
    box: Annotated[
        list[str] | None, typer.Option(help="A region x,y,w,h in displayed pixels; repeatable.")
    ] = None,
    faces: Annotated[bool, typer.Option("--faces", help="Redact every face found.")] = False,
    text: Annotated[bool, typer.Option("--text", help="Redact all burned-in text found.")] = False,
    method: Annotated[str, typer.Option(help="box (solid), blur or pixelate.")] = "box",
) -> None:
    """Blur, pixelate or cover regions into a new JPEG with no metadata and no thumbnail.

    The input is never changed. Regions come from --box, from the face detector (--faces)
    and from the text detector (--text).

    Example: clinphoto redact ward.jpg --faces --text --method blur --out ward-redacted.jpg
    """
    from clinphoto.imaging.inspect import open_picture
    from clinphoto.imaging.redact import redact_to_jpeg

    if method not in ("box", "blur", "pixelate"):
        raise _fail("--method must be box, blur or pixelate")
    if out_file.exists():
        raise _fail(f"{out_file} exists; refusing to overwrite it")
    regions: list[Box | Region] = [parse_box(b) for b in box or []]
    try:
        shown = open_picture(file)
    except (OSError, ScrubError) as exc:
        raise _fail(f"{file}: cannot be read: {exc}") from None
    if faces:
        from clinphoto.imaging.faces import detect_faces

        regions += detect_faces(shown)
    if text:
        from clinphoto.imaging.text import detect_text

        regions += detect_text(shown)
    if not regions:
        raise _fail("nothing to redact: give --box, --faces or --text", 1)
    data = redact_to_jpeg(shown, regions, method)  # type: ignore[arg-type]
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    out.print(f"redacted {len(regions)} region(s) into {out_file}")


# The same three commands as a program of their own: `clinphoto scrub|inspect|redact` start
# here (see clinphoto.cli.entry) without loading the server's stack, which would triple the
# start-up time of a command that is often run on a folder from a script.
tools = typer.Typer(
    help="De-identify local files: scrub metadata, inspect for identifiers, redact regions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tools.command("scrub")(scrub)
tools.command("inspect")(inspect)
tools.command("redact")(redact)
prepare(tools)  # as clinphoto.cli.main does
