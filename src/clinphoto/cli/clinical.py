"""Clinical commands of the device client: capture and open (more join as the API grows).

They reach the server only through the HTTP API. Plaintext is written only where the user
names a file; the local upload queue holds ciphertext only (STO-1).

The HTTP client, the cryptography and the imaging code are imported inside the commands,
after the passcode prompt where there is one, so that these commands start at once (see
clinphoto.cli.main and clinphoto.cli.device._unlock)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from clinphoto.cli.device import DEFAULT_PROFILE, ProfileOpt, _fail, _finish, _unlock
from clinphoto.cli.ui import parse_box, progress
from clinphoto.imaging.regions import Box

if TYPE_CHECKING:
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.outbox import Outbox, SyncReport
    from clinphoto.client.profile import DeviceSecrets

out = Console()
err = Console(stderr=True)


def capture(
    files: Annotated[list[Path], typer.Argument(help="JPEG files to capture.")],
    patient: Annotated[str, typer.Option(help="Patient id (from `patient find`).")],
    encounter: Annotated[str, typer.Option(help="Encounter id (from `consent record`).")],
    caption: Annotated[
        str | None, typer.Option(help="A caption, sealed with each photo (checked first).")
    ] = None,
    confirm_identifiers: ConfirmOpt = None,
    body_site: Annotated[
        str | None,
        typer.Option(help="Body site: a SNOMED CT body structure concept id (BEY-2)."),
    ] = None,
    side: Annotated[
        str | None, typer.Option(help="Laterality of the body site: left, right or both.")
    ] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Scrub, seal and upload photos for a patient's encounter.

    Each photo is scrubbed of metadata losslessly, named with a random id, sealed to the
    records key and your own active devices, signed by this device and put in the profile's
    outbox, then uploaded. The server refuses it unless a consent covers clinical care for
    the encounter. The sealed copy is deleted once the server confirms it; when the server
    cannot be reached it waits in the outbox (ciphertext only) and the next command that
    reaches the server sends it (`clinphoto sync`, `clinphoto outbox`). A file that cannot be
    made safe (unsupported, malformed, too large) is refused with the reason and the others
    are still captured; the exit status is then 2.

    Example: clinphoto capture wound.jpg --patient 6f1c... --encounter 93ab...
    """
    site = _body_site(body_site, side)
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.outbox import Outbox

    api = ApiClient(secrets_.server, secrets_.token)
    box = Outbox(profile / "queue")
    try:
        recipients = _own_recipients(api, profile)
        text = _sealed_text(
            api, "caption_sealed", caption, patient, recipients, confirm_identifiers
        )
        refused = 0
        with progress(len(files)) as bar:
            task = bar.add_task("sealing", total=len(files))
            for path in files:
                if not _seal_one(box, secrets_, path, patient, encounter, recipients, text, site):
                    refused += 1
                bar.advance(task)
        _report_sync(box.sync(api.send_sealed), profile)
    except ApiError as exc:
        raise _refused(exc, profile, api, secrets_) from None
    finally:
        _finish(api, profile, secrets_)
    if refused:
        raise _fail(f"{refused} of {len(files)} file(s) were not captured (see above)")


def _seal_one(
    box: Outbox,
    secrets_: DeviceSecrets,
    path: Path,
    patient: str,
    encounter: str,
    recipients: list[str],
    text: dict[str, object] | None,
    site: dict[str, str] | None,
) -> bool:
    """Seal one file into the outbox; False when it cannot be made safe (said on stderr)."""
    from clinphoto.client.capture import seal_capture
    from clinphoto.imaging.errors import ScrubError

    try:
        sealed = seal_capture(
            path.read_bytes(),
            patient_id=patient,
            encounter_id=encounter,
            device_id=secrets_.device_id,
            signing=secrets_.signing,
            recipients=recipients,
            text=text,
            body_site=site,
        )
    except ScrubError as exc:
        err.print(f"[red]refused:[/] {path}: cannot be captured safely ({exc.reason}): {exc}")
        return False
    except OSError as exc:
        err.print(f"[red]refused:[/] {path}: {exc.strerror}")
        return False
    box.add(sealed, label=f"photo {path.name}")
    return True


LATERALITY = {"left": "7771000", "right": "24028007", "both": "51440002"}


