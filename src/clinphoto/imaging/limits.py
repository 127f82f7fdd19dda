"""Limits that bound the work and memory one input can cost (DEI-1: bombs never hang us)."""

from __future__ import annotations

from clinphoto.imaging.errors import ScrubError

__all__ = ["CUSTODIAN_LIMITS", "DEFAULT_LIMITS", "Limits", "check_animation", "check_size"]

MIB = 1024 * 1024

# What one input may cost, by default. Limits is written out rather than a dataclass: the
# dataclasses module imports inspect, ast and tokenize, about 6 ms of every `clinphoto scrub`
# start (decision 009).
_DEFAULTS: dict[str, int | float | bool] = {
    "max_image_bytes": 100 * MIB,
    "max_video_bytes": 4096 * MIB,
    "max_pixels": 100_000_000,  # per picture (width x height)
    "max_width": 30_000,
    "max_height": 30_000,
    "max_frames": 1_000,  # frames of an animated GIF, APNG or WebP
    "max_total_pixels": 1_000_000_000,  # sum over the frames of an animation
    "max_decode_seconds": 30.0,
    "max_decoder_memory": 4096 * MIB,
    # A picture that cannot be decoded at a reduced scale (JPEG can, see
    # ``inspect.open_for_inspection``) is not inspected beyond this many pixels.
    "max_decoded_pixels": 50_000_000,
    "isolate_decoders": True,
}


class Limits:
    """What one input may cost. Everything is checked from headers before any pixel is decoded.

    ``max_decode_seconds`` and ``max_decoder_memory`` bound the decoders we cannot audit
    (TIFF, HEIF, AVIF conversions): with ``isolate_decoders`` they run in a child process
    that is killed at the deadline and runs under an address-space limit, so a hang or a
    memory blow-up in C code becomes a :class:`~clinphoto.imaging.errors.ScrubError`.
    The records custodian runs every inspection that way (``CUSTODIAN_LIMITS``).

    Immutable; compared, hashed and pickled by value; :meth:`replace` makes a changed copy.
    """

    __slots__ = tuple(_DEFAULTS)

    max_image_bytes: int
    max_video_bytes: int
    max_pixels: int
    max_width: int
    max_height: int
    max_frames: int
    max_total_pixels: int
    max_decode_seconds: float
    max_decoder_memory: int
    max_decoded_pixels: int
    isolate_decoders: bool

    def __init__(self, **values: int | float | bool) -> None:
        unknown = set(values) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"Limits has no {', '.join(sorted(unknown))}")
        for name, default in _DEFAULTS.items():
            value = values.get(name, default)
            if not isinstance(value, bool) and value <= 0:
                raise ValueError(f"Limits.{name} must be positive, not {value!r}")
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[int | float | bool, ...]:
        return tuple(getattr(self, name) for name in _DEFAULTS)

    def replace(self, **changes: int | float | bool) -> Limits:
        """A copy with ``changes``, checked as a new one is."""
        return Limits(**(dict(zip(_DEFAULTS, self._values(), strict=True)) | changes))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Limits are immutable: use replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Limits are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _DEFAULTS)
        return f"Limits({fields})"

    def __reduce__(self) -> tuple[object, ...]:  # to the sandbox's child process and back
        return (_rebuild, (dict(zip(_DEFAULTS, self._values(), strict=True)),))


def _rebuild(values: dict[str, int | float | bool]) -> Limits:
    return Limits(**values)


DEFAULT_LIMITS = Limits()
# The records custodian's inspections (decode and detect, in the sandboxed child): a photo
# that takes longer or more memory is stopped and retried later, and the queue goes on.
CUSTODIAN_LIMITS = Limits(max_decode_seconds=60.0, max_decoder_memory=4096 * MIB)


def check_size(width: int, height: int, limits: Limits, what: str) -> None:
    """Refuse a picture whose declared size is empty or over the limits, before decoding it."""
    if width <= 0 or height <= 0:
        raise ScrubError(f"{what} declares an empty {width}x{height} picture", reason="malformed")
    if width > limits.max_width or height > limits.max_height:
        raise ScrubError(
            f"{what} declares {width}x{height} pixels; the limit is"
            f" {limits.max_width}x{limits.max_height}",
            reason="too-many-pixels",
        )
    if width * height > limits.max_pixels:
        raise ScrubError(
            f"{what} declares {width}x{height} = {width * height} pixels; the limit is"
            f" {limits.max_pixels}",
            reason="too-many-pixels",
        )


def check_animation(frames: int, total_pixels: int, limits: Limits, what: str) -> None:
    """Refuse an animation whose frames would decode to far more than its bytes suggest."""
    if frames > limits.max_frames:
        raise ScrubError(
            f"{what} has more than {limits.max_frames} frames", reason="decompression-bomb"
        )
    if total_pixels > limits.max_total_pixels:
        raise ScrubError(
            f"{what} frames add up to more than {limits.max_total_pixels} pixels",
            reason="decompression-bomb",
        )
