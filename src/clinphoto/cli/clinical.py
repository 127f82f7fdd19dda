"""Clinical commands of the device client: capture and open (more join as the API grows).

They reach the server only through the HTTP API. Plaintext is written only where the user
names a file; the local upload queue holds ciphertext only (STO-1)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from clinphoto import crypto
from clinphoto.cli.device import DEFAULT_PROFILE, ProfileOpt, _fail, _unlock
from clinphoto.client.api import ApiClient, ApiError
from clinphoto.client.capture import open_capture, reseal_for_share, seal_capture
from clinphoto.client.profile import DeviceSecrets
from clinphoto.core import protocol
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
            try:
                result = api.upload_media(
                    sealed.manifest_bytes, sealed.signature, sealed.ciphertext
                )
            except ApiError as exc:
                if 400 <= exc.status < 500:
                    # Refused: retrying cannot succeed, so the sealed copy goes too.
                    queued.unlink()
                    (queue / f"{sealed.object_id}.json").unlink()
                else:
                    err.print(f"{path.name}: kept in the encrypted queue for a later retry")
                raise
            queued.unlink()
            (queue / f"{sealed.object_id}.json").unlink()
            out.print(f"{path.name}: captured as {result['id']}")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()


def _open_own(api: ApiClient, media_id: str, purpose: str) -> tuple[dict[str, Any], bytes, str]:
    meta = api.media(media_id, purpose)
    ciphertext = api.media_content(media_id, purpose)
    authors = {d["id"]: d["signing_public"] for d in api.devices()}
    key = authors.get(meta["author_device_id"])
    if key is None:
        raise _fail("cannot verify the author's signature: unknown author device")
    return meta, ciphertext, key


def _inbox_item(api: ApiClient, share_id: str) -> dict[str, Any]:
    for item in api.inbox():
        if item["share"]["id"] == share_id:
            return item
    raise _fail("no such share in your inbox")


def _decrypt(
    secrets_: DeviceSecrets, meta: dict[str, Any], ciphertext: bytes, author_key: str
) -> bytes:
    try:
        return open_capture(
            ciphertext,
            identity=secrets_.age,
            manifest_bytes=meta["manifest"].encode(),
            signature=meta["signature"],
            author_signing_public=author_key,
            plaintext_sha256=meta["plaintext_sha256"],
        )
    except crypto.CryptoError:
        raise _fail("the photo does not verify or this device cannot open it") from None


def open_media(
    media_id: Annotated[str, typer.Argument(help="The media id, or a share id with --share.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the photo.")],
    purpose: Annotated[str, typer.Option(help="Why you open it; the consent must cover it.")] = (
        "clinical_care"
    ),
    share: Annotated[bool, typer.Option("--share", help="Open a photo shared with you.")] = False,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Download, verify and decrypt a photo into a file you name (never anywhere else).

    Example: clinphoto open 0c1d... --out /secure/tmp/wound.jpg --purpose clinical_care
    Example: clinphoto open --share 7a2e... --out /secure/tmp/referral.jpg
    """
    if out_file.exists():
        raise _fail(f"{out_file} exists; refusing to overwrite it")
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        if share:
            item = _inbox_item(api, media_id)
            meta, key = item["media"], item["sender_signing_public"]
            ciphertext = api.share_content(media_id)
        else:
            meta, ciphertext, key = _open_own(api, media_id, purpose)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    plain = _decrypt(secrets_, meta, ciphertext, key)
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(plain)
    out.print(f"wrote {out_file} ({len(plain)} bytes, signature and hash verified)")


def share(
    media_id: Annotated[str, typer.Argument(help="The photo to share (one you captured).")],
    to: Annotated[str, typer.Option("--to", help="The recipient's e-mail address.")],
    purpose: Annotated[str, typer.Option(help="Why; the consent must cover it.")] = (
        "clinical_care"
    ),
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm without a prompt (after checking).")
    ] = False,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Share a photo with a colleague: shows who and which devices, then re-seals to them.

    You see the recipient's name, role, institution and device fingerprints and confirm.
    This device opens the photo, re-seals it to the recipient's devices and the records
    key, and signs it. `clinphoto shares MEDIA` shows sent / delivered / acknowledged.

    Example: clinphoto share 0c1d... --to b.gagnon@chu.example --purpose clinical_care
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        meta, ciphertext, key = _open_own(api, media_id, purpose)
        plain = _decrypt(secrets_, meta, ciphertext, key)
        recipient = api.directory(to)
        out.print(
            f"Recipient: {recipient['display_name']} ({recipient['role']}), "
            f"{recipient['institution'] or 'no institution'}"
        )
        for d in recipient["devices"]:
            out.print(f"  device {d['name']!r}: {d['fingerprint']}")
        if not yes and not typer.confirm("Send to this person and these devices?"):
            raise _fail("not sent")
        me = api.me()
        sealed = reseal_for_share(
            plain,
            device_id=secrets_.device_id,
            signing=secrets_.signing,
            recipients=[d["age_recipient"] for d in recipient["devices"]]
            + [me["records_recipient"]],
            recipient_user_id=recipient["id"],
            purpose=purpose,
        )
        result = api.send_share(
            media_id, sealed.manifest_bytes, sealed.signature, sealed.ciphertext
        )
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(f"shared as {result['id']} ({result['status']})")


