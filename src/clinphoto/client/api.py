"""A small client for clinphoto's HTTP API: the only way the device client reaches the server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from clinphoto import crypto
from clinphoto.core import protocol
from clinphoto.core.protocol import login_message


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status, self.code, self.message = status, code, message


class ApiClient:
    def __init__(self, server: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=timeout)
        self.unreachable = False  # a call could not reach the server (nothing more is tried)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.unreachable = True
            raise ApiError(0, "unreachable", f"cannot reach the server: {exc}") from None
        if response.status_code >= 400:
            try:
                err = response.json()["error"]
                raise ApiError(response.status_code, err["code"], err["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(response.status_code, "http_error", response.text[:200]) from None
        return response.json() if response.content else None

    def _download(self, path: str, params: dict[str, str]) -> bytes:
        """A ciphertext body; errors arrive in the API's one JSON error shape."""
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            self.unreachable = True
            raise ApiError(0, "unreachable", f"cannot reach the server: {exc}") from None
        if response.status_code >= 400:
            err = response.json().get("error", {})
            raise ApiError(
                response.status_code, err.get("code", "http_error"), err.get("message", "")
            )
        return response.content

    def enroll(
        self, *, code: str, password: str, device_name: str, age: str, signing_public: str
    ) -> dict[str, Any]:
        body = {
            "code": code,
            "password": password,
            "device_name": device_name,
            "age_recipient": age,
            "signing_public": signing_public,
        }
        result: dict[str, Any] = self._call("POST", "/v1/enroll", json=body)
        return result

    def login(
        self, *, email: str, password: str, device_id: str, signing: crypto.SigningKey
    ) -> dict[str, Any]:
        ts = datetime.now(UTC).isoformat()
        body = {
            "email": email,
            "password": password,
            "device_id": device_id,
            "timestamp": ts,
            "signature": crypto.sign(signing, login_message(device_id, email, ts)),
        }
        result: dict[str, Any] = self._call("POST", "/v1/sessions", json=body)
        return result

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/v1/me")
        return result

    def devices(self, user_id: str | None = None) -> list[dict[str, Any]]:
        params = {"user_id": user_id} if user_id else None
        result: list[dict[str, Any]] = self._call("GET", "/v1/devices", params=params)
        return result

    def users(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/v1/users")
        return result

    def revoke_device(self, device_id: str) -> dict[str, Any]:
        """Revoke by id, or by the first 8 or more characters of it."""
        ref = quote(device_id, safe="")
        result: dict[str, Any] = self._call("DELETE", f"/v1/devices/{ref}")
        return result

    def enrollment_code(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/v1/enrollment-codes", json={})
        return result

    def upload_media(
        self, manifest_bytes: bytes, signature: str, ciphertext: bytes, path: str = "/v1/media"
    ) -> dict[str, Any]:
        headers = {
            protocol.MANIFEST_HEADER: protocol.manifest_header(manifest_bytes),
            protocol.SIGNATURE_HEADER: signature,
            "Content-Type": "application/octet-stream",
        }
        chunk = 1 << 20
        body = (ciphertext[i : i + chunk] for i in range(0, len(ciphertext), chunk))
        result: dict[str, Any] = self._call("POST", path, content=body, headers=headers)
        return result

    def send_sealed(
        self, manifest_bytes: bytes, signature: str, ciphertext: bytes, path: str
    ) -> dict[str, Any]:
        """An outbox item to its upload route (/v1/media, a consent's signature, a share)."""
        return self.upload_media(manifest_bytes, signature, ciphertext, path=path)

    def media(self, media_id: str, purpose: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", f"/v1/media/{media_id}", params={"purpose": purpose}
        )
        return result

    def inspection(self, media_id: str, purpose: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", f"/v1/media/{media_id}/inspection", params={"purpose": purpose}
        )
        return result

    def media_content(self, media_id: str, purpose: str) -> bytes:
        return self._download(f"/v1/media/{media_id}/content", {"purpose": purpose})

    def create_patient(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/v1/patients", json=body)
        return result

    def patient(self, patient_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/v1/patients/{patient_id}")
        return result

    def find_patients(self, **query: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/v1/patients", params=query)
        return result

    def open_encounter(self, patient_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/v1/patients/{patient_id}/encounters")
        return result

    def care_team(self, patient_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/v1/patients/{patient_id}/care-team")
        return result

    def add_care_team_member(self, patient_id: str, email: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/v1/patients/{patient_id}/care-team", json={"email": email}
        )
        return result

    def emergency_override(self, patient_id: str, reason: str, minutes: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            f"/v1/patients/{patient_id}/emergency-override",
            json={"reason": reason, "minutes": minutes},
        )
        return result

    def consents(self, patient_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/v1/patients/{patient_id}/consents")
        return result

    def withdraw_consent(
        self, consent_id: str, purposes: list[str] | None, reason: str | None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST",
            f"/v1/consents/{consent_id}/withdrawals",
            json={"purposes": purposes, "reason": reason},
        )
        return result

    def upload_consent_signature(
        self, consent_id: str, manifest_bytes: bytes, signature: str, ciphertext: bytes
    ) -> dict[str, Any]:
        return self.upload_media(
            manifest_bytes, signature, ciphertext, path=f"/v1/consents/{consent_id}/signature"
        )

    def record_consent(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/v1/consents", json=body)
        return result

    def directory(self, email: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/v1/directory", params={"email": email})
        return result

    def send_share(
        self, media_id: str, manifest_bytes: bytes, signature: str, ciphertext: bytes
    ) -> dict[str, Any]:
        headers = {
            protocol.MANIFEST_HEADER: protocol.manifest_header(manifest_bytes),
            protocol.SIGNATURE_HEADER: signature,
            "Content-Type": "application/octet-stream",
        }
        result: dict[str, Any] = self._call(
            "POST", f"/v1/media/{media_id}/shares", content=ciphertext, headers=headers
        )
        return result

    def sent_shares(self, *, limit: int = 50, waiting: bool = False) -> list[dict[str, Any]]:
        """Every share this user sent, newest first (``GET /v1/shares/sent``)."""
        params: dict[str, Any] = {"limit": limit, "waiting": "true" if waiting else "false"}
        result: list[dict[str, Any]] = self._call("GET", "/v1/shares/sent", params=params)
        return result

    def shares_of(self, media_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/v1/media/{media_id}/shares")
        return result

    def inbox(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/v1/inbox")
        return result

    def share_content(self, share_id: str) -> bytes:
        return self._download(f"/v1/shares/{share_id}/content", {})

    def ack(self, share_id: str, signature: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/v1/shares/{share_id}/ack", json={"signature": signature}
        )
        return result

    # --- device status (docs/wire/device-status.md; decision 014) ------------------------

    def register_status_key(self, public_key: str) -> None:
        self._call("PUT", "/v1/devices/current/status-key", json={"public_key": public_key})

    def report_status(self, body: dict[str, Any]) -> dict[str, Any]:
        """No session: the body is signed by the status key."""
        result: dict[str, Any] = self._call("POST", "/v1/device-status", json=body)
        return result

    def confirm_wipe(self, body: dict[str, Any]) -> None:
        self._call("POST", "/v1/device-status/wipe-confirmation", json=body)

    def confirm_share_deleted(self, body: dict[str, Any]) -> None:
        self._call("POST", "/v1/device-status/delete-confirmation", json=body)
