"""Clinical commands of the device client: capture and open (more join as the API grows).

They reach the server only through the HTTP API. Plaintext is written only where the user
names a file; the local upload queue holds ciphertext only (STO-1)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clinphoto import crypto
from clinphoto.cli.device import DEFAULT_PROFILE, ProfileOpt, _fail, _unlock
from clinphoto.client.api import ApiClient, ApiError
from clinphoto.client.capture import open_capture, seal_capture
from clinphoto.imaging.jpeg import ScrubError

out = Console()
err = Console(stderr=True)


def capture(
    files: Annotated[list[Path], typer.Argument(help="JPEG files to capture.")],
    patient: Annotated[str, typer.Option(help="Patient id (from `patient find`).")],
    encounter: Annotated[str, typer.Option(help="Encounter id (from `consent record`).")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Scrub, seal and upload photos for a patient's encounter.

    Each photo is scrubbed of metadata losslessly, named with a random id, sealed to the
    records key and your own active devices, signed by this device and uploaded. The
    server refuses it unless a consent covers clinical care for the encounter. The sealed
    copy waits in the profile's queue until the server confirms it, then is deleted.

    Example: clinphoto capture wound.jpg --patient 6f1c... --encounter 93ab...
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    queue = profile / "queue"
    queue.mkdir(mode=0o700, exist_ok=True)
    try:
        me = api.me()
        recipients = [me["records_recipient"]] + [
            d["age_recipient"] for d in api.devices() if d["status"] == "active"
        ]
        for path in files:
            try:
                sealed = seal_capture(
                    path.read_bytes(),
                    patient_id=patient,
                    encounter_id=encounter,
                    device_id=secrets_.device_id,
                    signing=secrets_.signing,
                    recipients=recipients,
                )
            except ScrubError as exc:
                raise _fail(f"{path}: cannot be captured safely: {exc}") from None
            except OSError as exc:
                raise _fail(f"{path}: {exc.strerror}") from None
            queued = queue / f"{sealed.object_id}.age"
            queued.write_bytes(sealed.ciphertext)
            (queue / f"{sealed.object_id}.json").write_text(
                json.dumps(
                    {"manifest": sealed.manifest_bytes.decode(), "signature": sealed.signature}
                )
            )
            result = api.upload_media(sealed.manifest_bytes, sealed.signature, sealed.ciphertext)
            queued.unlink()
            (queue / f"{sealed.object_id}.json").unlink()
            out.print(f"{path.name}: captured as {result['id']}")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()


def open_media(
    media_id: Annotated[str, typer.Argument(help="The media id.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the photo.")],
    purpose: Annotated[str, typer.Option(help="Why you open it; the consent must cover it.")] = (
        "clinical_care"
    ),
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Download, verify and decrypt a photo into a file you name (never anywhere else).

    Example: clinphoto open 0c1d... --out /secure/tmp/wound.jpg --purpose clinical_care
    """
    if out_file.exists():
        raise _fail(f"{out_file} exists; refusing to overwrite it")
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        meta = api.media(media_id, purpose)
        ciphertext = api.media_content(media_id, purpose)
        authors = {d["id"]: d["signing_public"] for d in api.devices()}
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    author_key = authors.get(meta["author_device_id"])
    if author_key is None:
        raise _fail("cannot verify the author's signature: unknown author device")
    try:
        plain = open_capture(
            ciphertext,
            identity=secrets_.age,
            manifest_bytes=meta["manifest"].encode(),
            signature=meta["signature"],
            author_signing_public=author_key,
            plaintext_sha256=meta["plaintext_sha256"],
        )
    except crypto.CryptoError:
        raise _fail("the photo does not verify or this device cannot open it") from None
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(plain)
    out.print(f"wrote {out_file} ({len(plain)} bytes, signature and hash verified)")
