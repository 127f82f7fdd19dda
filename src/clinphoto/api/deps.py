"""Request-scoped dependencies: the unit of work and the authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from clinphoto.accounts import service as accounts
from clinphoto.accounts.service import Principal
from clinphoto.crypto import FAST_TEST_KDF, RFC9106_KDF, KdfParams
from clinphoto.instance.runtime import Instance


def get_instance(request: Request) -> Instance:
    inst = request.app.state.instance
    assert isinstance(inst, Instance)
    return inst


def kdf_params(inst: Annotated[Instance, Depends(get_instance)]) -> KdfParams:
    return FAST_TEST_KDF if inst.settings.kdf_profile == "test" else RFC9106_KDF


def unit_of_work(inst: Annotated[Instance, Depends(get_instance)]) -> Iterator[Session]:
    """One transaction per request: committed after the handler returns, else rolled back."""
    with inst.unit_of_work() as db:
        yield db


def current_session(
    request: Request, inst: Annotated[Instance, Depends(get_instance)]
) -> Principal:
    """The principal behind ``Authorization: Bearer <token>``; every non-public route uses it.

    Checked in its own short transaction, so that a handler streaming a large body holds no
    database lock while it waits for bytes.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    with inst.unit_of_work() as db:
        principal = accounts.authenticate(db, token.strip())
    # Plain strings for the request log: the ORM objects expire if the request rolls back.
    request.state.actor = (principal.user.id, principal.device.id)
    return principal


# scope="function", said out loud: the transaction commits when the handler returns, before
# the response is sent. A device deletes a photo from its outbox on the 201 receipt, so a
# receipt must never precede a commit that could still fail; a failed commit is answered as
# the server error it is (tests/functional/test_commit_before_receipt.py).
Db = Annotated[Session, Depends(unit_of_work, scope="function")]
Auth = Annotated[Principal, Depends(current_session)]
Inst = Annotated[Instance, Depends(get_instance)]
Kdf = Annotated[KdfParams, Depends(kdf_params)]

# Object ids are 32 lowercase hex characters. A malformed id is the caller's own mistake and
# is answered as such (422 naming the field), never as "not found".
OBJECT_ID_PATTERN = r"^[0-9a-f]{32}$"
ObjectId = Annotated[
    str,
    Path(
        pattern=OBJECT_ID_PATTERN,
        min_length=32,
        max_length=32,
        description="An object id: 32 lowercase hexadecimal characters",
    ),
]