def _body_site(code: str | None, side: str | None) -> dict[str, str] | None:
    """The manifest's body site (BEY-2), checked before anything is sealed."""
    if code is None:
        if side is not None:
            raise _fail("--side needs --body-site")
        return None
    if not code.isascii() or not code.isdigit() or not 6 <= len(code) <= 18:
        raise _fail("--body-site must be a SNOMED CT concept id (6 to 18 digits)")
    site = {"system": "http://snomed.info/sct", "code": code}
    if side is not None:
        if side not in LATERALITY:
            raise _fail("--side must be left, right or both")
        site["laterality"] = LATERALITY[side]
    return site


def _report_sync(report: SyncReport, profile: Path) -> None:
    """Say what the outbox sent, refused, purged and still holds."""
    for item, receipt in report.sent:
        where = f" as {receipt['id']}" if receipt else " (the server already had it)"
        out.print(f"{item.label}: captured{where}")
    for item, reason in report.refused:
        err.print(f"[red]refused by the server:[/] {item.label}: {reason}")
    for item in report.purged:
        err.print(
            f"[yellow]purged unsent:[/] {item.label}: waited longer than the outbox keeps "
            "items (STO-1)"
        )
    if report.waiting:
        err.print(
            f"{len(report.waiting)} sealed item(s) wait in the outbox ({report.unreachable}); "
            "they are sent by the next command that reaches the server, or `clinphoto sync`"
        )
    if report.refused:
        raise _fail(f"{len(report.refused)} item(s) were refused by the server (see above)")


def _refused(exc: ApiError, profile: Path, api: ApiClient, secrets_: DeviceSecrets) -> typer.Exit:
    """The server's refusal as the command's error; a revoked device wipes what it holds:
    on the server's order, with a signed confirmation, when a wipe was queued for it (a
    device reported lost), else at once."""
    from clinphoto.client import status
    from clinphoto.client.profile import Profile

    if exc.code == "device_revoked":
        _finish(api, profile, secrets_)
        if Profile(profile).exists():
            status.erase(Profile(profile))
            return _fail(
                f"{exc.message}. This machine's copy of the device's keys and of its outbox "
                "was wiped (BRE-4)"
            )
    return _fail(exc.message)