def shares(
    media_id: Annotated[str, typer.Argument(help="A photo you captured.")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Show each share of a photo: sent, delivered or acknowledged.

    Example: clinphoto shares 0c1d...
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        for s in api.shares_of(media_id):
            out.print(f"{s['id']}  to {s['recipient_user_id']}  {s['status']}  {s['purpose']}")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()


def inbox(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """List photos shared with you.

    Example: clinphoto inbox
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        for item in api.inbox():
            s = item["share"]
            out.print(f"{s['id']}  from {s['sender_user_id']}  {s['status']}  {s['purpose']}")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()


def ack(
    share_id: Annotated[str, typer.Argument(help="The share you received.")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Acknowledge receipt of a shared photo with this device's signature.

    Example: clinphoto ack 7a2e...
    """
    secrets_ = _unlock(profile)
    api = ApiClient(secrets_.server, secrets_.token)
    try:
        item = _inbox_item(api, share_id)
        message = protocol.ack_message(share_id, item["media"]["plaintext_sha256"])
        result = api.ack(share_id, crypto.sign(secrets_.signing, message))
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(f"share {result['id']} {result['status']}")


patient = typer.Typer(help="Register and find patients (identifiers are encrypted at rest).")
consent_cli = typer.Typer(help="Record consent for an encounter (CON-1 to CON-3).")


def _api(profile: Path) -> ApiClient:
    secrets_ = _unlock(profile)
    return ApiClient(secrets_.server, secrets_.token)


@patient.command("add")
def patient_add(
    name: Annotated[str, typer.Option(help="Full name.")],
    dob: Annotated[str, typer.Option(help="Date of birth, YYYY-MM-DD.")],
    mrn: Annotated[str, typer.Option(help="Medical record number.")],
    province: Annotated[str, typer.Option(help="Province or territory of care, e.g. QC.")],
    hcn: Annotated[str | None, typer.Option(help="Health-card number.")] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Register a patient; prints the patient id used by other commands.

    Example: clinphoto patient add --name "Émilie Côté" --dob 1980-02-03 --mrn 1234567 --province QC
    """
    api = _api(profile)
    try:
        body = {"name": name, "dob": dob, "mrn": mrn, "hcn": hcn, "province": province}
        result = api.create_patient(body)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(result["id"])


@patient.command("find")
def patient_find(
    mrn: Annotated[str | None, typer.Option(help="Medical record number.")] = None,
    hcn: Annotated[str | None, typer.Option(help="Health-card number.")] = None,
    name: Annotated[str | None, typer.Option(help="Any part of the name.")] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Find patients by exactly one of MRN, health-card number or name (audited).

    Example: clinphoto patient find --mrn 1234567
    """
    query = {k: v for k, v in {"mrn": mrn, "hcn": hcn, "name": name}.items() if v}
    if len(query) != 1:
        raise _fail("give exactly one of --mrn, --hcn or --name")
    api = _api(profile)
    try:
        found = api.find_patients(**query)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    for p in found:
        out.print(f"{p['id']}  {p['name']}  {p['dob']}  MRN {p['mrn']}  {p['province']}")


@consent_cli.command("record")
def consent_record(
    patient_id: Annotated[str, typer.Option("--patient", help="Patient id.")],
    purpose: Annotated[
        list[str],
        typer.Option(help="clinical_care, education, research or publication; repeatable."),
    ],
    method: Annotated[str, typer.Option(help="verbal, written or electronic_signature.")],
    text_version: Annotated[str, typer.Option(help="Version of the consent text shown.")],
    informed_of_rights: Annotated[
        bool,
        typer.Option(
            "--informed-of-rights",
            help="The patient was told they may ask for a copy or deletion (required).",
        ),
    ] = False,
    witness: Annotated[str | None, typer.Option(help="Witness name (verbal consent).")] = None,
    identifiable_allowed: Annotated[bool, typer.Option("--identifiable-allowed")] = False,
    encounter: Annotated[str | None, typer.Option(help="Existing encounter id.")] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Record a patient's consent for an encounter; prints the encounter id for capture.

    Example: clinphoto consent record --patient 6f1c... --purpose clinical_care
    --method verbal --witness "N. Roy, RN" --informed-of-rights --text-version 2026-11-fr
    """
    api = _api(profile)
    try:
        result = api.record_consent(
            {
                "patient_id": patient_id,
                "encounter_id": encounter,
                "purposes": purpose,
                "method": method,
                "witness_name": witness,
                "informed_of_rights": informed_of_rights,
                "identifiable_allowed": identifiable_allowed,
                "text_version": text_version,
            }
        )
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    out.print(f"consent {result['id']}")
    out.print(f"encounter {result['encounter_id']}")
