"""The CLI device's status reports, remote wipe and recalled shares (BRE-2, BRE-4, BRE-5).

After a command's main request, the device registers its status key once (with the
session), then reports, signed by the status key (docs/wire/device-status.md): unlocked (the
passcode was given for this command), and what its outbox still holds. The outbox's manifests
are not sealed, so ``holding`` is always known here. The answer may order a wipe: the
confirmation is signed first (the status key is erased with the rest), then the vault, the
status key, the outbox and the cached recipients are erased, then the confirmation is sent;
if it cannot be sent it waits in ``wipe-confirmation.json`` (ids and counts, nothing about a
patient) and goes with the next command run on this profile. The answer may list recalled
shares: the CLI keeps no copy of a share (``open --share --out`` writes a file the user names,
which clinphoto cannot reach), so it confirms each and says so.

Nothing here is fatal to the command: a report that fails is said in one line and skipped.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinphoto import crypto
from clinphoto.client.api import ApiClient, ApiError
from clinphoto.client.outbox import Outbox
from clinphoto.client.profile import (
    OUTBOX,
    RECIPIENTS_CACHE,
    Profile,
    ProfileError,
    StatusKey,
)
from clinphoto.core import protocol

PENDING_CONFIRMATION = "wipe-confirmation.json"
TIMEOUT_SECONDS = 10.0


def wire_now() -> str:
    """Now, as the wire writes times (UTC, whole seconds, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def holding(outbox: Outbox) -> list[dict[str, str]]:
    """The captures waiting in the outbox, by their random ids (patient, encounter, media)."""
    held = []
    for item in outbox.items():
        try:
            manifest = json.loads(item.manifest)
            held.append(
                {
                    "patient_id": str(manifest["patient_id"]),
                    "encounter_id": str(manifest["encounter_id"]),
                    "media_id": str(manifest.get("object_id") or item.object_id),
                }
            )
        except (ValueError, KeyError, TypeError):
            continue
    return held[: protocol.MAX_STATUS_HOLDING]


@dataclass
class Outcome:
    """What the report led to, for the command to say."""

    wiped: dict[str, Any] | None = None  # what was erased, on the server's order
    wipe_confirmed: bool = False
    recalled_shares: list[str] = field(default_factory=list)  # confirmed as deleted
    problem: str | None = None  # why no report was made (never fatal)


def _signed_report(key: StatusKey, held: list[dict[str, str]] | None) -> dict[str, Any]:
    at = wire_now()
    message = protocol.device_status_message(key.device_id, at, False, None, held)
    return {
        "device_id": key.device_id,
        "time": at,
        "locked": False,
        "locked_since": None,
        "holding": held,
        "signature": crypto.sign(key.signing, message),
    }


def report(session: ApiClient, server: str, profile: Profile, device_id: str) -> Outcome:
    """Register the status key if needed (``session``: the command's signed-in client),
    report, and do what the answer says. Never raises for the server's or the network's
    sake: the outcome's ``problem`` says why nothing was done."""
    if session.unreachable or not profile.exists():
        return Outcome()  # the command said the server was not reached; or nothing is left
    try:
        key = profile.ensure_status_key(device_id)
        if not key.registered:
            session.register_status_key(key.public)
            key.registered = True
            profile.save_status_key(key)
    except (ApiError, ProfileError, crypto.CryptoError) as exc:
        return Outcome(problem=f"its status key is not registered ({exc or 'unreadable'})")
    box = Outbox(profile.directory / OUTBOX)
    api = ApiClient(server, timeout=TIMEOUT_SECONDS)  # no session: the report is signed
    try:
        answer = api.report_status(_signed_report(key, holding(box)))
        outcome = Outcome()
        if answer.get("wipe"):
            outcome.wiped, outcome.wipe_confirmed = _wipe(api, server, profile, key, answer["wipe"])
            return outcome
        for share_id in answer.get("delete_shares") or []:
            _confirm_deleted(api, key, str(share_id))
            outcome.recalled_shares.append(str(share_id))
        return outcome
    except ApiError as exc:
        return Outcome(problem=exc.message)
    except OSError as exc:
        return Outcome(problem=f"{exc.strerror}: {exc.filename}")
    finally:
        api.close()


def _inventory(profile: Profile) -> dict[str, Any]:
    """What this device holds, in the wire's words (``erased`` of a wipe confirmation)."""
    return {
        "vault": profile.exists(),
        "outbox_items": len(Outbox(profile.directory / OUTBOX).items()),
        "databases": 0,
        "caches": 1 if (profile.directory / RECIPIENTS_CACHE).exists() else 0,
    }


def erase(profile: Profile) -> dict[str, Any]:
    """Erase what this device holds: the vault and the status key, the outbox, the cached
    recipients. Returns what was erased."""
    erased = _inventory(profile)
    profile.wipe()
    shutil.rmtree(profile.directory / OUTBOX, ignore_errors=True)
    (profile.directory / RECIPIENTS_CACHE).unlink(missing_ok=True)
    return erased


def _wipe(
    api: ApiClient, server: str, profile: Profile, key: StatusKey, order: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Sign the confirmation, erase, then send it (kept for the next command if it fails)."""
    erased = _inventory(profile)
    wipe_id, wiped_at = str(order["wipe_id"]), wire_now()
    message = protocol.wipe_confirmation_message(key.device_id, wipe_id, wiped_at, erased)
    body = {
        "device_id": key.device_id,
        "wipe_id": wipe_id,
        "wiped_at": wiped_at,
        "erased": erased,
        "signature": crypto.sign(key.signing, message),
    }
    pending = profile.directory / PENDING_CONFIRMATION
    # Kept until it is sent, in case it cannot be; if it cannot be kept, erase all the same.
    with contextlib.suppress(OSError):
        pending.write_text(json.dumps({"server": server, "body": body}), "utf-8")
    erase(profile)
    return erased, _send_confirmation(api, pending, body)


def _send_confirmation(api: ApiClient, pending: Path, body: dict[str, Any]) -> bool:
    try:
        api.confirm_wipe(body)
    except ApiError:
        return False
    pending.unlink(missing_ok=True)
    return True


def send_pending_confirmation(directory: Path) -> bool | None:
    """Send a wipe confirmation left by an earlier command; None when there is none."""
    pending = directory / PENDING_CONFIRMATION
    try:
        doc = json.loads(pending.read_text(encoding="utf-8"))
        server, body = str(doc["server"]), dict(doc["body"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    api = ApiClient(server, timeout=TIMEOUT_SECONDS)
    try:
        return _send_confirmation(api, pending, body)
    finally:
        api.close()


def _confirm_deleted(api: ApiClient, key: StatusKey, share_id: str) -> None:
    """The CLI keeps no copy of a share: confirm, signed, that it holds none."""
    at = wire_now()
    message = protocol.share_deleted_message(key.device_id, share_id, at)
    api.confirm_share_deleted(
        {
            "device_id": key.device_id,
            "share_id": share_id,
            "deleted_at": at,
            "signature": crypto.sign(key.signing, message),
        }
    )