def sync(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """Send what waits in the outbox, oldest first (sealed captures kept while offline).

    Example: clinphoto sync
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.outbox import Outbox

    api = ApiClient(secrets_.server, secrets_.token)
    box = Outbox(profile / "queue")
    try:
        report = box.sync(api.send_sealed)
        if not (report.sent or report.refused or report.waiting or report.purged):
            out.print("The outbox is empty.")
        _report_sync(report, profile)
    except ApiError as exc:
        raise _refused(exc, profile, api, secrets_) from None
    finally:
        _finish(api, profile, secrets_)
    if report.waiting:
        raise typer.Exit(3)


def outbox(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """List what waits in the outbox: sealed items not yet confirmed by the server.

    Needs no passcode and no network: the outbox holds ciphertext and signed manifests only.

    Example: clinphoto outbox
    """
    from rich.table import Table

    from clinphoto.client.outbox import Outbox

    items = Outbox(profile / "queue").items()
    if not items:
        out.print("The outbox is empty.")
        return
    table = Table("waiting since", "item", "attempts", "last error")
    for item in items:
        since = datetime.fromtimestamp(item.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        table.add_row(since, item.label, str(item.attempts), item.last_error or "")
    out.print(table)


ConfirmOpt = Annotated[
    str | None,
    typer.Option(
        "--confirm-identifiers",
        help="Send text with identifier warnings anyway: patient-requested, "
        "clinically-necessary or false-positive (audited).",
    ),
]


def _sealed_text(
    api: ApiClient,
    field: str,
    text: str | None,
    patient_id: str,
    recipients: list[str],
    confirmed: str | None,
) -> dict[str, object] | None:
    """Check a caption or message for identifiers (TRN-3) and seal it, or stop and say why."""
    from clinphoto.client.api import ApiError
    from clinphoto.client.text import UnresolvedWarnings, patient_identifiers, seal_text
    from clinphoto.core import protocol

    if text is None:
        return None
    if confirmed is not None and confirmed not in protocol.TEXT_CONFIRMATIONS:
        choices = ", ".join(protocol.TEXT_CONFIRMATIONS)
        raise _fail(f"--confirm-identifiers must be one of {choices}")
    try:
        patient = patient_identifiers(api.patient(patient_id))
    except ApiError as exc:
        if exc.status != 0:
            raise
        raise _fail(
            "a caption is checked against the patient's identifiers, which needs the server: "
            "capture without the caption now, or try again when the server can be reached"
        ) from None
    try:
        return seal_text(
            field, text, recipients=recipients, patient=patient, confirmed=confirmed
        ).fields
    except UnresolvedWarnings as exc:
        err.print("The text may identify the patient:")
        for f in exc.findings:
            err.print(f"  - {f.kind}: {f.reason} (characters {f.start}-{f.end})")
        raise _fail(
            "edit the text, or confirm it with --confirm-identifiers "
            + "|".join(protocol.TEXT_CONFIRMATIONS)
        ) from None


def _opened_field(secrets_: DeviceSecrets, media: dict[str, Any], field: str) -> str | None:
    """A sealed caption, message or patient details of a media object's manifest, opened on
    this device: with its own key, or with the grant a later device was given (decision 011).
    None when absent; CryptoError when this device cannot open it."""
    from clinphoto.client.grants import open_text

    sealed = json.loads(media["manifest"]).get(field)
    if not isinstance(sealed, str) or not sealed:
        return None
    grant = (media.get("sealed_text_grants") or {}).get(field)
    return open_text(sealed, secrets_.age, grant)


def _opened_patient(secrets_: DeviceSecrets, media: dict[str, Any]) -> list[str]:
    """The patient a share is about, opened from its sealed details (empty if none)."""
    from clinphoto import crypto
    from clinphoto.core import protocol

    try:
        opened = _opened_field(secrets_, media, protocol.SEALED_PATIENT_FIELD)
        details = json.loads(opened) if opened is not None else {}
    except (crypto.CryptoError, ValueError):
        return ["(patient details could not be opened on this device)"]
    labels = {"name": "", "dob": "born ", "mrn": "MRN ", "hcn": "health card ", "province": ""}
    return [labels[k] + str(details[k]) for k in labels if details.get(k)]


def _opened_text(secrets_: DeviceSecrets, media: dict[str, Any], field: str) -> str | None:
    from clinphoto import crypto

    try:
        return _opened_field(secrets_, media, field)
    except (crypto.CryptoError, ValueError):
        return "(this device cannot open the text)"


def _own_recipients(api: ApiClient, profile: Path | None = None) -> list[str]:
    """The records key and this user's active devices: who every capture is sealed to.

    With ``profile``, the list is kept there (public keys only) so that a capture can be
    sealed while the server cannot be reached; the last list the server gave is used then.
    """
    from clinphoto.client.api import ApiError
    from clinphoto.client.profile import RECIPIENTS_CACHE

    cache = profile / RECIPIENTS_CACHE if profile is not None else None
    try:
        me = api.me()
        found = [me["records_recipient"]] + [
            d["age_recipient"] for d in api.devices() if d["status"] == "active"
        ]
    except ApiError as exc:
        if exc.status != 0 or cache is None or not cache.exists():
            raise
        err.print("[yellow]offline:[/] sealing to the recipients this device last saw")
        return [str(r) for r in json.loads(cache.read_text(encoding="utf-8"))]
    if cache is not None:
        cache.write_text(json.dumps(found), encoding="utf-8")
    return found


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
    from clinphoto import crypto
    from clinphoto.client.capture import open_capture

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

    clinphoto keeps no copy: the file is yours to protect and delete. If a share you opened
    is recalled by its sender, clinphoto says so at your next command but cannot delete the
    file you wrote.

    Example: clinphoto open 0c1d... --out /secure/tmp/wound.jpg --purpose clinical_care
    Example: clinphoto open --share 7a2e... --out /secure/tmp/referral.jpg
    """
    if out_file.exists():
        raise _fail(f"{out_file} exists; refusing to overwrite it")
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

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
        _finish(api, profile, secrets_)
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
    message: Annotated[
        str | None, typer.Option(help="A note for the recipient, sealed with the photo.")
    ] = None,
    confirm_identifiers: ConfirmOpt = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Share a photo with a colleague: shows who and which devices, then re-seals to them.

    You see the recipient's name, role, institution and device fingerprints and confirm.
    This device opens the photo, re-seals it to the recipient's devices and the records
    key, and signs it. `clinphoto shares MEDIA` shows sent / delivered / acknowledged.

    A --message is checked for the patient's identifiers and identifier patterns first
    (TRN-3): edit it, or send it anyway with --confirm-identifiers REASON (audited).

    Example: clinphoto share 0c1d... --to b.gagnon@chu.example --purpose clinical_care
    --message "Day 3 post-op, please review the margin"
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.capture import reseal_for_share
    from clinphoto.client.text import seal_patient

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
        recipients = [d["age_recipient"] for d in recipient["devices"]] + [me["records_recipient"]]
        text = _sealed_text(
            api, "message_sealed", message, meta["patient_id"], recipients, confirm_identifiers
        )
        # Which patient, for the recipient's inbox: sealed to them, never in clear.
        about = seal_patient(api.patient(meta["patient_id"]), recipients)
        sealed = reseal_for_share(
            plain,
            device_id=secrets_.device_id,
            signing=secrets_.signing,
            recipients=recipients,
            recipient_user_id=recipient["id"],
            purpose=purpose,
            text={**(text or {}), **about},
            content_type=meta["content_type"],
        )
        result = api.send_share(
            media_id, sealed.manifest_bytes, sealed.signature, sealed.ciphertext
        )
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(f"shared as {result['id']} ({result['status']})")


def shares(
    media_id: Annotated[
        str | None, typer.Argument(help="A photo you captured; without it, all your shares.")
    ] = None,
    waiting: Annotated[
        bool,
        typer.Option("--waiting", help="Only shares not yet acknowledged (nor recalled)."),
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Show your shares, newest first: to whom, and sent, delivered or acknowledged.

    With a photo, that photo's shares; without one, every share you sent (the most recent
    --limit), so you can follow up on those not acknowledged yet (--waiting).

    Example: clinphoto shares --waiting
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        if media_id is None:
            found = api.sent_shares(limit=limit, waiting=waiting)
        else:
            found = [s for s in api.shares_of(media_id) if not waiting or _waiting(s)]
        for s in found:
            to = s["recipient_name"] + (
                f", {s['recipient_institution']}" if s["recipient_institution"] else ""
            )
            state = "recalled" if s.get("recalled_at") else s["status"]
            photo = f"  photo {s['original_media_id']}" if media_id is None else ""
            out.print(
                f"{s['id']}  {s['sent_at'][:16].replace('T', ' ')}  to {to}  {state}"
                f"  {s['purpose']}{photo}",
                markup=False,
                soft_wrap=True,
            )
        if not found:
            out.print("No shares waiting." if waiting else "No shares.")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)


def _waiting(share: dict[str, Any]) -> bool:
    return not share.get("acknowledged_at") and not share.get("recalled_at")


def inbox(profile: ProfileOpt = DEFAULT_PROFILE) -> None:
    """List photos shared with you.

    Example: clinphoto inbox
    """
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        for item in api.inbox():
            s = item["share"]
            sender = item["sender_name"] + (
                f", {item['sender_institution']}" if item["sender_institution"] else ""
            )
            out.print(f"{s['id']}  from {sender}  {s['status']}  {s['purpose']}  {s['sent_at']}")
            patient = _opened_patient(secrets_, item["media"])
            if patient:
                out.print("    about: " + ", ".join(patient))
            note = _opened_text(secrets_, item["media"], "message_sealed")
            if note is not None:
                out.print(f"    message: {note}")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)


