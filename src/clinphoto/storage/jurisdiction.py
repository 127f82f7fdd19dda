"""Where a blob store keeps its data, and on what assurance (TRN-2, CLD-1).

Each blob store declares, in the settings, its *jurisdiction* (an ISO 3166 country or
subdivision code: ``CA``, ``CA-ON``, ``US-VA``) and its *certification* (the assurance the
operator relies on for it: an audit report, a certificate, or, for the embedded store on the
server's own disk, the operator's own statement). ``clinphoto serve`` refuses a store that
declares either one badly or not at all. Media of a patient go to a store outside Canada
only if that patient's consent allows storage outside Canada (``foreign_storage_allowed``,
CON-1); the media service refuses, audited, otherwise.
"""

from __future__ import annotations

import re

CANADA = "CA"
_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def in_canada(jurisdiction: str) -> bool:
    """Whether a store declared in ``jurisdiction`` keeps its data in Canada."""
    code = jurisdiction.strip().upper()
    return bool(_CODE.fullmatch(code)) and code.split("-")[0] == CANADA


def declaration_problems(jurisdiction: str, certification: str) -> list[str]:
    """What is wrong with a store's declaration, one sentence per problem naming the
    setting; empty when the store may serve."""
    problems = []
    if not _CODE.fullmatch(jurisdiction.strip().upper()):
        problems.append(
            f"CLINPHOTO_STORAGE_JURISDICTION={jurisdiction!r} is not an ISO 3166 code: declare "
            "where the blob store keeps its data, e.g. CA, CA-ON or CA-QC (TRN-2, CLD-1)."
        )
    if not certification.strip():
        problems.append(
            "CLINPHOTO_STORAGE_CERTIFICATION is empty: declare the assurance you rely on for "
            "the blob store (e.g. 'ISO/IEC 27001:2022, certificate 1234; SOC 2 Type II 2026'), "
            "or, for the server's own disk, the operator's statement (the default) (CLD-1)."
        )
    return problems
