"""Documents and files handed to the caller as downloads: PDF reports, letters and forms, a
patient's sealed package. Every API response is already ``Cache-Control: no-store`` (the
request guard, guard.py), so nothing here is kept by a browser or a proxy."""

from __future__ import annotations

from typing import Any

from fastapi import Response

PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The document, as PDF"}
}
OCTET_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}}
}


def attachment(data: bytes, filename: str, media_type: str = "application/pdf") -> Response:
    """``data`` as a download named ``filename`` (ids and codes only: never a patient's name)."""
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
