"""Run a decoder we cannot audit in a child process with a deadline and a memory cap.

Converting TIFF, HEIF and AVIF means running large C decoders (libtiff, libheif, libde265,
libavif/dav1d) on untrusted bytes. Declared sizes are checked before they run, but a decoder
bug could still loop, allocate without bound or crash the process. :func:`run_isolated` runs
the work in a fresh Python interpreter (``python -I``: no Python environment variables, no
user site, no current directory on the path; and none of our environment but ``PATH`` and the
locale, so no secret such as ``CLINPHOTO_KEK`` reaches a decoder) that sets ``RLIMIT_AS`` to
:attr:`~clinphoto.imaging.limits.Limits.max_decoder_memory` before touching the data, and is
killed at :attr:`~clinphoto.imaging.limits.Limits.max_decode_seconds`. Whatever goes wrong
becomes a :class:`~clinphoto.imaging.errors.ScrubError`: ``timeout`` or ``decoder-crashed``,
or the work's own reason (``malformed``, naming the exception's type, for anything else it
raised). The records custodian runs every inspection this way.

A fresh interpreter rather than ``multiprocessing``: it neither re-imports the caller's
``__main__`` nor inherits locks held by the caller's threads. It costs about 0.1 s (start-up
and imports), paid only for conversions, which take longer than that anyway.

The pipe carries a pickle in each direction between this module and its own child; nothing
else ever writes to it, and the input picture travels inside it as plain bytes.
"""

from __future__ import annotations

import importlib
import os
import pickle  # only between this process and the child it started
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from clinphoto.imaging.errors import Reason, ScrubError
from clinphoto.imaging.limits import Limits

__all__ = ["run_isolated"]

T = TypeVar("T")

# The folder that holds the clinphoto package, put first on the child's path.
_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]);"
    " from clinphoto.imaging.sandbox import _child; _child()"
)


# What the child may see of our environment: nothing secret (CLINPHOTO_KEK, database URLs
# with passwords stay with the parent), only what locates programs and sets the locale.
_PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TMPDIR")


def _child_environment() -> dict[str, str]:
    return {k: os.environ[k] for k in _PASSED_ENVIRONMENT if k in os.environ}


def _limit_memory(limit: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child() -> None:
    """The child's main: read (module, function, args, memory), answer (ok, value, message)."""
    module, name, args, memory = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our parent
    # The answer travels on the original standard output; anything a library prints (a C
    # runtime's banner, a logger) goes to standard error instead of corrupting it.
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    answer: tuple[bool, Any, str]
    try:
        _limit_memory(memory)
        func = getattr(importlib.import_module(module), name)
        answer = (True, func(*args), "")
    except ScrubError as exc:
        answer = (False, exc.reason, exc.message)
    except MemoryError:
        answer = (False, "decoder-crashed", f"the decoder went over its {memory}-byte budget")
    except Exception as exc:  # noqa: BLE001 - the type names the failure; the message may not
        # Refused by the work itself (Pillow cannot read it, a detector is missing): the
        # same input would fail again, unlike a crash or an overrun.
        answer = (False, "malformed", f"the isolated work raised {type(exc).__name__}")
    channel.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    channel.flush()


def run_isolated(func: Callable[..., T], *args: Any, limits: Limits) -> T:
    """``func(*args)``, in a child interpreter when ``limits.isolate_decoders`` is set.

    ``func`` must be a module-level function of clinphoto, its arguments and result picklable.
    A :class:`ScrubError` raised by ``func`` is raised again here with the same reason.
    """
    if not limits.isolate_decoders:
        return func(*args)
    request = pickle.dumps(
        (func.__module__, func.__qualname__, args, limits.max_decoder_memory),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
            [sys.executable, "-I", "-c", _BOOT, _ROOT],
            input=request,
            capture_output=True,
            env=_child_environment(),
            timeout=limits.max_decode_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ScrubError(
            f"the decoder ran longer than {limits.max_decode_seconds:g} s and was stopped",
            reason="timeout",
        ) from None
    try:
        ok, value, message = pickle.loads(done.stdout)  # noqa: S301 - our own child's answer
    except Exception:  # noqa: BLE001 - no answer at all: the child died
        raise ScrubError(
            f"the decoder crashed (exit status {done.returncode})", reason="decoder-crashed"
        ) from None
    if not ok:
        reason: Reason = value
        raise ScrubError(message, reason=reason)
    result: T = value
    return result