def ack(
    share_id: Annotated[str, typer.Argument(help="The share you received.")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Acknowledge receipt of a shared photo with this device's signature.

    Example: clinphoto ack 7a2e...
    """
    secrets_ = _unlock(profile)
    from clinphoto import crypto
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.core import protocol

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        item = _inbox_item(api, share_id)
        message = protocol.ack_message(share_id, item["media"]["plaintext_sha256"])
        result = api.ack(share_id, crypto.sign(secrets_.signing, message))
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(f"share {result['id']} {result['status']}")


patient = typer.Typer(help="Register and find patients (identifiers are encrypted at rest).")
consent_cli = typer.Typer(help="Record consent for an encounter (CON-1 to CON-3).")


def _api(profile: Path) -> tuple[ApiClient, DeviceSecrets]:
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient

    return ApiClient(secrets_.server, secrets_.token), secrets_


@contextmanager
def _connected(profile: Path) -> Iterator[ApiClient]:
    """The device's API client for one command; a refusal ends it with the server's words.
    The device's status report follows the command's requests (decision 014)."""
    api, secrets_ = _api(profile)
    from clinphoto.client.api import ApiError

    try:
        yield api
    except ApiError as exc:
        raise _refused(exc, profile, api, secrets_) from None
    finally:
        _finish(api, profile, secrets_)


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
    with _connected(profile) as api:
        body = {"name": name, "dob": dob, "mrn": mrn, "hcn": hcn, "province": province}
        result = api.create_patient(body)
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
    with _connected(profile) as api:
        found = api.find_patients(**query)
    if not found:
        out.print("no patient found" + (" among your patients" if name else ""))
    for p in found:
        relation = p.get("relation") or "not on the care team yet (recording consent joins it)"
        out.print(f"{p['id']}  {p['name']}  {p['dob']}  {p['province']}  {relation}")


@patient.command("open")
def patient_open(
    patient_id: Annotated[str, typer.Argument(help="Patient id (from `patient find --mrn`).")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Open an encounter for a patient: you join their care team (audited).

    Any clinician may, e.g. after finding the patient by the MRN on their wristband.
    Recording consent without --encounter opens one too.

    Example: clinphoto patient open 6f1c...
    """
    with _connected(profile) as api:
        encounter = api.open_encounter(patient_id)
    out.print(f"encounter {encounter['id']}")


@patient.command("team")
def patient_team(
    patient_id: Annotated[str, typer.Argument(help="Patient id.")],
    add: Annotated[
        str | None, typer.Option(help="Add this clinician (e-mail) to the care team.")
    ] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Show a patient's care team, or add a colleague to it (team members only; audited).

    Example: clinphoto patient team 6f1c... --add b.gagnon@chu.example
    """
    with _connected(profile) as api:
        if add is not None:
            member = api.add_care_team_member(patient_id, add)
            out.print(f"added {add} ({member['user_id']})")
        for member in api.care_team(patient_id):
            who = member.get("display_name") or "?"
            out.print(f"{member['user_id']}  {member['source']}  {who}  {member['added_at']}")


@patient.command("override")
def patient_override(
    patient_id: Annotated[str, typer.Argument(help="Patient id.")],
    reason: Annotated[str, typer.Option(help="Why, in a sentence; privacy officers review it.")],
    minutes: Annotated[int, typer.Option(help="How long, at most 720.")] = 60,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Break the glass: time-limited access to a patient outside your care teams.

    For emergencies only. The reason is recorded, the access is audited as an override,
    and a privacy officer reviews it.

    Example: clinphoto patient override 6f1c... --reason "unconscious in the ER, team
    unreachable" --minutes 30
    """
    with _connected(profile) as api:
        row = api.emergency_override(patient_id, reason, minutes)
    out.print(f"override {row['id']} until {row['expires_at']} (reviewed by a privacy officer)")


@consent_cli.command("record")
def consent_record(
    patient_id: Annotated[str, typer.Option("--patient", help="Patient id.")],
    purpose: Annotated[
        list[str],
        typer.Option(help="clinical_care, education, research or publication; repeatable."),
    ],
    method: Annotated[str, typer.Option(help="verbal, written or electronic_signature.")],
    text_version: Annotated[
        str,
        typer.Option(
            help="Id of the consent text the patient read, as the server keeps it word for "
            "word: 2026-11-en or 2026-11-fr ship with clinphoto; an institution adds its "
            "own forms (GET /v1/consent-texts lists them).",
        ),
    ],
    informed_of_rights: Annotated[
        bool,
        typer.Option(
            "--informed-of-rights",
            help="The patient was told they may ask for a copy or deletion (required).",
        ),
    ] = False,
    witness: Annotated[str | None, typer.Option(help="Witness name (verbal consent).")] = None,
    identifiable_allowed: Annotated[
        bool,
        typer.Option("--identifiable-allowed", help="Identifiable images may be used (CON-4)."),
    ] = False,
    unsecure_channel_allowed: Annotated[
        bool,
        typer.Option(
            "--unsecure-channel-allowed",
            help="The patient allows unsecure channels, each use still confirmed (CON-6).",
        ),
    ] = False,
    foreign_storage_allowed: Annotated[
        bool, typer.Option("--foreign-storage-allowed", help="Storage outside Canada allowed.")
    ] = False,
    signature: Annotated[
        Path | None,
        typer.Option(help="An image of the patient's signature; scrubbed and sealed like a photo."),
    ] = None,
    encounter: Annotated[str | None, typer.Option(help="Existing encounter id.")] = None,
    renews_withdrawn: Annotated[
        bool,
        typer.Option(
            "--renews-withdrawn",
            help="This consent renews purposes the patient withdrew in this encounter.",
        ),
    ] = False,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Record a patient's consent for an encounter; prints the encounter id for capture.

    With --signature the signature image is scrubbed, sealed to the records key and your
    own devices, and bound to the consent record by its hash (open it later with
    `clinphoto open SIGNATURE_ID --out FILE`).

    Example: clinphoto consent record --patient 6f1c... --purpose clinical_care
    --method verbal --witness "N. Roy, RN" --informed-of-rights --text-version 2026-11-fr

    Example: clinphoto consent record --patient 6f1c... --purpose clinical_care
    --purpose education --method electronic_signature --signature sig.jpg
    --informed-of-rights --text-version 2026-11-en
    """
    image = None
    if signature is not None:
        try:
            image = signature.read_bytes()
        except OSError as exc:
            raise _fail(f"{signature}: {exc.strerror}") from None
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError

    api = ApiClient(secrets_.server, secrets_.token)
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
                "unsecure_channel_allowed": unsecure_channel_allowed,
                "foreign_storage_allowed": foreign_storage_allowed,
                "text_version": text_version,
                "renews_withdrawn": renews_withdrawn,
            }
        )
        out.print(f"consent {result['id']}")
        out.print(f"encounter {result['encounter_id']}")
        if image is not None:
            sig = _attach_signature(api, secrets_, result, image)
            out.print(f"signature {sig['id']}")
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)


@consent_cli.command("list")
def consent_list(
    patient_id: Annotated[str, typer.Option("--patient", help="Patient id.")],
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """A patient's consents: purposes still in force, withdrawals, status (care team only).

    Example: clinphoto consent list --patient 6f1c...
    """
    with _connected(profile) as api:
        found = api.consents(patient_id)
    if not found:
        out.print("no consent recorded")
    for c in found:
        effective = ", ".join(c["effective_purposes"]) or "nothing (all withdrawn)"
        out.print(
            f"{c['id']}  encounter {c['encounter_id']}  {c['status']}  "
            f"{c['method'] or 'to follow'}  covers: {effective}"
        )


@consent_cli.command("withdraw")
def consent_withdraw(
    consent_id: Annotated[str, typer.Argument(help="The consent (from `consent list`).")],
    purpose: Annotated[
        list[str] | None,
        typer.Option(help="A purpose to withdraw; repeatable. Omit to withdraw all."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="The patient's reason, if given.")] = None,
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Record that the patient withdraws consent, for some purposes or all (CON-7).

    Later views, shares and exports for a withdrawn purpose are refused; only a new
    consent documented as renewing it brings it back.

    Example: clinphoto consent withdraw 93e0... --purpose publication
    """
    with _connected(profile) as api:
        result = api.withdraw_consent(consent_id, purpose or None, reason)
    effective = ", ".join(result["effective_purposes"]) or "nothing"
    out.print(f"consent {result['id']} now covers: {effective}")


def _attach_signature(
    api: ApiClient, secrets_: DeviceSecrets, consent: dict[str, Any], image: bytes
) -> dict[str, Any]:
    from clinphoto.client.capture import seal_capture
    from clinphoto.imaging.errors import ScrubError

    try:
        sealed = seal_capture(
            image,
            patient_id=consent["patient_id"],
            encounter_id=consent["encounter_id"],
            device_id=secrets_.device_id,
            signing=secrets_.signing,
            recipients=_own_recipients(api),
            consent_id=consent["id"],
        )
    except ScrubError as exc:
        raise _fail(f"the signature image cannot be stored safely: {exc}") from None
    return api.upload_consent_signature(
        consent["id"], sealed.manifest_bytes, sealed.signature, sealed.ciphertext
    )


def inspection(
    media_id: Annotated[str, typer.Argument(help="A photo you captured.")],
    wait: Annotated[
        float, typer.Option(help="Wait up to this many seconds for the verdict.")
    ] = 0.0,
    purpose: Annotated[str, typer.Option(help="Why you look; the consent must cover it.")] = (
        "clinical_care"
    ),
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Show the custodian's verdict on a photo: identifiable or not, why, and where.

    Exit status: 0 not identifiable, 1 identifiable (or the inspection failed), 3 still
    pending after --wait.

    Example: clinphoto inspection 0c1d... --wait 30
    """
    api, secrets_ = _api(profile)
    from clinphoto.client.api import ApiError

    deadline = time.monotonic() + wait
    try:
        while True:
            verdict = api.inspection(media_id, purpose)
            if verdict["status"] != "pending" or time.monotonic() >= deadline:
                break
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    if verdict["status"] == "pending":
        out.print("pending: the custodian has not inspected this photo yet")
        raise typer.Exit(3)
    label = "identifiable" if verdict["identifiable"] else "not identifiable"
    out.print(f"{verdict['status']}: {label}")
    for reason in verdict["reasons"]:
        out.print(f"  - {reason}")
    for region in verdict["regions"]:
        x, y, w, h = region["box"]
        out.print(f"  {region['kind']} at {x},{y} {w}x{h} (score {region['score']})")
    if verdict["identifiable"]:
        raise typer.Exit(1)


def redact_media(
    media_id: Annotated[str, typer.Argument(help="A photo you captured.")],
    box: Annotated[
        list[str] | None, typer.Option(help="A region x,y,w,h in displayed pixels; repeatable.")
    ] = None,
    suggested: Annotated[
        bool, typer.Option("--suggested", help="Also redact every region the custodian found.")
    ] = False,
    method: Annotated[str, typer.Option(help="box, blur or pixelate.")] = "box",
    profile: ProfileOpt = DEFAULT_PROFILE,
) -> None:
    """Make a redacted version of a photo, sealed and uploaded as a new derived version.

    The original is never changed. The redacted version is inspected in turn, and can be
    shared when it is no longer identifiable.

    Example: clinphoto redact-media 0c1d... --suggested --method blur
    Example: clinphoto redact-media 0c1d... --box 1200,300,400,420
    """
    regions = [parse_box(b) for b in box or []]
    if method not in ("box", "blur", "pixelate"):
        raise _fail("--method must be box, blur or pixelate")
    secrets_ = _unlock(profile)
    from clinphoto.client.api import ApiClient, ApiError
    from clinphoto.client.capture import seal_capture
    from clinphoto.imaging.errors import ScrubError
    from clinphoto.imaging.inspect import open_picture
    from clinphoto.imaging.redact import redact_to_jpeg

    api = ApiClient(secrets_.server, secrets_.token)
    try:
        meta, ciphertext, key = _open_own(api, media_id, "clinical_care")
        if suggested:
            verdict = api.inspection(media_id, "clinical_care")
            regions += [Box(*r["box"]) for r in verdict["regions"]]
        if not regions:
            raise _fail("nothing to redact: give --box or --suggested")
        plain = _decrypt(secrets_, meta, ciphertext, key)
        try:
            shown = open_picture(plain)
        except (OSError, ScrubError) as exc:
            raise _fail(f"this photo cannot be redacted here: {exc}") from None
        redacted = redact_to_jpeg(shown, regions, method)  # type: ignore[arg-type]
        sealed = seal_capture(
            redacted,
            patient_id=meta["patient_id"],
            encounter_id=meta["encounter_id"],
            device_id=secrets_.device_id,
            signing=secrets_.signing,
            recipients=_own_recipients(api),
            derived_from=media_id,
        )
        result = api.upload_media(sealed.manifest_bytes, sealed.signature, sealed.ciphertext)
    except ApiError as exc:
        raise _fail(exc.message) from None
    finally:
        _finish(api, profile, secrets_)
    out.print(f"redacted {len(regions)} region(s); new version {result['id']}")
